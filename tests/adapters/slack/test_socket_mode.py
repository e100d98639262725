"""Tokens from the environment, and the Socket Mode receiver."""

from __future__ import annotations

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack.adapter import SlackAdapter
from adapters.slack.app import HttpReceiver, SlackTokens, SocketReceiver, build_receiver
from bot.errors import ConfigError
from bot.messages import Fatal
from tests.adapters.slack.conftest import RecordingRouter, slack_settings
from tests.adapters.slack.fake_slack_api import APP_TOKEN, GOOD_TOKEN, FakeSlack


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


def command_payload(response_url: str, text: str = "week") -> dict[str, str]:
    return {
        "token": "deprecated",
        "team_id": "T0FAKE",
        "channel_id": "C0SOCK",
        "user_id": "U0SOCK",
        "command": "/recap",
        "text": text,
        "api_app_id": "A0APP",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


async def test_socket_mode_command_round_trip(fake_slack: FakeSlack) -> None:
    router = RecordingRouter()
    adapter = SlackAdapter(
        slack_settings(fake_slack, mode="socket"), SlackTokens(bot=GOOD_TOKEN, app=APP_TOKEN), router
    )
    await adapter.start()
    try:
        assert adapter.http_url is None  # nothing listens in Socket Mode
        await fake_slack.wait_for(lambda: bool(fake_slack.sockets))
        await fake_slack.push_slash_command("env-1", command_payload(fake_slack.response_url("s")))
        await fake_slack.wait_for(lambda: bool(fake_slack.responses) and bool(fake_slack.socket_acks))
    finally:
        await adapter.stop()
    assert fake_slack.socket_acks[0]["envelope_id"] == "env-1"  # acknowledged over the socket
    assert [(text, ctx.channel, ctx.user) for text, ctx in router.calls] == [
        ("recap week", "C0SOCK", "U0SOCK")
    ]
    assert fake_slack.responses[0]["key"] == "s"
    assert "ok: recap week" in fake_slack.responses[0]["text"]


async def test_socket_mode_rejected_app_token_is_fatal(fake_slack: FakeSlack) -> None:
    settings = slack_settings(fake_slack, mode="socket")
    adapter = SlackAdapter(settings, SlackTokens(bot=GOOD_TOKEN, app="xapp-wrong"))
    with pytest.raises(Fatal) as caught:
        await adapter.start()
    assert "SLACK_APP_TOKEN" in str(caught.value) and "xapp-wrong" not in str(caught.value)
    assert adapter.receiver is None and adapter.fatal_reason == str(caught.value)
    assert fake_slack.sockets == []
