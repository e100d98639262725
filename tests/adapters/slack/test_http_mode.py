"""Slash commands as real signed HTTP requests at the running HTTP mode server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.adapter import SlackAdapter
from bot.messages import CommandContext, DigestItem, DigestMessage, DigestSection, Reply
from bot.models import SourceRef
from tests.adapters.slack.conftest import RecordingRouter, post_command
from tests.adapters.slack.fake_slack_api import TEAM_ID, FakeSlack

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
async def running(
    make_adapter: Callable[..., SlackAdapter],
) -> AsyncIterator[Callable[..., object]]:
    started: list[SlackAdapter] = []

    async def start(router: RecordingRouter, **settings: object) -> SlackAdapter:
        adapter = make_adapter(router, now=lambda: NOW, **settings)
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


async def test_signed_command_reaches_the_router_and_answers_ephemerally(
    running: Callable[..., object], fake_slack: FakeSlack
) -> None:
    router = RecordingRouter()
    adapter: SlackAdapter = await running(router)  # type: ignore[misc]
    assert adapter.http_url is not None
    status, body = await post_command(
        adapter.http_url,
        "/subscribe",
        "chips   min 70",
        response_url=fake_slack.response_url("a"),
        channel="C0CHIPS",
        user="U0BOB",
    )
    assert status == 200
    assert body == ""  # an empty ack; the answer goes to the response_url
    await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)
    text, ctx = router.calls[0]
    assert text == "subscribe chips min 70"
    assert ctx == CommandContext(
        platform="slack", channel="C0CHIPS", user="U0BOB", now=NOW, workspace=TEAM_ID, is_admin=False
    )
    response = fake_slack.responses[0]
    assert response["key"] == "a"
    assert response["response_type"] == "ephemeral"
    assert "ok: subscribe chips min 70" in response["blocks"][0]["text"]["text"]


async def test_ack_does_not_wait_for_slow_work(running: Callable[..., object], fake_slack: FakeSlack) -> None:
    router = RecordingRouter()
    router.gate = asyncio.Event()  # the command cannot finish until the test allows it
    adapter: SlackAdapter = await running(router)  # type: ignore[misc]
    assert adapter.http_url is not None
    status, _ = await post_command(adapter.http_url, "/recap", "week", response_url=fake_slack.response_url())
    assert status == 200  # acknowledged while the recap is still blocked
    assert router.calls and not fake_slack.responses
    router.gate.set()
    await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)


async def test_umbrella_command_and_prefix(running: Callable[..., object], fake_slack: FakeSlack) -> None:
    router = RecordingRouter()
    adapter: SlackAdapter = await running(router, command_prefix="iw-")  # type: ignore[misc]
    url = adapter.http_url
    assert url is not None
    for command, text in (("/infrawire", "recap week chips"), ("/infrawire", ""), ("/iw-recap", "month")):
        status, _ = await post_command(url, command, text, response_url=fake_slack.response_url())
        assert status == 200
    await fake_slack.wait_for(lambda: len(fake_slack.responses) == 3)
    assert sorted(t for t, _ in router.calls) == ["help", "recap month", "recap week chips"]
    # Without the prefix the name belongs to some other app: not ours to answer.
    status, _ = await post_command(url, "/recap", "week", response_url=fake_slack.response_url())
    assert status == 404
    assert len(router.calls) == 3


async def test_recap_posts_a_digest_to_the_channel(
    running: Callable[..., object], fake_slack: FakeSlack
) -> None:
    digest = DigestMessage(
        title="Top AI-infrastructure stories, week to 22 Nov 2026",
        period="week",
        sections=(
            DigestSection(
                "chips",
                (
                    DigestItem(
                        "s1",
                        "Accelerator ships",
                        "It shipped.",
                        80,
                        (SourceRef("Chip Wire", "https://c.example/1"),),
                    ),
                ),
            ),
        ),
    )
    router = RecordingRouter(lambda text, ctx: Reply(message=digest, ephemeral=False))
    adapter: SlackAdapter = await running(router)  # type: ignore[misc]
    assert adapter.http_url is not None
    await post_command(adapter.http_url, "/recap", "week", response_url=fake_slack.response_url())
    await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)
    response = fake_slack.responses[0]
    assert response["response_type"] == "in_channel"
    assert response["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": digest.title, "emoji": True},
    }
    assert "<https://c.example/1|Chip Wire>" in response["blocks"][1]["text"]["text"]


async def test_a_failing_command_still_answers_ephemerally(
    running: Callable[..., object], fake_slack: FakeSlack
) -> None:
    def boom(text: str, ctx: CommandContext) -> Reply:
        raise RuntimeError("bug")

    adapter: SlackAdapter = await running(RecordingRouter(boom))  # type: ignore[misc]
    assert adapter.http_url is not None
    await post_command(adapter.http_url, "/status", "", response_url=fake_slack.response_url())
    await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)
    assert fake_slack.responses[0]["response_type"] == "ephemeral"
    assert "failed" in fake_slack.responses[0]["text"]


@pytest.mark.parametrize("case", ["bad signature", "wrong secret", "old timestamp", "no signature"])
async def test_unverified_requests_get_401(
    running: Callable[..., object], fake_slack: FakeSlack, case: str
) -> None:
    router = RecordingRouter()
    adapter: SlackAdapter = await running(router)  # type: ignore[misc]
    assert adapter.http_url is not None
    kwargs: dict[str, Any] = {}
    if case == "bad signature":
        kwargs["signature"] = "v0=" + "0" * 64
    elif case == "wrong secret":
        kwargs["secret"] = "not-the-signing-secret"
    elif case == "old timestamp":
        kwargs["timestamp"] = int(time.time()) - 6 * 60  # correctly signed, but 6 minutes old
    else:
        kwargs["signature"] = ""
    status, _ = await post_command(
        adapter.http_url,
        "/feeds",
        "add https://evil.example/feed",
        response_url=fake_slack.response_url(),
        **kwargs,
    )
    assert status == 401
    assert router.calls == []
    assert fake_slack.responses == []


async def test_admins_from_config_and_from_users_info_cached(
    running: Callable[..., object], fake_slack: FakeSlack
) -> None:
    fake_slack.users = {
        "U0OWNER": {"is_admin": False, "is_owner": True},
        "U0ADMIN": {"is_admin": True, "is_owner": False},
        "U0MEMBER": {"is_admin": False, "is_owner": False},
    }
    router = RecordingRouter()
    adapter: SlackAdapter = await running(router, admin_user_ids=["U0CONFIGURED"])  # type: ignore[misc]
    url = adapter.http_url
    assert url is not None
    users = ["U0CONFIGURED", "U0OWNER", "U0ADMIN", "U0MEMBER", "U0OWNER", "U0MEMBER", "U0GHOST", "U0GHOST"]
    for n, user in enumerate(users, start=1):
        await post_command(url, "/feeds", "list", user=user, response_url=fake_slack.response_url())
        await fake_slack.wait_for(lambda n=n: len(fake_slack.responses) == n)  # type: ignore[misc]
    admin = {ctx.user: ctx.is_admin for _, ctx in router.calls}
    assert admin == {
        "U0CONFIGURED": True,
        "U0OWNER": True,
        "U0ADMIN": True,
        "U0MEMBER": False,
        "U0GHOST": False,  # users.info: user_not_found
    }
    # users.info once per workspace user (cached); never for the configured admin.
    assert fake_slack.methods.count("users.info") == 4


def test_reply_payloads_do_not_repeat_the_title_and_respect_five_posts() -> None:
    from adapters.slack.app import reply_payloads

    digest = DigestMessage(
        title="Recap of the week",
        period="week",
        sections=tuple(
            DigestSection(f"t{s}", (DigestItem(f"s{s}", f"Story {s}", "y" * 2500, 60),)) for s in range(400)
        ),
    )
    payloads = reply_payloads(Reply(text="Recap of the week", message=digest, ephemeral=False))
    assert 1 < len(payloads) <= 5
    first = payloads[0]["blocks"]
    assert first[0]["type"] == "header"  # no text section repeating the title above it
    assert all(p["response_type"] == "in_channel" for p in payloads)
    last = payloads[-1]["blocks"][-1]
    assert "more stories not shown" in last["elements"][0]["text"]
    with_note = reply_payloads(Reply(text="Only chips stories.", message=digest))
    assert with_note[0]["blocks"][0]["text"]["text"] == "Only chips stories."


async def test_stop_lets_acknowledged_commands_answer(
    running: Callable[..., object], fake_slack: FakeSlack
) -> None:
    router = RecordingRouter()
    router.gate = asyncio.Event()
    adapter: SlackAdapter = await running(router)  # type: ignore[misc]
    assert adapter.http_url is not None
    status, _ = await post_command(adapter.http_url, "/recap", "week", response_url=fake_slack.response_url())
    assert status == 200 and len(adapter.inflight) == 1
    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0)
    router.gate.set()
    await stopping
    assert len(fake_slack.responses) == 1  # answered before stop() returned
    assert adapter.inflight == set()
