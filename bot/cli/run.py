"""`infrawire run --config PATH`: the long-running bot (scheduler, adapters, outbox)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from bot.cli import add_config_option
from bot.config import Settings, load_settings
from bot.log import configure


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the bot until SIGINT/SIGTERM")
    add_config_option(parser)
    parser.add_argument(
        "--poll-tick", type=float, default=None, metavar="SECONDS", help="how often to look for due feeds"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    configure(settings.log_level)
    asyncio.run(_main(settings, args.poll_tick))
    return 0


async def _main(settings: Settings, poll_tick: float | None) -> None:
    from bot.app import App, run_forever

    app = await App.create(settings, now=datetime.now(UTC))
    await run_forever(app, poll_tick_s=poll_tick)
