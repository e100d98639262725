"""APScheduler jobs: poll tick, dispatch tick, retention.

Jobs are module-level functions that look the running App up by id, so they stay stable references
(APScheduler can serialise them, and replacing a job keeps its identity). Every job coalesces missed
runs, never overlaps itself, and tolerates a late start within the misfire grace time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import digests
from bot.log import get_logger
from bot.pipeline import utcnow
from bot.store.retention import prune

if TYPE_CHECKING:
    from bot.app import App

log = get_logger(__name__)

POLL_TICK_S = 30  # how often due feeds are looked for; each feed keeps its own schedule
RETENTION_INTERVAL_H = 6
MISFIRE_GRACE_S = 60

JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S}

# The apps whose jobs are scheduled, by id: jobs reference an app by a plain string.
_APPS: dict[str, App] = {}


def register_app(app_id: str, app: App) -> None:
    _APPS[app_id] = app


def unregister_app(app_id: str) -> None:
    _APPS.pop(app_id, None)
    digests.uninstall(app_id)


async def poll_tick(app_id: str) -> None:
    app = _APPS.get(app_id)
    if app is None:
        return
    try:
        async with app.job():
            await app.pipeline.poll_due(utcnow())
    except Exception as exc:  # a failed tick is logged; the next one tries again
        log.error("job.poll_failed", error=f"{type(exc).__name__}: {exc}")


async def dispatch_tick(app_id: str) -> None:
    app = _APPS.get(app_id)
    if app is None or app.dispatcher is None:
        return
    try:
        async with app.job():
            await app.dispatcher.run_once(utcnow())
    except Exception as exc:
        log.error("job.dispatch_failed", error=f"{type(exc).__name__}: {exc}")


async def retention_tick(app_id: str) -> None:
    app = _APPS.get(app_id)
    if app is None:
        return
    try:
        async with app.job():
            await prune(app.store.conn, now=utcnow(), days=app.settings.store.retention_days)
    except Exception as exc:
        log.error("job.retention_failed", error=f"{type(exc).__name__}: {exc}")


def build_scheduler(app_id: str, app: App, *, poll_tick_s: float = POLL_TICK_S) -> AsyncIOScheduler:
    """A scheduler with the poll, dispatch and retention jobs of `app` (not started).

    Digest jobs come from bot.digests (a sync job that follows the subscriptions).
    """
    register_app(app_id, app)
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults=dict(JOB_DEFAULTS))
    now = utcnow()
    scheduler.add_job(
        poll_tick,
        "interval",
        seconds=poll_tick_s,
        args=[app_id],
        id="poll",
        next_run_time=now,
        replace_existing=True,
    )
    scheduler.add_job(
        dispatch_tick,
        "interval",
        seconds=app.settings.dispatch.interval_s,
        args=[app_id],
        id="dispatch",
        next_run_time=now,
        replace_existing=True,
    )
    scheduler.add_job(
        retention_tick,
        "interval",
        hours=RETENTION_INTERVAL_H,
        args=[app_id],
        id="retention",
        replace_existing=True,
    )
    # Scheduled digests: one cron job per subscription, kept in step by bot.digests' sync job.
    digests.install(scheduler, app_id, app.store, now=now)
    return scheduler
