"""Slack: slack-bolt AsyncApp (HTTP or Socket Mode), Block Kit rendering, Web API error mapping.

Importing this package is cheap and does not import slack_bolt (the CLI's manifest command uses
adapters.slack.manifest without the SDK); the adapter is built by `create_adapter`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

__all__ = ["create_adapter"]


def create_adapter(app: Any) -> SlackAdapter:
    """Build the adapter for bot.app.App: tokens from the environment, commands through bot.commands."""
    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.app import SlackTokens
    from bot.commands import CommandRouter

    settings = app.settings.slack
    tokens = SlackTokens.from_env(settings.mode)
    kwargs: dict[str, Any] = {}
    feed_checker = getattr(app, "feed_checker", None)
    if feed_checker is not None:
        kwargs["feed_checker"] = feed_checker
    router = CommandRouter(app.store, app.settings, **kwargs)
    deliveries = getattr(app.store, "deliveries", None)

    async def on_fatal(reason: str) -> None:
        # Recorded where `status` reads adapter faults, so the reason outlives the process.
        if deliveries is not None:
            await deliveries.record_adapter_fault("slack", reason, now=datetime.now(UTC))

    async def on_healthy() -> None:
        if deliveries is not None:
            await deliveries.clear_adapter_fault("slack")

    return SlackAdapter(settings, tokens, router, on_fatal=on_fatal, on_healthy=on_healthy)
