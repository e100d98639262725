"""Fixtures: the fake Discord API on loopback, discord.py pointed at it, cards and interactions."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import discord.http
import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.config import DiscordSettings
from bot.messages import CardMessage, CommandContext, Reply
from bot.models import Card, SourceRef
from tests.adapters.discord.fake_discord_api import APPLICATION_ID, TOKEN, FakeDiscordAPI

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GUILD_ID = 1_300_000_000_000_000_001
CHANNEL_ID = 1_300_000_000_000_000_010
USER_ID = 1_300_000_000_000_000_100
MANAGE_CHANNELS = 1 << 4
VIEW_AND_SEND = (1 << 10) | (1 << 11)

_interaction_ids = itertools.count(1_400_000_000_000_000_000)


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeDiscordAPI]:
    api = FakeDiscordAPI()
    await api.start()
    saved = discord.http.Route.BASE
    discord.http.Route.BASE = api.base_url
    try:
        yield api
    finally:
        discord.http.Route.BASE = saved
        await api.close()


@pytest.fixture
def discord_settings(fake_api: FakeDiscordAPI) -> DiscordSettings:
    return DiscordSettings.model_validate(
        {"enabled": True, "api_base_url": fake_api.base_url, "guild_ids": [GUILD_ID]}
    )


@dataclass
class RecordingHandler:
    """Stands in for CommandRouter where a test checks only what text a slash command produces."""

    reply: Reply = field(default_factory=lambda: Reply(text="ok", ephemeral=False))
    calls: list[tuple[str, CommandContext]] = field(default_factory=list)

    async def handle(self, text: str, ctx: CommandContext) -> Reply:
        self.calls.append((text, ctx))
        return self.reply


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
async def adapter(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings, handler: RecordingHandler
) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(
        discord_settings,
        TOKEN,
        handler=handler,
        gateway=False,
        clock=lambda: NOW,
        entity_names=lambda: ENTITIES,
    )
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


ENTITIES = ("Nvidia", "TSMC", "AMD", "Microsoft Azure", "Amazon Web Services", "Intel")


def make_card(**overrides: Any) -> Card:
    base: dict[str, Any] = {
        "title": "Chipmaker widens export licence requests for accelerators",
        "what_changed": "A chipmaker filed new export licence requests covering two accelerator lines.",
        "why_it_matters": "Licence timing decides which buyers get accelerators this quarter.",
        "who_should_care": ("procurement", "cloud operators"),
        "what_to_do_next": "Check open orders against the affected product lines.",
        "key_takeaways": ("Two accelerator lines are covered.", "Decisions are expected within weeks."),
        "future_implications": ("More licence filings may follow.",),
        "timeline": (),
        "sources": (SourceRef("Chip Wire", "https://chipwire.example/a/1"),),
        "backend": "extractive",
    }
    base.update(overrides)
    return Card(**base)


def make_card_message(**overrides: Any) -> CardMessage:
    card = overrides.pop("card", None) or make_card()
    base: dict[str, Any] = {
        "story_id": "s-abc123",
        "card": card,
        "importance": 82,
        "topics": ("chips", "export-controls"),
        "why_posted": "matches chips; importance 82 >= 70",
        "published": NOW,
    }
    base.update(overrides)
    return CardMessage(**base)


def interaction(
    client: discord.Client,
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    channel_id: int = CHANNEL_ID,
    guild_id: int = GUILD_ID,
    user_id: int = USER_ID,
    permissions: int = VIEW_AND_SEND | MANAGE_CHANNELS,
    kind: int = 2,
) -> discord.Interaction[Any]:
    """A slash-command interaction as Discord would deliver it over the gateway."""
    iid = next(_interaction_ids)
    payload: dict[str, Any] = {
        "id": str(iid),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": f"itoken-{iid}",
        "version": 1,
        "attachment_size_limit": 8_388_608,
        "guild_id": str(guild_id),
        "channel_id": str(channel_id),
        "channel": {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": "infra-alerts",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
        "member": {
            "user": {"id": str(user_id), "username": "ana", "discriminator": "0", "avatar": None},
            "roles": [],
            "joined_at": "2026-01-05T10:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        },
        "app_permissions": str(VIEW_AND_SEND),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
        "data": {"id": "1", "name": name, "type": 1, "options": options or []},
    }
    return discord.Interaction(data=payload, state=client._connection)  # type: ignore[arg-type]


def opt(name: str, value: Any, *, kind: int = 3, focused: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        option["focused"] = True
    return option
