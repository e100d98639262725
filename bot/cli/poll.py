"""`infrawire poll --once`: poll every due feed once, store what is new, and exit."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli import add_config_option
from bot.config import Settings, load_settings
from bot.log import configure

if TYPE_CHECKING:
    from bot.pipeline import PollReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("poll", help="poll the due feeds")
    parser.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    parser.add_argument("--all", action="store_true", help="poll every enabled feed, due or not")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    configure(settings.log_level)
    report = asyncio.run(poll_once(settings, due_all=args.all))
    print(
        f"polled {len(report.feeds)} feeds: {report.new_articles} new articles, {report.relevant} relevant, "
        f"{len(report.stories_created)} new stories, {len(report.stories_updated)} updated, "
        f"{report.errors} failing, {report.deliveries} deliveries queued"
    )
    for outcome in report.feeds:
        if outcome.error:
            print(f"  feed {outcome.feed_id} {outcome.url}: {outcome.status}: {outcome.error}")
    return 1 if report.feeds and report.errors == len(report.feeds) else 0


async def poll_once(settings: Settings, *, due_all: bool = False) -> PollReport:
    from bot.app import App  # imported here so `infrawire --help` works without the full stack

    now = datetime.now(UTC)
    app = await App.create(settings, now=now, adapters={})
    try:
        if due_all:
            for feed in await app.store.feeds.list():
                if feed.enabled:
                    await app.store.feeds.mark_checking(feed.id, now=now, next_check_at=now)
        return await app.pipeline.poll_due(now)
    finally:
        await app.close()
