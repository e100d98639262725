"""`infrawire demo`: the whole pipeline on the bundled sample feeds, offline, in a temporary database."""

from __future__ import annotations

import argparse
import asyncio
import time

from rich.console import Console

from bot.cli import add_config_option
from bot.config import load_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the pipeline on bundled sample feeds (offline)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    # A config file contributes its vocabulary, story window and summarizer; never its database.
    config = load_settings(args.config) if args.config else None
    console = Console()
    started = time.monotonic()
    result = asyncio.run(run_demo(console, config=config))
    console.print(
        f"\n[dim]demo: {result.feeds} feeds, {result.articles} items, {len(result.stories)} stories "
        f"in {time.monotonic() - started:.1f}s; the temporary database is gone.[/dim]"
    )
    return 1 if result.errors else 0
