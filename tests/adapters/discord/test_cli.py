"""`infrawire discord invite-url` and `infrawire discord sync`."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import bot.cli
from bot.cli import discord as discord_cli
from bot.config import DiscordSettings
from bot.errors import ConfigError
from bot.messages import Fatal
from tests.adapters.discord.conftest import GUILD_ID
from tests.adapters.discord.fake_discord_api import TOKEN, FakeDiscordAPI

# View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads,
# Send Messages in Threads: the bits Discord documents for each.
EXPECTED_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)
COMMANDS = {"subscribe", "unsubscribe", "filters", "recap", "feeds", "status", "why", "help"}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="infrawire")
    discord_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_the_group_is_registered_with_the_cli() -> None:
    assert "bot.cli.discord" in bot.cli.COMMAND_MODULES


def test_invite_url_has_the_scopes_and_exactly_the_permissions_used(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = _parse(["discord", "invite-url", "--application-id", "123456789012345678"])
    assert args.func(args) == 0
    url = capsys.readouterr().out.strip()
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).netloc == "discord.com"
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"][0].split() == ["bot", "applications.commands"]
    assert int(query["permissions"][0]) == EXPECTED_PERMISSIONS


def test_invite_url_takes_the_application_id_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "infrawire.toml"
    config.write_text("[discord]\napplication_id = 987654321098765432\n", encoding="utf-8")
    args = _parse(["discord", "invite-url", "--config", str(config)])
    args.func(args)
    assert "client_id=987654321098765432" in capsys.readouterr().out


def test_invite_url_without_an_application_id_says_how_to_give_one() -> None:
    args = _parse(["discord", "invite-url"])
    with pytest.raises(ConfigError, match=r"--application-id or set discord\.application_id"):
        args.func(args)


def test_sync_needs_the_token_in_the_environment() -> None:
    args = _parse(["discord", "sync"])
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        discord_cli.run_sync(args, env={})


async def test_sync_publishes_every_command_to_the_configured_guilds(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings
) -> None:
    synced = await discord_cli.sync_commands(discord_settings, TOKEN)
    assert synced == {str(GUILD_ID): len(COMMANDS)}
    published = fake_api.commands[str(GUILD_ID)]
    assert {c["name"] for c in published} == COMMANDS
    feeds = next(c for c in published if c["name"] == "feeds")
    assert int(feeds["default_member_permissions"]) == 1 << 4
    assert {o["name"] for o in feeds["options"]} == {"list", "add", "remove"}
    assert "global" not in fake_api.commands


async def test_sync_globally(fake_api: FakeDiscordAPI, discord_settings: DiscordSettings) -> None:
    synced = await discord_cli.sync_commands(discord_settings, TOKEN, globally=True)
    assert synced == {"global": len(COMMANDS)}
    assert {c["name"] for c in fake_api.commands["global"]} == COMMANDS


async def test_sync_with_a_bad_token_is_fatal(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings
) -> None:
    with pytest.raises(Fatal, match="DISCORD_TOKEN"):
        await discord_cli.sync_commands(discord_settings, "wrong")
    assert fake_api.commands == {}


def _webhook_config(tmp_path: Path) -> Path:
    config = tmp_path / "infrawire.toml"
    config.write_text(
        '[store]\npath = "infrawire.db"\n\n'
        '[[discord.webhooks]]\nname = "infra-alerts"\nurl_env = "IW_HOOK_URL"\n',
        encoding="utf-8",
    )
    return config


def test_webhook_channels_subscribe_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")
    import asyncio

    from bot.store import Store

    config = _webhook_config(tmp_path)
    argv = ["discord", "webhook", "--config", str(config), "infra-alerts"]
    args = _parse([*argv, "subscribe", "chips", "min", "70", "entity", "Aligned Data Centers"])
    assert args.func(args) == 0
    assert "Subscribed" in capsys.readouterr().out

    async def stored() -> object:
        store = await Store.open(tmp_path / "infrawire.db")
        try:
            return await store.subscriptions.get_by_channel("webhook", "infra-alerts")
        finally:
            await store.close()

    sub = asyncio.run(stored())
    assert sub is not None
    assert sub.topics == ("chips",) and sub.min_importance == 70  # type: ignore[attr-defined]
    assert sub.entities == ("Aligned Data Centers",)  # type: ignore[attr-defined]

    args = _parse([*argv, "filters"])
    args.func(args)
    assert "min importance: 70" in capsys.readouterr().out


def test_webhook_command_names_an_unknown_webhook(tmp_path: Path) -> None:
    pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")
    args = _parse(["discord", "webhook", "--config", str(_webhook_config(tmp_path)), "elsewhere", "filters"])
    with pytest.raises(ConfigError, match=r"no Discord webhook named 'elsewhere'.*infra-alerts"):
        args.func(args)
