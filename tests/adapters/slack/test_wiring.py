"""create_adapter as bot.app calls it: tokens from the environment, commands through the real
router, and a fatal token problem recorded in the store where `status` shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters.slack import create_adapter
from adapters.slack.adapter import SlackAdapter
from bot.config import parse_settings
from bot.errors import ConfigError
from bot.messages import CommandContext, Fatal
from bot.store import Store
from tests.adapters.slack.conftest import SIGNING_SECRET, post_command
from tests.adapters.slack.fake_slack_api import GOOD_TOKEN, FakeSlack

pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")


def app_for(tmp_path: Path, fake: FakeSlack, store: Store) -> SimpleNamespace:
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "w.db")},
            "slack": {"enabled": True, "api_base_url": fake.base_url, "http_port": 3999},
        }
    )
    return SimpleNamespace(settings=settings, store=store)


async def test_missing_signing_secret_is_named(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_TOKEN)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    async with await Store.open(tmp_path / "w.db") as store:
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            create_adapter(app_for(tmp_path, fake_slack, store))


async def test_revoked_token_at_start_shows_in_status(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.commands import CommandRouter

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fake-revoked")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    async with await Store.open(tmp_path / "w.db") as store:
        app = app_for(tmp_path, fake_slack, store)
        adapter = create_adapter(app)
        assert isinstance(adapter, SlackAdapter)
        with pytest.raises(Fatal, match="token_revoked"):
            await adapter.start()
        ctx = CommandContext("console", "local", "me", datetime(2026, 11, 22, tzinfo=UTC))
        reply = await CommandRouter(store, app.settings).handle("status", ctx)
        assert "Adapter slack stopped" in reply.text and "token_revoked" in reply.text
        assert "xoxb-fake-revoked" not in reply.text

        # Fixed token: a good start clears the recorded fault.
        monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_TOKEN)
        healthy = create_adapter(app)
        await healthy.check_auth()
        reply = await CommandRouter(store, app.settings).handle("status", ctx)
        assert "Adapter slack" not in reply.text


async def test_the_app_builds_starts_and_stops_the_slack_adapter(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bot.core.triage", reason="the core is not in the tree yet")
    from bot.app import App

    monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "app.db")},
            "slack": {"enabled": True, "api_base_url": fake_slack.base_url},
        }
    )
    app = await App.create(settings, now=datetime(2026, 11, 22, tzinfo=UTC))
    try:
        adapter = app.adapters["slack"]
        assert isinstance(adapter, SlackAdapter)
        assert app.dispatcher.adapters["slack"] is adapter
        adapter.settings = adapter.settings.model_copy(update={"http_port": 0})  # any free port
        await app.start_adapters()
        assert adapter.http_url is not None
        status, _ = await post_command(
            adapter.http_url, "/infrawire", "status", response_url=fake_slack.response_url()
        )
        assert status == 200
        await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)
        assert fake_slack.responses[0]["text"].startswith("Feeds:")  # the real router's status
        assert fake_slack.responses[0]["response_type"] == "ephemeral"
    finally:
        await app.close()
    assert adapter.receiver is None
