from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.testing import RecordingAdapter
from bot import digests
from bot.dispatch import Dispatcher
from bot.models import Subscription
from bot.routing import route_pending
from bot.store import Store
from tests.fixtures.channels import NOW, channel_store, make_story, save_story  # noqa: F401


def sub(sid: int = 1, **kw: object) -> Subscription:
    return Subscription(id=sid, platform="test", channel=f"C{sid}", **kw)  # type: ignore[arg-type]


@pytest.fixture
def scheduler() -> Iterator[AsyncIOScheduler]:
    sched = AsyncIOScheduler(timezone="UTC")  # never started: jobs stay pending, triggers are real
    yield sched
    digests.uninstall("app-test")


def test_daily_and_weekly_cron_in_the_channel_zone() -> None:
    daily = digests.trigger_for(sub(digest="daily", digest_time="08:30", timezone="Europe/Berlin"))
    # NOW is Friday 20 Nov 2026 13:00 in Berlin: next is Saturday 08:30 Berlin = 07:30 UTC.
    assert daily.get_next_fire_time(None, NOW) == datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
    weekly = digests.trigger_for(sub(digest="weekly", digest_time="09:00", timezone="Asia/Tokyo"))
    assert weekly.get_next_fire_time(None, NOW) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday
    # Daylight saving: 09:00 New York is 13:00 UTC in October and 14:00 UTC after 1 Nov 2026.
    ny = digests.trigger_for(sub(digest="daily", digest_time="09:00", timezone="America/New_York"))
    first = ny.get_next_fire_time(None, datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 30, 13, 0, tzinfo=UTC)
    after = ny.get_next_fire_time(None, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    assert after == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    # A channel without a digest still gets its overflow once a day at its digest time.
    assert digests.schedule_of(sub()) == "daily"


def test_sync_jobs_adds_changes_and_removes(scheduler: AsyncIOScheduler) -> None:
    subs = [sub(1, digest="daily"), sub(2, digest="weekly", timezone="Europe/Paris")]
    assert digests.sync_jobs(scheduler, "app-test", subs) == 2
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"digest:1", "digest:2"}
    assert jobs["digest:1"].func is digests.digest_job and jobs["digest:1"].args == ("app-test", 1)
    assert jobs["digest:1"].func_ref == "bot.digests:digest_job"  # stable, serialisable
    changed = [sub(1, digest="daily", digest_time="18:00")]
    digests.sync_jobs(scheduler, "app-test", changed)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"digest:1"}
    assert "hour='18'" in str(jobs["digest:1"].trigger)


async def test_enqueue_bundles_held_stories_once(store: Store) -> None:
    s = await store.subscriptions.save(sub(0, mode="both", min_importance=70, digest="daily"), now=NOW)
    await save_story(store, make_story("low1", "Low one", importance=40))
    await save_story(store, make_story("low2", "Low two", importance=50))
    await save_story(store, make_story("high", "High", importance=90))
    await route_pending(store, NOW)
    assert [d.story_id for d in await store.deliveries.held(s.id)] == ["low1", "low2"]
    digest_id = await digests.enqueue_digest(store, s.id, now=NOW)
    assert digest_id is not None
    row = await store.deliveries.get(digest_id)
    assert row is not None and row.kind == "digest" and row.status == "pending"
    assert row.story_id == "digest:2026-11-20T12:00"
    assert row.payload["stories"] == ["low1", "low2"] and row.payload["period"] == "day"
    assert await store.deliveries.held(s.id) == []
    assert await digests.enqueue_digest(store, s.id, now=NOW) is None  # nothing new


async def test_a_story_alerted_later_is_not_repeated_in_the_digest(store: Store) -> None:
    s = await store.subscriptions.save(sub(0, mode="both", min_importance=70, digest="daily"), now=NOW)
    await save_story(store, make_story("rise", "Rising story", importance=50))
    await route_pending(store, NOW)
    # more outlets raised its importance over the threshold: it alerts now
    await store.stories.save(make_story("rise", "Rising story", importance=80), now=NOW)
    await store.stories.add_update("rise", "rise-a2", "outlet", now=NOW, detail="Wire Two")
    await route_pending(store, NOW)
    assert [d.kind for d in await store.deliveries.for_subscription(s.id)] == ["digest_item", "alert"]
    assert await digests.enqueue_digest(store, s.id, now=NOW) is None
    assert await store.deliveries.held(s.id) == []


async def test_jobs_find_the_store_by_app_id_and_go_through_the_outbox(
    store: Store, scheduler: AsyncIOScheduler
) -> None:
    s = await store.subscriptions.save(sub(0, mode="digest", digest="weekly", timezone="UTC"), now=NOW)
    await save_story(store, make_story("d1", "Digest story", importance=40))
    await route_pending(store, NOW)
    digests.install(scheduler, "app-test", store, now=NOW)
    assert scheduler.get_job(digests.SYNC_JOB_ID) is not None
    await digests.sync_job("app-test")
    assert scheduler.get_job(f"digest:{s.id}") is not None
    await digests.digest_job("app-test", s.id)
    await digests.digest_job("unknown-app", s.id)  # a stale job does nothing
    adapter = RecordingAdapter()
    assert await Dispatcher(store, {"test": adapter}).run_once(datetime.now(UTC)) == 1
    [digest] = adapter.digests()
    assert digest.title.startswith("Your weekly AI-infrastructure digest") and digest.period == "week"
    assert [i.story_id for sec in digest.sections for i in sec.items] == ["d1"]
