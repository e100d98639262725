from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack.adapter import Pacer, SlackAdapter
from adapters.slack.app import CommandHandler, SlackTokens
from bot.config import SlackSettings
from bot.messages import CommandContext, Reply
from tests.adapters.slack.fake_slack_api import GOOD_TOKEN, TEAM_ID, FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake_slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    # The fake judges each channel's rate on the same fake clock the adapter's pacer sleeps on:
    # pacing is real and checked in every test, and no test waits for wall-clock seconds.
    fake = await FakeSlack(clock=clock).start()
    yield fake
    await fake.stop()


def slack_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "mode": "http",
        "http_host": "127.0.0.1",
        "http_path": "/slack/events",
        "api_base_url": fake.base_url,
    }
    values.update(overrides)
    # Port 0 (any free port) is below the config's minimum, so it is set after validation.
    return SlackSettings.model_validate(values).model_copy(update={"http_port": 0})


def tokens(bot: str = GOOD_TOKEN) -> SlackTokens:
    return SlackTokens(bot=bot, signing_secret=SIGNING_SECRET)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __post_init__(self) -> None:
        self.sleeps: list[float] = []


@pytest.fixture
def make_adapter(fake_slack: FakeSlack, clock: FakeClock) -> Callable[..., SlackAdapter]:
    def build(
        router: CommandHandler | None = None,
        *,
        bot_token: str = GOOD_TOKEN,
        pacer: Pacer | None = None,
        now: Callable[[], datetime] | None = None,
        **settings: Any,
    ) -> SlackAdapter:
        extra: dict[str, Any] = {"now": now} if now is not None else {}
        config = slack_settings(fake_slack, **settings)
        pacer = pacer or Pacer(config.pace_s, clock=clock, sleep=clock.sleep)
        return SlackAdapter(config, tokens(bot_token), router, pacer=pacer, **extra)

    return build


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def post_command(
    url: str,
    command: str,
    text: str = "",
    *,
    response_url: str,
    channel: str = "C0GENERAL",
    user: str = "U0ALICE",
    team: str = TEAM_ID,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    signature: str | None = None,
) -> tuple[int, str]:
    """A slash command exactly as Slack sends it: form-encoded, signed with the signing secret."""
    body = urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature if signature is not None else sign(body, ts, secret),
    }
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


class RecordingRouter:
    """Stands in for bot.commands.CommandRouter: records what the adapter passed, answers `reply`."""

    def __init__(self, reply: Callable[[str, CommandContext], Reply] | None = None):
        self.calls: list[tuple[str, CommandContext]] = []
        self.reply = reply or (lambda text, ctx: Reply(text=f"ok: {text}"))
        self.gate: asyncio.Event | None = None

    async def handle(self, text: str, ctx: CommandContext) -> Reply:
        self.calls.append((text, ctx))
        if self.gate is not None:
            await self.gate.wait()
        return self.reply(text, ctx)
