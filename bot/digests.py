"""Scheduled digests: one APScheduler cron job per subscription, in the channel's time zone.

Routing holds stories for a channel's digest (below its alert threshold, or over its pace) as
"digest_item" rows. At the channel's digest time, `digest_job` bundles them into one delivery of
kind "digest", which the dispatcher sends through the same outbox as alerts. A channel without a
digest schedule still gets its pacing overflow once a day, at its digest time; a digest with
nothing in it is not sent.

Jobs are module-level functions taking plain ids (stable references, as in bot.scheduler); a sync
job re-reads the subscriptions every minute so new or changed schedules are picked up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.log import get_logger
from bot.models import Subscription
from bot.routing import parse_hhmm

if TYPE_CHECKING:
    from bot.store import Store

log = get_logger(__name__)

JOB_PREFIX = "digest:"
SYNC_JOB_ID = "digests.sync"
SYNC_INTERVAL_S = 60
WEEKLY_DAY = "mon"
MISFIRE_GRACE_S = 3600  # a digest an hour late is still worth sending

# app id -> (store, scheduler): jobs reference them by a plain string.
_TARGETS: dict[str, tuple[Store, BaseScheduler]] = {}


def schedule_of(sub: Subscription) -> str:
    """ "daily" or "weekly": the subscription's digest, or daily for its pacing overflow."""
    return sub.digest or "daily"


def job_id(subscription_id: int) -> str:
    return f"{JOB_PREFIX}{subscription_id}"


def trigger_for(sub: Subscription) -> CronTrigger:
    at = parse_hhmm(sub.digest_time)
    zone = ZoneInfo(sub.timezone)
    if schedule_of(sub) == "weekly":
        return CronTrigger(day_of_week=WEEKLY_DAY, hour=at.hour, minute=at.minute, timezone=zone)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)


async def enqueue_digest(store: Store, subscription_id: int, *, now: datetime) -> int | None:
    """Bundle the channel's held stories into one digest delivery; returns its id (None: nothing)."""
    sub = await store.subscriptions.get(subscription_id)
    if sub is None:
        return None
    held = await store.deliveries.held(sub.id)
    if not held:
        return None
    story_ids: list[str] = []
    for item in held:
        # A story that crossed the alert threshold later was alerted: no need to repeat it.
        if item.story_id in story_ids or sub.id in await store.deliveries.alerted_subscriptions(
            item.story_id
        ):
            continue
        story_ids.append(item.story_id)
    digest_id: int | None = None
    if story_ids:
        local = now.astimezone(ZoneInfo(sub.timezone))
        weekly = schedule_of(sub) == "weekly"
        title = f"Your {'weekly' if weekly else 'daily'} AI-infrastructure digest, {local:%d %b %Y}"
        digest_id = await store.deliveries.add(
            sub.id,
            f"digest:{local:%Y-%m-%dT%H:%M}",
            "digest",
            now=now,
            payload={"title": title, "period": "week" if weekly else "day", "stories": story_ids},
        )
    await store.deliveries.bundle([h.id for h in held], digest_id=digest_id)
    log.info("digest.enqueued", subscription=sub.id, stories=len(story_ids), delivery=digest_id)
    return digest_id


def sync_jobs(scheduler: BaseScheduler, app_id: str, subscriptions: list[Subscription]) -> int:
    """Make the scheduler's digest jobs match the subscriptions; returns how many exist."""
    wanted = {job_id(s.id): s for s in subscriptions}
    for job in scheduler.get_jobs():
        if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
            job.remove()
    for ident, sub in wanted.items():
        trigger = trigger_for(sub)
        existing = scheduler.get_job(ident)
        if existing is not None and str(existing.trigger) == str(trigger):
            continue
        scheduler.add_job(
            digest_job,
            trigger,
            args=[app_id, sub.id],
            id=ident,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_S,
        )
    return len(wanted)


async def digest_job(app_id: str, subscription_id: int) -> None:
    target = _TARGETS.get(app_id)
    if target is None:
        return
    try:
        await enqueue_digest(target[0], subscription_id, now=datetime.now(UTC))
    except Exception as exc:  # logged; the items stay held for the next digest
        log.error("job.digest_failed", subscription=subscription_id, error=f"{type(exc).__name__}: {exc}")


async def sync_job(app_id: str) -> None:
    target = _TARGETS.get(app_id)
    if target is None:
        return
    store, scheduler = target
    try:
        sync_jobs(scheduler, app_id, await store.subscriptions.list())
    except Exception as exc:
        log.error("job.digest_sync_failed", error=f"{type(exc).__name__}: {exc}")


def install(scheduler: BaseScheduler, app_id: str, store: Store, *, now: datetime | None = None) -> None:
    """Register the store and add the sync job (first run at once) that keeps digest jobs current."""
    _TARGETS[app_id] = (store, scheduler)
    scheduler.add_job(
        sync_job,
        "interval",
        seconds=SYNC_INTERVAL_S,
        args=[app_id],
        id=SYNC_JOB_ID,
        next_run_time=now or datetime.now(UTC),
        replace_existing=True,
    )


def uninstall(app_id: str) -> None:
    _TARGETS.pop(app_id, None)
