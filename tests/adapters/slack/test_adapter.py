"""SlackAdapter.send against the fake Web API: receipts, threads, pacing, digest pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from adapters.slack.adapter import Pacer, SlackAdapter
from adapters.slack.manifest import BOT_SCOPES, METHOD_SCOPES
from bot.messages import ChannelRef, DigestItem, DigestMessage, DigestSection, TextMessage
from bot.models import SourceRef
from tests.adapters.slack.conftest import FakeClock
from tests.adapters.slack.fake_slack_api import FakeSlack
from tests.adapters.slack.test_blocks import message

CHAN = ChannelRef("slack", "C0CHIPS", "T0FAKE")


async def test_alert_then_followup_in_its_thread(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack
) -> None:
    adapter = make_adapter()
    receipt = await adapter.send(CHAN, message())
    alert = fake_slack.posted[0]
    assert receipt.message_id == alert.ts and receipt.thread_id == alert.ts
    assert alert.thread_ts is None
    assert alert.blocks[0]["type"] == "header"
    follow = await adapter.send(CHAN, message(followup="Grid News adds: 1.2 GW"), thread=receipt)
    posted = fake_slack.posted[1]
    assert posted.thread_ts == alert.ts
    assert follow.message_id == posted.ts and follow.thread_id == alert.ts
    assert "Grid News adds" in posted.text
    assert fake_slack.rejected == []


async def test_pacing_one_message_per_second_per_channel(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    adapter = make_adapter()  # pace_s defaults to 1.0, sleeping on the fake clock
    other = ChannelRef("slack", "C0OTHER")
    await asyncio.gather(*(adapter.send(CHAN, TextMessage(f"m{i}")) for i in range(3)))
    await adapter.send(other, TextMessage("elsewhere"))
    assert fake_slack.rejected == []  # the fake's 1 msg/s/channel rule was never broken
    assert [p.text for p in fake_slack.in_channel("C0CHIPS")] == ["m0", "m1", "m2"]
    assert clock.sleeps == [1.0, 1.0]  # the other channel did not wait


async def test_rate_limit_holds_the_channel_for_retry_after(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    fake_slack.rate_window_s = 5
    pacer = Pacer(0.0, clock=clock, sleep=clock.sleep)
    adapter = make_adapter(pacer=pacer)
    await adapter.send(CHAN, TextMessage("one"))
    try:
        await adapter.send(CHAN, TextMessage("two"))
    except Exception as exc:
        assert type(exc).__name__ == "RateLimited"
    else:
        raise AssertionError("the fake should have answered 429")
    await adapter.send(CHAN, TextMessage("two again"))  # waits out Retry-After first
    assert clock.sleeps == [5.0]
    assert [p.text for p in fake_slack.posted] == ["one", "two again"]


async def test_long_digest_pages_go_into_the_first_page_thread(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack
) -> None:
    digest = DigestMessage(
        title="Recap",
        period="week",
        sections=tuple(
            DigestSection(
                f"topic-{s}",
                (DigestItem(f"s{s}", f"Story {s}", "x" * 2500, 70, (SourceRef("W", "https://w.example"),)),),
            )
            for s in range(70)
        ),
    )
    adapter = make_adapter()
    receipt = await adapter.send(CHAN, digest)
    assert len(fake_slack.posted) == 2
    first, second = fake_slack.posted
    assert receipt.message_id == first.ts
    assert second.thread_ts == first.ts
    assert fake_slack.rejected == []


async def test_scopes_cover_every_method_used(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack
) -> None:
    fake_slack.users = {"U1": {"is_admin": True}}
    adapter = make_adapter()
    await adapter.check_auth()
    await adapter.send(CHAN, message())
    await adapter.admins.is_admin("U1")
    used = set(fake_slack.methods)
    assert used == set(METHOD_SCOPES) - {"apps.connections.open"}  # that one is Socket Mode's
    needed = {METHOD_SCOPES[m] for m in used} - {None}
    # Slash commands need `commands`; everything else is needed by a method we call.
    assert set(BOT_SCOPES) == needed | {"commands"}


async def test_admin_answers_expire_after_the_ttl(
    make_adapter: Callable[..., SlackAdapter], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    from adapters.slack.app import AdminResolver

    fake_slack.users = {"U1": {"is_admin": True}}
    admins = AdminResolver(make_adapter().client, [], ttl_s=600, clock=clock)
    assert await admins.is_admin("U1")
    fake_slack.users["U1"] = {"is_admin": False}  # demoted in Slack
    await clock.sleep(599)
    assert await admins.is_admin("U1")  # still the cached answer
    await clock.sleep(2)
    assert not await admins.is_admin("U1")  # asked again after the TTL
    assert fake_slack.methods.count("users.info") == 2
