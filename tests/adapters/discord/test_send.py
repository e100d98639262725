"""DiscordAdapter.send against the fake Discord API: alerts, threads, replies, digests, limits."""

from __future__ import annotations

import pytest

from adapters.base import Adapter
from adapters.discord.adapter import DiscordAdapter
from bot.messages import (
    ChannelGone,
    ChannelRef,
    DigestItem,
    DigestMessage,
    DigestSection,
    Receipt,
    TextMessage,
)
from bot.models import SourceRef
from tests.adapters.discord.conftest import CHANNEL_ID, GUILD_ID, make_card, make_card_message
from tests.adapters.discord.fake_discord_api import FakeDiscordAPI

CHANNEL = ChannelRef(platform="discord", channel=str(CHANNEL_ID), workspace=str(GUILD_ID))


def test_the_adapter_implements_the_protocol(adapter: DiscordAdapter) -> None:
    assert isinstance(adapter, Adapter)
    assert adapter.platform == "discord"


async def test_alert_is_posted_as_one_embed(adapter: DiscordAdapter, fake_api: FakeDiscordAPI) -> None:
    receipt = await adapter.send(CHANNEL, make_card_message())
    [posted] = fake_api.in_channel(CHANNEL_ID)
    assert receipt == Receipt(message_id=posted.id)
    [embed] = posted.embeds
    assert embed["title"].startswith("Chipmaker widens")
    assert embed["url"] == "https://chipwire.example/a/1"
    assert "timestamp" in embed and embed["color"] > 0
    assert posted.payload["allowed_mentions"]["parse"] == []  # an alert never pings anyone


async def test_followups_go_to_one_thread_started_from_the_alert(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    alert = await adapter.send(CHANNEL, make_card_message())
    first = await adapter.send(CHANNEL, make_card_message(followup="Grid News adds: 1.2 GW."), thread=alert)
    # The dispatcher hands every follow-up the alert's receipt; the thread is found again.
    second = await adapter.send(CHANNEL, make_card_message(followup="Reuters adds: $10B."), thread=alert)
    assert first.thread_id == second.thread_id == alert.message_id
    assert list(fake_api.threads) == [alert.message_id]
    assert fake_api.threads[alert.message_id]["name"].startswith("Chipmaker widens")
    in_thread = fake_api.in_channel(alert.message_id)
    assert [p.embeds[0]["description"] for p in in_thread] == [
        "Grid News adds: 1.2 GW.",
        "Reuters adds: $10B.",
    ]
    assert len(fake_api.in_channel(CHANNEL_ID)) == 1  # nothing extra in the channel itself


async def test_followup_uses_a_known_thread_directly(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    alert = await adapter.send(CHANNEL, make_card_message())
    thread = await adapter.send(CHANNEL, make_card_message(followup="one"), thread=alert)
    again = await adapter.send(CHANNEL, make_card_message(followup="two"), thread=thread)
    assert again.thread_id == thread.thread_id
    assert sum(1 for m, p, _ in fake_api.requests if m == "POST" and p.endswith("/threads")) == 1


async def test_where_threads_are_not_allowed_the_followup_replies_to_the_alert(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    fake_api.no_threads.add(str(CHANNEL_ID))
    alert = await adapter.send(CHANNEL, make_card_message())
    receipt = await adapter.send(CHANNEL, make_card_message(followup="Grid News adds: 1.2 GW."), thread=alert)
    assert fake_api.threads == {}
    reply = fake_api.in_channel(CHANNEL_ID)[-1]
    assert reply.reference == alert.message_id
    assert receipt.message_id == reply.id and receipt.thread_id is None


async def test_a_deleted_thread_falls_back_to_a_reply_not_a_paused_channel(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    alert = await adapter.send(CHANNEL, make_card_message())
    await adapter.send(CHANNEL, make_card_message(followup="one"), thread=alert)
    fake_api.gone.add(alert.message_id)  # someone deleted the thread
    receipt = await adapter.send(CHANNEL, make_card_message(followup="two"), thread=alert)
    reply = fake_api.in_channel(CHANNEL_ID)[-1]
    assert reply.reference == alert.message_id and receipt.message_id == reply.id


async def test_followup_when_the_channel_is_gone_is_channel_gone(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    alert = await adapter.send(CHANNEL, make_card_message())
    fake_api.gone.add(str(CHANNEL_ID))
    with pytest.raises(ChannelGone):
        await adapter.send(CHANNEL, make_card_message(followup="late"), thread=alert)


async def test_followup_of_a_deleted_alert_is_posted_in_the_channel(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    receipt = await adapter.send(
        CHANNEL, make_card_message(followup="late"), thread=Receipt(message_id="999")
    )
    posted = fake_api.in_channel(CHANNEL_ID)[-1]
    assert posted.id == receipt.message_id and posted.embeds[0]["description"] == "late"


async def test_oversized_card_is_accepted_by_discord(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    huge = "figure " * 3000
    card = make_card(title="Z" * 500, what_changed=huge, why_it_matters=huge, key_takeaways=(huge,) * 40)
    await adapter.send(CHANNEL, make_card_message(card=card, why_posted=huge))
    assert fake_api.rejected == []
    assert len(fake_api.in_channel(CHANNEL_ID)) == 1


async def test_large_digest_arrives_as_several_messages(
    adapter: DiscordAdapter, fake_api: FakeDiscordAPI
) -> None:
    sections = tuple(
        DigestSection(
            topic=f"topic-{s}",
            items=tuple(
                DigestItem(
                    f"s{s}{i}", f"Story {s}-{i}", "A line. " * 100, 80, (SourceRef("W", "https://w.example"),)
                )
                for i in range(15)
            ),
        )
        for s in range(12)
    )
    receipt = await adapter.send(CHANNEL, DigestMessage(title="Week", period="week", sections=sections))
    posted = fake_api.in_channel(CHANNEL_ID)
    assert len(posted) > 1 and fake_api.rejected == []
    assert receipt.message_id == posted[0].id
    listed = sum(e["description"].count("**[Story") for p in posted for e in p.embeds)
    assert listed == 12 * 15


async def test_long_text_is_split_into_messages(adapter: DiscordAdapter, fake_api: FakeDiscordAPI) -> None:
    await adapter.send(CHANNEL, TextMessage("\n".join("x" * 150 for _ in range(40))))
    posted = fake_api.in_channel(CHANNEL_ID)
    assert len(posted) == 4 and all(len(p.content) <= 2000 for p in posted)


def test_adapters_discord_does_not_shadow_discord_py() -> None:
    import sys

    import discord

    import adapters.discord

    assert adapters.discord.__name__ == "adapters.discord"
    assert sys.modules["discord"] is discord and hasattr(discord, "Client")
    assert "site-packages" in (discord.__file__ or "")
    assert not any(p.rstrip("/").endswith("adapters") for p in sys.path)
