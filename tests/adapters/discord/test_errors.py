"""Discord's failures, produced by the fake API over real HTTP, reach the dispatcher as SendErrors."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.errors import BAD_TOKEN
from bot.config import DiscordSettings
from bot.messages import ChannelGone, ChannelRef, Fatal, Forbidden, RateLimited, Transient
from tests.adapters.discord.conftest import CHANNEL_ID, GUILD_ID, make_card_message
from tests.adapters.discord.fake_discord_api import TOKEN, FakeDiscordAPI

CHANNEL = ChannelRef(platform="discord", channel=str(CHANNEL_ID), workspace=str(GUILD_ID))


async def test_unknown_channel_is_channel_gone(adapter: DiscordAdapter, fake_api: FakeDiscordAPI) -> None:
    fake_api.gone.add(str(CHANNEL_ID))
    with pytest.raises(ChannelGone, match="10003"):
        await adapter.send(CHANNEL, make_card_message())


@pytest.mark.parametrize("code", [50001, 50013])
async def test_missing_access_or_permissions_is_forbidden(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI, code: int
) -> None:
    fake_api.forbidden[str(CHANNEL_ID)] = code
    with pytest.raises(Forbidden, match=str(code)):
        await adapter.send(CHANNEL, make_card_message())


async def test_server_error_is_transient(adapter: DiscordAdapter, fake_api: FakeDiscordAPI) -> None:
    fake_api.server_errors[str(CHANNEL_ID)] = 503
    with pytest.raises(Transient, match="503"):
        await adapter.send(CHANNEL, make_card_message())


async def test_long_rate_limit_escapes_as_rate_limited(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    # Longer than the adapter's 30 s ceiling: discord.py hands it back instead of sleeping.
    fake_api.forced_429[str(CHANNEL_ID)] = [(120.0, True)]
    with pytest.raises(RateLimited) as caught:
        await adapter.send(CHANNEL, make_card_message())
    assert caught.value.retry_after == pytest.approx(120.0)
    assert fake_api.in_channel(CHANNEL_ID) == []


async def test_a_429_discord_py_will_not_retry_is_rate_limited(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    # Without a Via header (a Cloudflare-level limit) discord.py raises HTTPException(429).
    fake_api.forced_429[str(CHANNEL_ID)] = [(7.5, False)]
    with pytest.raises(RateLimited) as caught:
        await adapter.send(CHANNEL, make_card_message())
    assert caught.value.retry_after == pytest.approx(7.5)


async def test_a_short_429_is_slept_out_by_discord_py(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    fake_api.forced_429[str(CHANNEL_ID)] = [(0.05, True)]
    receipt = await adapter.send(CHANNEL, make_card_message())
    assert fake_api.status_count(429) == 1
    assert [p.id for p in fake_api.in_channel(CHANNEL_ID)] == [receipt.message_id]


async def test_a_flooded_channel_is_paced_by_the_headers(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    from tests.adapters.discord.fake_discord_api import Flood

    fake_api.floods[str(CHANNEL_ID)] = Flood(limit=2, window_s=0.2)
    for _ in range(5):
        await adapter.send(CHANNEL, make_card_message())
    assert len(fake_api.in_channel(CHANNEL_ID)) == 5  # nothing lost, nothing raised


async def test_a_flood_beyond_the_ceiling_stops_with_rate_limited(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    from tests.adapters.discord.fake_discord_api import Flood

    fake_api.floods[str(CHANNEL_ID)] = Flood(limit=2, window_s=90)
    delivered = 0
    with pytest.raises(RateLimited) as caught:
        for _ in range(3):
            await adapter.send(CHANNEL, make_card_message())
            delivered += 1
    # discord.py refuses up front once the bucket's reset lies beyond the ceiling (or on the 429).
    assert delivered >= 1
    assert 30 < caught.value.retry_after <= 90
    assert len(fake_api.in_channel(CHANNEL_ID)) == delivered


async def test_bad_token_is_fatal_at_start_with_a_clear_message(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings
) -> None:
    faults: list[str] = []

    async def record(reason: str) -> None:
        faults.append(reason)

    adapter = DiscordAdapter(discord_settings, "not-the-token", gateway=False, on_fatal=record)
    try:
        with pytest.raises(Fatal) as caught:
            await adapter.start()
        assert str(caught.value) == BAD_TOKEN
        assert "DISCORD_TOKEN" in str(caught.value) and "not-the-token" not in str(caught.value)
        assert faults == [BAD_TOKEN]  # what `status` shows
        with pytest.raises(Fatal):
            await adapter.send(CHANNEL, make_card_message())
    finally:
        await adapter.stop()


async def test_token_revoked_while_running_is_fatal(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    fake_api.token = "rotated"
    with pytest.raises(Fatal, match="DISCORD_TOKEN"):
        await adapter.send(CHANNEL, make_card_message())
    assert adapter.fatal == BAD_TOKEN


async def test_network_failure_is_transient(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings
) -> None:
    adapter = DiscordAdapter(discord_settings, TOKEN, gateway=False)
    await adapter.start()
    try:
        with socket.socket() as sock:  # a loopback port with nothing listening
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        import discord.http

        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        with pytest.raises(Transient, match="network"):
            await adapter.send(CHANNEL, make_card_message())
    finally:
        await adapter.stop()


async def test_send_before_start_is_transient(discord_settings: DiscordSettings) -> None:
    adapter = DiscordAdapter(discord_settings, TOKEN, gateway=False)
    with pytest.raises(Transient, match="not started"):
        await adapter.send(CHANNEL, make_card_message())


async def test_stop_ends_a_gateway_that_cannot_connect(
    fake_api: FakeDiscordAPI, discord_settings: DiscordSettings
) -> None:
    # The fake serves no gateway: discord.py keeps retrying in the background until stopped.
    adapter = DiscordAdapter(discord_settings, TOKEN, gateway=True)
    await adapter.start()
    task = adapter._gateway_task
    assert task is not None
    await asyncio.sleep(0)  # let it try once
    await adapter.stop()
    assert task.done() and adapter.client.is_closed()
