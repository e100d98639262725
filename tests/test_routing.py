from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Subscription
from bot.routing import Update, followup_note, has_word, match, plan, quiet_until, route_pending
from bot.store import Store
from tests.fixtures.channels import NOW, channel_store, make_story, save_story  # noqa: F401

CREATED = Update(id=1, kind="created")


def sub(sid: int = 1, **kw: object) -> Subscription:
    return Subscription(id=sid, platform="test", channel=f"C{sid}", **kw)  # type: ignore[arg-type]


STORY = make_story(
    "s1",
    "US widens export rules on Nvidia accelerators",
    importance=82,
    topics=("chips", "export-controls"),
    entities=("Nvidia", "BIS"),
)
TEXT = "The rules cover HBM stacks and advanced packaging; a rumor about AMD is denied."


def one(planned: list[Any]) -> Any:
    assert len(planned) == 1, planned
    return planned[0]


def test_words_match_whole_words_case_insensitively() -> None:
    assert has_word("New HBM3e stacks", "hbm3e")
    assert not has_word("HBM3e stacks", "HBM")
    assert has_word("a data-center campus", "data center")
    assert not has_word("metadata centers", "data center")
    assert not has_word("anything", "  ")


def test_filters_topic_entity_include_exclude() -> None:
    assert match(STORY, TEXT, sub(topics=("energy",))) is None
    assert match(STORY, TEXT, sub(topics=("export-controls", "energy"))) == ["matches topics export-controls"]
    assert match(STORY, TEXT, sub(entities=("nvidia",))) == ["entities nvidia"]
    assert match(STORY, TEXT, sub(entities=("AMD",))) == ["entities AMD"]  # found in the text
    assert match(STORY, TEXT, sub(entities=("Intel",))) is None
    assert match(STORY, TEXT, sub(include=("HBM", "CoWoS"))) == ["mentions HBM"]
    assert match(STORY, TEXT, sub(include=("CoWoS",))) is None
    assert match(STORY, TEXT, sub(exclude=("Rumor",))) is None
    assert match(STORY, TEXT, sub(exclude=("rumors",))) == ["all topics"]


def test_alert_above_threshold_with_why_line() -> None:
    planned = one(
        plan(
            STORY,
            TEXT,
            [sub(topics=("export-controls",), entities=("Nvidia",), min_importance=60)],
            update=CREATED,
            alerted=set(),
            recent_alerts={},
            now=NOW,
        )
    )
    assert planned.kind == "alert" and planned.not_before == NOW
    assert planned.why == (
        "matches topics export-controls; importance 82 >= 60; entities Nvidia"
    )


def test_below_threshold_goes_to_the_digest_only_when_the_channel_has_one() -> None:
    low = replace(STORY, importance=40)
    assert (
        plan(low, TEXT, [sub(min_importance=60)], update=CREATED, alerted=set(), recent_alerts={}, now=NOW)
        == []
    )
    for s in (sub(min_importance=60, mode="both", digest="daily"), sub(mode="digest", digest="daily")):
        planned = one(plan(low, TEXT, [s], update=CREATED, alerted=set(), recent_alerts={}, now=NOW))
        assert planned.kind == "digest_item"
    # digest mode never alerts, however important
    planned = one(
        plan(
            STORY,
            TEXT,
            [sub(mode="digest", digest="daily")],
            update=CREATED,
            alerted=set(),
            recent_alerts={},
            now=NOW,
        )
    )
    assert planned.kind == "digest_item"


def test_pacing_overflow_goes_to_the_digest() -> None:
    s = sub(max_alerts_per_hour=2)
    under = one(plan(STORY, TEXT, [s], update=CREATED, alerted=set(), recent_alerts={1: 1}, now=NOW))
    over = one(plan(STORY, TEXT, [s], update=CREATED, alerted=set(), recent_alerts={1: 2}, now=NOW))
    assert under.kind == "alert"
    assert over.kind == "digest_item"
    assert "over 2 alerts/hour" in over.why


def test_quiet_hours_defer_to_their_end_in_the_channel_zone() -> None:
    s = sub(quiet_hours=("22:00", "07:00"), timezone="Europe/Berlin")
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert quiet_until(s, night) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    early = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 05:00 in Berlin
    assert quiet_until(s, early) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert quiet_until(s, datetime(2026, 11, 21, 12, 0, tzinfo=UTC)) is None
    day_quiet = sub(quiet_hours=("12:00", "14:00"))
    assert quiet_until(day_quiet, datetime(2026, 11, 21, 13, 0, tzinfo=UTC)) == datetime(
        2026, 11, 21, 14, 0, tzinfo=UTC
    )
    planned = one(plan(STORY, TEXT, [s], update=CREATED, alerted=set(), recent_alerts={}, now=night))
    assert planned.kind == "alert"
    assert planned.not_before == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert "quiet hours" in planned.why


