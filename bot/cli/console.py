"""`infrawire console`: type the chat commands (/subscribe chips min 60, /recap week) against the
configured store, as the local channel console:local, and see replies and alerts printed.

Lines are read from stdin until EOF (or `quit`), so a session can also be scripted:
    printf '/subscribe chips min 60\n/recap week\n' | infrawire console --config infrawire.toml
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from adapters.console import ConsoleAdapter
from bot.cli import add_config_option
from bot.commands import CommandRouter
from bot.config import Settings, load_settings
from bot.dispatch import Dispatcher
from bot.messages import ChannelRef, CommandContext
from bot.store import Store

CHANNEL = ChannelRef(platform="console", channel="local")
USER = "local"
INTRO = "infrawire console: you are channel console:local (admin). Type help, or quit to leave."


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "console", help="type chat commands (/subscribe, /recap week) as the local channel console:local"
    )
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    return asyncio.run(session(settings, sys.stdin, ConsoleAdapter()))


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def session(
    settings: Settings,
    lines: TextIO,
    adapter: ConsoleAdapter,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> int:
    """Run commands from `lines` until EOF; after each, deliver what is due to console:local."""
    store = await Store.open(settings.store.path)
    try:
        router = CommandRouter(store, settings)
        # Only the console adapter: this session delivers to console channels, never elsewhere.
        dispatcher = Dispatcher(store, {"console": adapter}, settings.dispatch)
        interactive = lines.isatty()
        if interactive:
            adapter.print_text(INTRO)
        await dispatcher.run_once(clock())
        while True:
            if interactive:
                adapter.console.print("> ", end="")
            raw = await asyncio.to_thread(lines.readline)
            if not raw:
                break
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.lstrip("/").lower() in ("quit", "exit"):
                break
            ctx = CommandContext(
                platform=CHANNEL.platform, channel=CHANNEL.channel, user=USER, now=clock(), is_admin=True
            )
            reply = await router.handle(line, ctx)
            if reply.message is not None:
                await adapter.send(CHANNEL, reply.message)
            elif reply.text:
                adapter.print_text(reply.text + "\n")
            await dispatcher.run_once(clock())
    finally:
        await store.close()
    return 0
