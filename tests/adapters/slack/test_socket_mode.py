"""Tokens from the environment, and the Socket Mode receiver."""

from __future__ import annotations

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack.adapter import SlackAdapter
from adapters.slack.app import HttpReceiver, SlackTokens, SocketReceiver, build_receiver
from bot.errors import ConfigError
from tests.adapters.slack.conftest import slack_settings
from tests.adapters.slack.fake_slack_api import GOOD_TOKEN, FakeSlack


@pytest.mark.parametrize(
    ("mode", "env", "missing"),
    [
        ("http", {}, "SLACK_BOT_TOKEN"),
        ("http", {"SLACK_BOT_TOKEN": "xoxb-secret-1"}, "SLACK_SIGNING_SECRET"),
        ("socket", {"SLACK_BOT_TOKEN": "xoxb-secret-1"}, "SLACK_APP_TOKEN"),
        ("socket", {"SLACK_BOT_TOKEN": "xoxb-secret-1", "SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN"),
    ],
)
def test_missing_tokens_are_named_never_shown(mode: str, env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SlackTokens.from_env(mode, env)
    assert missing in str(caught.value)
    assert "xoxb-secret-1" not in str(caught.value)


def test_tokens_never_appear_in_repr() -> None:
    tokens = SlackTokens.from_env("socket", {"SLACK_BOT_TOKEN": "xoxb-s1", "SLACK_APP_TOKEN": "xapp-s2"})
    assert tokens.bot == "xoxb-s1" and tokens.app == "xapp-s2"
    assert "xoxb-s1" not in repr(tokens) and "xapp-s2" not in repr(tokens)


async def test_socket_mode_builds_bolts_socket_handler(fake_slack: FakeSlack) -> None:
    settings = slack_settings(fake_slack, mode="socket")
    tokens = SlackTokens(bot=GOOD_TOKEN, app="xapp-fake")
    adapter = SlackAdapter(settings, tokens)
    receiver = build_receiver(settings, adapter.bolt, tokens)
    assert isinstance(receiver, SocketReceiver)
    assert isinstance(receiver.handler, AsyncSocketModeHandler)
    assert receiver.handler.app is adapter.bolt
    assert receiver.handler.app_token == "xapp-fake"
    # Bolt's socket client talks to the configured Web API base URL (apps.connections.open).
    assert receiver.handler.client.web_client.base_url == fake_slack.base_url
    assert isinstance(build_receiver(slack_settings(fake_slack), adapter.bolt, tokens), HttpReceiver)
    await receiver.stop()  # releases the socket client's HTTP session
    assert receiver.handler.client.closed