def test_an_alerted_story_gets_follow_ups_only_for_news() -> None:
    s = sub()
    same = Update(id=5, kind="outlet", detail="Wire Two")
    news = Update(id=6, kind="outlet", detail="Wire Two: $5.5 billion, AMD")
    facts = Update(id=7, kind="facts", detail="MI308")
    assert plan(STORY, TEXT, [s], update=same, alerted={1}, recent_alerts={}, now=NOW) == []
    assert plan(STORY, TEXT, [s], update=CREATED, alerted={1}, recent_alerts={}, now=NOW) == []
    follow = one(plan(STORY, TEXT, [s], update=news, alerted={1}, recent_alerts={1: 99}, now=NOW))
    assert (follow.kind, follow.update_id) == ("followup", 6)
    assert follow.followup == "Wire Two adds: $5.5 billion, AMD"
    assert followup_note(facts) == "New details: MI308"


async def test_route_pending_writes_rows_once_and_marks_updates(store: Store) -> None:
    alerts = await store.subscriptions.save(sub(topics=("chips",), min_importance=60), now=NOW)
    digest = await store.subscriptions.save(sub(2, mode="digest", digest="daily"), now=NOW)
    other = await store.subscriptions.save(sub(3, topics=("energy",)), now=NOW)
    await save_story(store, STORY, text=TEXT)
    assert await route_pending(store, NOW) == 2
    rows = {
        d.subscription_id: d
        for s in (alerts, digest, other)
        for d in await store.deliveries.for_subscription(s.id)
    }
    assert rows[alerts.id].kind == "alert" and rows[alerts.id].status == "pending"
    assert str(rows[alerts.id].payload["why"]).startswith("matches topics chips; importance 82 >= 60")
    assert rows[digest.id].kind == "digest_item" and rows[digest.id].status == "held"
    assert other.id not in rows
    assert await store.stories.unrouted_updates() == []
    # Routing again (nothing new) and re-routing the same update change nothing.
    assert await route_pending(store, NOW) == 0
    await store.conn.execute("UPDATE story_updates SET routed = 0")
    assert await route_pending(store, NOW) == 0
    # A later report with new figures: one follow-up in the alert channel only.
    update_id = await store.stories.add_update(
        "s1", "s1-a2", "outlet", now=NOW, detail="Wire Two: $5.5 billion"
    )
    assert await route_pending(store, NOW + timedelta(minutes=5)) == 1
    follow = await store.deliveries.for_subscription(alerts.id, kind="followup")
    assert [(f.update_id, f.payload["followup"]) for f in follow] == [
        (update_id, "Wire Two adds: $5.5 billion")
    ]


async def test_route_pending_paces_across_one_batch(store: Store) -> None:
    s = await store.subscriptions.save(sub(max_alerts_per_hour=2), now=NOW)
    for i in range(4):
        await save_story(store, make_story(f"p{i}", f"Paced story {i}", importance=90))
    await route_pending(store, NOW)
    kinds = [d.kind for d in await store.deliveries.for_subscription(s.id)]
    assert kinds == ["alert", "alert", "digest_item", "digest_item"]
    # An hour later the pace allows alerts again.
    await save_story(store, make_story("p9", "Later story", importance=90))
    await route_pending(store, NOW + timedelta(minutes=61))
    assert (await store.deliveries.for_subscription(s.id))[-1].kind == "alert"


async def test_route_pending_without_subscriptions_marks_updates(store: Store) -> None:
    await save_story(store, STORY)
    assert await route_pending(store, NOW) == 0
    assert await store.stories.unrouted_updates() == []


async def test_route_pending_drains_every_batch(store: Store) -> None:
    s = await store.subscriptions.save(sub(max_alerts_per_hour=60), now=NOW)
    for i in range(5):
        await save_story(store, make_story(f"b{i}", f"Batch story {i}", importance=90))
    assert await route_pending(store, NOW, batch=2) == 5
    assert len(await store.deliveries.for_subscription(s.id)) == 5
    assert await store.stories.unrouted_updates() == []
