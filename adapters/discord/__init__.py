"""The Discord adapter: a discord.py bot (slash commands, embeds, threads) and a webhook-only mode.

This package is `adapters.discord`; inside it the real library is imported absolutely
(`import discord`), and `adapters/` is never put on sys.path, so nothing here shadows discord.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.commands import entity_names_of
from adapters.discord.webhook import WebhookAdapter
from bot.config import secret
from bot.errors import ConfigError

__all__ = ["DiscordAdapter", "WebhookAdapter", "create_adapter", "create_webhook_adapter"]

TOKEN_ENV = "DISCORD_TOKEN"


def create_adapter(app: Any) -> DiscordAdapter:
    """The bot adapter for a running App: commands go to its CommandRouter; a bad token is recorded
    as the adapter's fault so `status` shows it."""
    from bot.commands import CommandRouter

    token = secret(TOKEN_ENV)
    if token is None:
        raise ConfigError(f"discord.enabled is true but {TOKEN_ENV} is not set in the environment")
    router = CommandRouter(app.store, app.settings)

    async def record_fault(reason: str) -> None:
        await app.store.deliveries.record_adapter_fault("discord", reason, now=datetime.now(UTC))

    async def search(fragment: str) -> list[tuple[str, str]]:
        from bot.store.channels import search_story_titles

        return await search_story_titles(app.store.conn, fragment, limit=25)

    def entity_names() -> tuple[str, ...]:
        # The configured vocabulary (with the team's extension) names the entities people can pick.
        from bot.core.taxonomy import load_vocabulary

        return entity_names_of(load_vocabulary(app.settings.core.vocabulary))

    return DiscordAdapter(
        app.settings.discord,
        token,
        handler=router,
        entity_names=entity_names,
        story_search=search,
        on_fatal=record_fault,
    )


def create_webhook_adapter(app: Any) -> WebhookAdapter:
    """Webhook mode for a running App (no bot token needed)."""
    return WebhookAdapter.from_settings(app.settings.discord)
