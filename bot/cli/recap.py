"""`infrawire recap --day|--week|--month [--topic T]`: print the recap of the stored stories."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

from adapters.console import ConsoleAdapter
from bot.cli import add_config_option
from bot.command_grammar import topic_name
from bot.config import Settings, load_settings
from bot.errors import InputError
from bot.messages import ChannelRef, DigestMessage
from bot.models import TOPICS
from bot.recap import build_recap, window
from bot.store import Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("recap", help="print the top stories of the past day, week or month")
    period = parser.add_mutually_exclusive_group()
    for name in ("day", "week", "month"):
        period.add_argument(
            f"--{name}", dest="period", action="store_const", const=name, help=f"the past {name}"
        )
    parser.add_argument("--topic", default=None, help="only this topic: " + ", ".join(TOPICS))
    add_config_option(parser)
    parser.set_defaults(func=run, period="day")


def run(args: argparse.Namespace) -> int:
    topic = None
    if args.topic is not None:
        topic = topic_name(args.topic)
        if topic is None:
            raise InputError(f"--topic: unknown topic {args.topic!r}; topics are {', '.join(TOPICS)}")
    settings = load_settings(args.config)
    digest = asyncio.run(recap(settings, period=args.period, topic=topic, now=datetime.now(UTC)))
    asyncio.run(ConsoleAdapter().send(ChannelRef(platform="console", channel="local"), digest))
    return 0


async def recap(settings: Settings, *, period: str, topic: str | None, now: datetime) -> DigestMessage:
    store = await Store.open(settings.store.path)
    try:
        start, end = window(period, now)
        stories = await store.stories.window(start, end + timedelta(seconds=1))
    finally:
        await store.close()
    return build_recap(stories, period=period, topic=topic, now=now)
