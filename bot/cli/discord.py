"""`infrawire discord sync|invite-url|webhook`: publish the slash commands; print the link that adds
the bot; run a command (subscribe, filters, recap...) for a webhook-mode channel.

discord.py is imported only inside the commands (from adapters.discord), so `bot` itself never
depends on it and this module never shadows the real `discord` package (it is `bot.cli.discord`).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.cli import add_config_option
from bot.config import DiscordSettings, Settings, load_settings, secret
from bot.errors import ConfigError
from bot.messages import CommandContext, DigestMessage, Reply, TextMessage

TOKEN_ENV = "DISCORD_TOKEN"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("discord", help="sync slash commands or print the bot's invite URL")
    sub = parser.add_subparsers(dest="discord_command", metavar="ACTION", required=True)

    sync = sub.add_parser("sync", help="publish the slash commands (to discord.guild_ids, else globally)")
    sync.add_argument(
        "--global", dest="globally", action="store_true", help="sync globally even if guilds are set"
    )
    sync.set_defaults(func=run_sync)

    invite = sub.add_parser("invite-url", help="print the OAuth2 URL that adds the bot to a server")
    invite.add_argument("--application-id", type=int, default=None, help="default: discord.application_id")
    invite.set_defaults(func=run_invite_url)

    hook = sub.add_parser(
        "webhook",
        help="run a command for a webhook channel (webhook mode has no slash commands)",
        description="e.g. `infrawire discord webhook infra-alerts subscribe chips min 70 mode both`",
    )
    hook.add_argument("name", help="the webhook's name in [[discord.webhooks]]")
    hook.add_argument(
        "words", nargs=argparse.REMAINDER, help="the command, as after a slash (options go before NAME)"
    )
    hook.set_defaults(func=run_webhook)

    for child in (sync, invite, hook):
        add_config_option(child)


def invite_url_for(settings: DiscordSettings, application_id: int | None) -> str:
    app_id = application_id if application_id is not None else settings.application_id
    if app_id is None:
        raise ConfigError("an application id is needed: pass --application-id or set discord.application_id")
    from adapters.discord.client import invite_url

    return invite_url(app_id)


def run_invite_url(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(invite_url_for(settings.discord, args.application_id))
    return 0


async def sync_commands(settings: DiscordSettings, token: str, *, globally: bool = False) -> dict[str, int]:
    """Log in over REST only (no gateway) and publish the command definitions."""
    from adapters.discord.adapter import DiscordAdapter

    adapter = DiscordAdapter(settings, token, gateway=False)
    try:
        await adapter.start()
        return await adapter.sync_commands([] if globally else None)
    finally:
        await adapter.stop()


def run_sync(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    settings = load_settings(args.config)
    token = secret(TOKEN_ENV, env)
    if token is None:
        raise ConfigError(f"{TOKEN_ENV} is not set in the environment")
    from bot.messages import SendError

    try:
        synced = asyncio.run(sync_commands(settings.discord, token, globally=args.globally))
    except SendError as exc:
        raise ConfigError(f"discord sync failed: {exc}") from None
    for where, count in synced.items():
        target = "globally" if where == "global" else f"to guild {where}"
        print(f"synced {count} commands {target}")
    return 0


async def webhook_command(settings: Settings, name: str, text: str, *, now: datetime) -> Reply:
    """Run one command for the webhook channel `name`, as its (trusted, local) operator."""
    from bot.commands import CommandRouter
    from bot.store import Store

    names = [hook.name for hook in settings.discord.webhooks]
    if name not in names:
        known = ", ".join(names) or "none"
        raise ConfigError(f"no Discord webhook named {name!r} in [[discord.webhooks]] (configured: {known})")
    store = await Store.open(settings.store.path)
    try:
        ctx = CommandContext(platform="webhook", channel=name, user="cli", now=now, is_admin=True)
        return await CommandRouter(store, settings).handle(text, ctx)
    finally:
        await store.close()


def reply_lines(reply: Reply) -> list[str]:
    lines = [reply.text] if reply.text else []
    message = reply.message
    if isinstance(message, DigestMessage):
        if message.title != reply.text:
            lines.append(message.title)
        for section in message.sections:
            lines.append(f"{section.topic}:")
            lines += [f"  - {item.title} ({item.importance}): {item.line}" for item in section.items]
        if not message.sections and message.empty_note:
            lines.append(message.empty_note)
    elif isinstance(message, TextMessage):
        lines.append(message.text)
    return lines


def run_webhook(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    text = shlex.join(args.words) if args.words else "help"
    reply = asyncio.run(webhook_command(settings, args.name, text, now=datetime.now(UTC)))
    print("\n".join(reply_lines(reply)))
    return 0
