from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import scheduler as sched
from bot.app import App
from bot.config import parse_settings
from bot.models import Article

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Loop</title>
<item><title>Nvidia ships Blackwell GPUs to a new AI data center</title><link>https://loop.example/1</link>
<guid>1</guid>
<description>Nvidia shipped 10,000 Blackwell GPUs to a 100 MW AI data center.</description></item>
</channel></rss>"""


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=FEED, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/feed"))
    await server.close()


@pytest.fixture
async def app(tmp_path: Path, feed_url: str) -> AsyncIterator[App]:
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "s.db"), "retention_days": 30},
            "feeds": [{"url": feed_url, "allow_private": True, "backfill": True}],
        }
    )
    created = await App.create(settings, now=datetime.now(UTC), adapters={})
    yield created
    await created.close()


async def test_jobs_are_stable_module_functions_with_safe_defaults(app: App) -> None:
    scheduler = sched.build_scheduler("test-app", app, poll_tick_s=30)
    scheduler.start(paused=True)  # job defaults are applied when jobs reach the job store
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"poll", "dispatch", "retention", "digests.sync"}
        for job in (jobs["poll"], jobs["dispatch"], jobs["retention"]):
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == sched.MISFIRE_GRACE_S
            assert job.func.__module__ == "bot.scheduler" and job.args == ("test-app",)
        assert jobs["poll"].func is sched.poll_tick
    finally:
        scheduler.shutdown(wait=False)
        sched.unregister_app("test-app")


async def test_poll_tick_polls_due_feeds_and_retention_prunes(app: App) -> None:
    sched.register_app("tick-app", app)
    try:
        await sched.poll_tick("tick-app")
        [feed] = await app.store.feeds.list()
        assert feed.last_success_at is not None and feed.title == "Loop"
        assert await app.store.articles.count() == 1
        old = datetime.now(UTC) - timedelta(days=400)
        await app.store.articles.insert(Article(id="old", title="t", text="x", content_hash="h"), fetched=old)
        await sched.retention_tick("tick-app")
        assert await app.store.articles.get("old") is None and await app.store.articles.count() == 1
        await sched.poll_tick("unknown-app")  # a stale job id is a no-op, not a crash
    finally:
        sched.unregister_app("tick-app")
