"""Every Slack failure the adapter can meet, produced by the fake Web API, as the right SendError."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.slack.adapter import SlackAdapter
from adapters.slack.errors import map_error
from bot.messages import (
    ChannelGone,
    ChannelRef,
    Fatal,
    Forbidden,
    RateLimited,
    TextMessage,
    Transient,
)
from tests.adapters.slack.fake_slack_api import FakeSlack


@pytest.mark.parametrize(
    ("channel", "expected", "words"),
    [
        ("CGONE", ChannelGone, "channel_not_found"),
        ("CNOTIN", ChannelGone, "not_in_channel"),
        ("CARCHIVED", ChannelGone, "is_archived"),
        ("CSCOPE", Forbidden, "chat:write scope"),
        ("CRESTRICTED", Forbidden, "restricted_action"),
        ("CINTERNAL", Transient, "internal_error"),
        ("CBROKEN", Transient, "HTTP 500"),
        ("CUNAVAILABLE", Transient, "HTTP 503"),
    ],
)
async def test_channel_errors_map_to_send_errors(
    make_adapter: Callable[..., SlackAdapter], channel: str, expected: type, words: str
) -> None:
    adapter = make_adapter()
    with pytest.raises(expected) as caught:
        await adapter.send(ChannelRef("slack", channel), TextMessage("hello"))
    assert type(caught.value) is expected
    assert words in str(caught.value)
    assert channel in str(caught.value) or expected is Fatal


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("xoxb-not-a-known-token", "invalid_auth"),
        ("xoxb-fake-revoked", "token_revoked"),
        ("xoxb-fake-inactive", "account_inactive"),
    ],
)
async def test_bad_tokens_are_fatal_at_start_with_a_clear_message(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack, token: str, code: str
) -> None:
    adapter = make_adapter(bot_token=token)
    with pytest.raises(Fatal) as caught:
        await adapter.start()
    message = str(caught.value)
    assert code in message and "SLACK_BOT_TOKEN" in message
    assert token not in message  # the token itself is never shown
    assert adapter.fatal_reason == message
    assert adapter.receiver is None  # nothing listens with a dead token
    # And every later send fails fast without calling Slack.
    calls = len(fake_slack.methods)
    with pytest.raises(Fatal):
        await adapter.send(ChannelRef("slack", "C1"), TextMessage("x"))
    assert len(fake_slack.methods) == calls


async def test_revoked_token_during_send_is_fatal(
    fake_slack: FakeSlack, make_adapter: Callable[..., SlackAdapter]
) -> None:
    adapter = make_adapter(bot_token="xoxb-fake-revoked")
    with pytest.raises(Fatal):
        await adapter.send(ChannelRef("slack", "C1"), TextMessage("x"))
    assert adapter.fatal_reason is not None and "token_revoked" in adapter.fatal_reason


async def test_429_is_rate_limited_with_retry_after(
    fake_slack: FakeSlack, make_adapter: Callable[..., SlackAdapter]
) -> None:
    fake_slack.rate_window_s = 30  # the second message is always inside the window
    adapter = make_adapter()  # paced at 1 s, still inside the fake's 30 s window
    await adapter.send(ChannelRef("slack", "C1"), TextMessage("one"))
    with pytest.raises(RateLimited) as caught:
        await adapter.send(ChannelRef("slack", "C1"), TextMessage("two"))
    assert caught.value.retry_after == 29
    assert [p.text for p in fake_slack.posted] == ["one"]
    # Another channel is not affected.
    await adapter.send(ChannelRef("slack", "C2"), TextMessage("three"))


async def test_network_failure_is_transient() -> None:
    # A port nothing listens on: connection refused.
    import socket

    from slack_sdk.web.async_client import AsyncWebClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AsyncWebClient(token="xoxb-x", base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[])
    with pytest.raises(Exception) as caught:
        await client.chat_postMessage(channel="C1", text="x")
    assert isinstance(map_error(caught.value, channel="C1"), Transient)


def test_unexpected_exceptions_are_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        map_error(ZeroDivisionError())


async def test_fatal_is_reported_once_and_cleared_by_a_good_start(
    make_adapter: Callable[..., SlackAdapter],
) -> None:
    events: list[str] = []

    async def on_fatal(reason: str) -> None:
        events.append("fatal: " + reason)

    async def on_healthy() -> None:
        events.append("healthy")

    bad = make_adapter(bot_token="xoxb-fake-revoked")
    bad.on_fatal, bad.on_healthy = on_fatal, on_healthy
    for _ in range(2):
        with pytest.raises(Fatal):
            await bad.check_auth()
    assert len(events) == 1 and events[0].startswith("fatal: ") and "token_revoked" in events[0]

    good = make_adapter()
    good.on_fatal, good.on_healthy = on_fatal, on_healthy
    await good.check_auth()
    assert events[-1] == "healthy"
    assert good.identity["team_id"] == "T0FAKE"
