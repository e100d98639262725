"""`infrawire demo`: the whole pipeline on bundled sample feeds, offline, on a fresh database.

The sample feeds are served by a loopback aiohttp server and polled through the real fetch and parse
path, then the core, the store, the console adapter's cards (one per story, most important first)
and a weekly recap. `now` is fixed just after the sample feeds' dates so the recap covers them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from aiohttp import web
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from adapters.console import ConsoleAdapter
from bot.config import Settings, parse_settings
from bot.messages import CardMessage, ChannelRef
from bot.models import Story
from bot.recap import build_recap

# Just after the sample feeds' dates (13 Nov 07:00 to 19 Nov 19:00 UTC), so that the weekly window
# ending here holds every one of them.
DEMO_NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
_CONTENT_TYPES = {
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
}


@dataclass
class DemoResult:
    feeds: int = 0
    articles: int = 0
    relevant: int = 0
    stories: list[Story] = field(default_factory=list)  # in the order their cards were printed
    titles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # story id -> its items' titles
    errors: list[str] = field(default_factory=list)


def demo_feed_files(folder: Path | None = None) -> list[Path]:
    """The bundled sample feeds (bot/data/demo/), sorted by name."""
    folder = folder or Path(str(resources.files("bot") / "data" / "demo"))
    return sorted(p for p in folder.iterdir() if p.suffix in _CONTENT_TYPES)


def _content_type(path: Path) -> str:
    # "policy.atom.xml" is Atom even though it ends in .xml.
    kinds = [_CONTENT_TYPES[s] for s in path.suffixes if s in _CONTENT_TYPES]
    return next((k for k in kinds if "atom" in k), kinds[-1])


async def serve_feeds(files: Sequence[Path]) -> tuple[web.AppRunner, str]:
    """Serve the files on 127.0.0.1 (a free port) with ETag support; returns (runner, base URL)."""
    by_name = {p.name: p for p in files}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = by_name.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        body = path.read_bytes()
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"ETag": etag, "Content-Type": _content_type(path) + "; charset=utf-8"}
        )

    app = web.Application()
    app.router.add_get("/feeds/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/feeds/"


def demo_settings(db_path: Path, base: Settings | None = None) -> Settings:
    """The demo's settings: a config file's core and summarizer choices (if given), but always a
    fresh database, only the sample feeds, and no chat platform."""
    if base is None:
        return parse_settings({"store": {"path": str(db_path)}}, source="demo")
    data = base.model_dump()
    data.update(store={"path": str(db_path)}, feeds=[])
    data["slack"]["enabled"] = False
    data["discord"]["enabled"] = False
    data["discord"]["webhooks"] = []
    return parse_settings(data, source="demo")


async def run_demo(
    console: Console,
    *,
    now: datetime = DEMO_NOW,
    feed_folder: Path | None = None,
    workdir: Path | None = None,
    config: Settings | None = None,
) -> DemoResult:
    from bot.app import App

    files = demo_feed_files(feed_folder)
    result = DemoResult(feeds=len(files))
    runner, base = await serve_feeds(files)
    with tempfile.TemporaryDirectory(prefix="infrawire-demo-") as tmp:
        folder = workdir or Path(tmp)
        settings = demo_settings(folder / "demo.db", config)
        app = await App.create(settings, now=now, adapters={})
        try:
            for path in files:
                # Sample feeds live on loopback, like a config feed that opts out of the SSRF guard;
                # backfill because their items are days old at the demo's `now`.
                await app.store.feeds.add(
                    base + path.name, now=now, title=None, allow_private=True, backfill=True, added_by="demo"
                )
            with Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("polling sample feeds", total=len(files))
                app.pipeline.on_feed_done = lambda outcome: progress.advance(task)
                report = await app.pipeline.poll_due(now)
                progress.update(task, description="building stories and cards")
            result.articles = report.new_articles
            result.relevant = report.relevant
            result.errors = [f"{f.url}: {f.error}" for f in report.feeds if f.error]
            stories = await app.store.stories.window(now - timedelta(days=7), now + timedelta(seconds=1))
            result.stories = stories
            for story in stories:
                stored = await app.store.articles.by_story(story.id)
                result.titles[story.id] = tuple(s.article.title for s in stored)
            console.rule(
                f"[bold]{len(stories)} stories from {result.articles} items "
                f"({result.relevant} relevant) in {result.feeds} feeds"
            )
            await print_cards(console, stories)
            console.rule("[bold]Weekly recap")
            await print_recap(console, stories, now=now)
            for error in result.errors:
                console.print(f"[red]feed error:[/red] {error}")
        finally:
            await app.close()
            await runner.cleanup()
    return result


def card_message(story: Story) -> CardMessage:
    assert story.card is not None
    return CardMessage(
        story_id=story.id,
        card=story.card,
        importance=story.importance,
        topics=story.topics,
        why_posted=story.explanation,
        published=story.first_seen,
    )


async def print_cards(console: Console, stories: Sequence[Story]) -> None:
    """One card per story through the console adapter (most important first, as given)."""
    adapter = ConsoleAdapter(console)
    channel = ChannelRef(platform="console", channel="demo")
    for story in stories:
        if story.card is not None:
            await adapter.send(channel, card_message(story))


async def print_recap(console: Console, stories: Sequence[Story], *, now: datetime) -> None:
    digest = build_recap(stories, period="week", topic=None, now=now)
    await ConsoleAdapter(console).send(ChannelRef(platform="console", channel="demo"), digest)
