"""create_adapter for a running app: token from the environment, faults recorded for `status`,
and /why's autocomplete searching the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.discord import create_adapter, create_webhook_adapter
from adapters.discord.adapter import DiscordAdapter
from bot.config import Settings, parse_settings
from bot.errors import ConfigError
from bot.messages import Fatal
from bot.models import Story
from bot.store import Store
from tests.adapters.discord.conftest import NOW, interaction, opt
from tests.adapters.discord.fake_discord_api import TOKEN, FakeDiscordAPI


@dataclass
class AppStub:
    """The two attributes of bot.app.App that create_adapter reads."""

    settings: Settings
    store: Store


@pytest.fixture
async def app(tmp_path: Path, fake_api: FakeDiscordAPI) -> AsyncIterator[AppStub]:
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "infrawire.db")},
            "discord": {
                "enabled": True,
                "api_base_url": fake_api.base_url,
                "webhooks": [{"name": "infra-alerts", "url_env": "IW_TEST_HOOK"}],
            },
        }
    )
    store = await Store.open(settings.store.path)
    try:
        yield AppStub(settings, store)
    finally:
        await store.close()


async def test_without_the_token_the_adapter_is_not_created(
    app: AppStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        create_adapter(app)


async def test_a_bad_token_stops_the_adapter_and_shows_in_status(
    app: AppStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")
    monkeypatch.setenv("DISCORD_TOKEN", "revoked-token-value")
    adapter = create_adapter(app)
    try:
        with pytest.raises(Fatal, match="DISCORD_TOKEN"):
            await adapter.start()
    finally:
        await adapter.stop()
    [fault] = await app.store.deliveries.adapter_faults()
    assert fault.platform == "discord" and "401" in fault.reason
    assert "revoked-token-value" not in fault.reason
    from bot.commands import CommandRouter
    from bot.messages import CommandContext

    reply = await CommandRouter(app.store, app.settings).handle(
        "status", CommandContext(platform="discord", channel="1", user="2", now=NOW, is_admin=True)
    )
    assert "discord" in reply.text and "DISCORD_TOKEN" in reply.text
    assert "revoked-token-value" not in reply.text


async def test_webhook_adapter_reads_its_url_from_the_named_variable(
    app: AppStub, fake_api: FakeDiscordAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IW_TEST_HOOK", raising=False)
    with pytest.raises(ConfigError, match="IW_TEST_HOOK"):
        create_webhook_adapter(app)
    monkeypatch.setenv("IW_TEST_HOOK", fake_api.add_webhook())
    adapter = create_webhook_adapter(app)
    await adapter.start()
    await adapter.stop()


async def test_why_autocomplete_searches_story_titles(app: AppStub, fake_api: FakeDiscordAPI) -> None:
    from bot.store.channels import search_story_titles

    for sid, title in (("s-1", "Grid operator approves 1.2 GW campus"), ("s-2", "Fab delays HBM line")):
        story = Story(id=sid, title=title, first_seen=NOW, last_seen=NOW, importance=60, topics=("energy",))
        await app.store.stories.save(story, now=NOW)

    async def search(fragment: str) -> list[tuple[str, str]]:
        return await search_story_titles(app.store.conn, fragment, limit=25)

    adapter = DiscordAdapter(app.settings.discord, TOKEN, gateway=False, story_search=search)
    await adapter.start()
    try:
        await adapter.client.tree._call(
            interaction(adapter.client, "why", [opt("story", "campus", focused=True)], kind=4)
        )
    finally:
        await adapter.stop()
    [callback] = fake_api.callbacks
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [
        {"name": "Grid operator approves 1.2 GW campus (s-1)", "value": "s-1"}
    ]


async def test_the_app_adapter_answers_commands_and_autocompletes_from_the_vocabulary(
    app: AppStub, fake_api: FakeDiscordAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")
    pytest.importorskip("bot.core.taxonomy", reason="the core is not in the tree yet")
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    adapter = create_adapter(app)
    await adapter.start()
    try:
        client = adapter.client
        await client.tree._call(
            interaction(client, "subscribe", [opt("entities", "nvid", focused=True)], kind=4)
        )
        await client.tree._call(interaction(client, "filters"))
    finally:
        await adapter.stop()
    complete, filters = fake_api.callbacks
    assert "Nvidia" in [c["value"] for c in complete["data"]["choices"]]
    assert filters["type"] == 4 and "no subscription" in filters["data"]["content"]
