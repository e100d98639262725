"""The whole Discord path: a channel subscribes by slash command, feed items arrive over HTTP, the
dispatcher posts the alert embed, a second outlet's report lands in a thread started from the alert,
and /recap week lists the story.

Everything is real except Discord (the loopback fake API) and the news outlets (a loopback feed
server): the store file, the pipeline and core, routing, the outbox dispatcher, the command router,
discord.py's CommandTree and HTTP client, and the adapter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from adapters.discord.adapter import DiscordAdapter
from bot.config import parse_settings
from bot.store import Store
from tests.adapters.discord.conftest import CHANNEL_ID, GUILD_ID, interaction, opt
from tests.adapters.discord.fake_discord_api import TOKEN, FakeDiscordAPI
from tests.fixtures.outlets import rss

pytest.importorskip("bot.core.triage", reason="the core is not in the tree yet")
taxonomy = pytest.importorskip("bot.core.taxonomy", reason="the core is not in the tree yet")
pytest.importorskip("bot.ingest.fetch", reason="ingest is not in the tree yet")
pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

# Two outlets reporting one event; the second names a company and a product the first did not.
FIRST = (
    "US requires licences for Nvidia H20 AI chip exports to China",
    "The Bureau of Industry and Security at the US Commerce Department said on Tuesday that shipping "
    "Nvidia H20 accelerators and comparable AI chips to China now requires an export licence. Nvidia "
    "expects a $5.5 billion charge from the new export controls on its data center GPUs.",
)
SECOND = (
    "Nvidia H20 exports to China now need a Commerce licence",
    "Nvidia said the US Commerce Department will require an export licence for its H20 AI chips bound "
    "for China, under export controls issued by the Bureau of Industry and Security. Nvidia expects a "
    "$5.5 billion charge; AMD said its MI308 accelerators fall under the same rule.",
)


async def test_subscribe_alert_followup_in_thread_and_recap(
    tmp_path: Path, fake_api: FakeDiscordAPI, outlets: tuple[dict[str, bytes], TestServer]
) -> None:
    from bot.app import close_fetcher, make_fetcher
    from bot.commands import CommandRouter
    from bot.dispatch import Dispatcher
    from bot.pipeline import Pipeline

    bodies, feed_server = outlets
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "infrawire.db")},
            "discord": {"enabled": True, "api_base_url": fake_api.base_url, "guild_ids": [GUILD_ID]},
        }
    )
    current = {"now": NOW}
    store = await Store.open(settings.store.path)
    fetcher = make_fetcher(settings)
    adapter = DiscordAdapter(
        settings.discord,
        TOKEN,
        handler=CommandRouter(store, settings),
        gateway=False,
        clock=lambda: current["now"],
    )
    await adapter.start()
    try:
        tree = adapter.client.tree

        # 1. The channel subscribes with /subscribe, delivered as an interaction through the tree.
        options = [opt("topic", "export-controls"), opt("topic2", "chips"), opt("min_importance", 10, kind=4)]
        await tree._call(interaction(adapter.client, "subscribe", options))
        [answer] = fake_api.callbacks
        assert answer["type"] == 4 and "Subscribed" in answer["data"]["content"]
        assert not int(answer["data"].get("flags") or 0) & 64  # the channel sees the change
        sub = await store.subscriptions.get_by_channel("discord", str(CHANNEL_ID))
        assert sub is not None and sub.workspace == str(GUILD_ID)
        assert set(sub.topics) == {"export-controls", "chips"} and sub.min_importance == 10

        # 2. The first outlet publishes: the pipeline stores the story, the dispatcher posts the alert.
        pipeline = Pipeline(store, settings, taxonomy.load_vocabulary(), fetcher)
        dispatcher = Dispatcher(store, {"discord": adapter}, settings.dispatch)
        bodies["a"] = rss("Chip Wire", "a-1", "https://chipwire.example/h20", FIRST, NOW - timedelta(hours=2))
        await store.feeds.add(str(feed_server.make_url("/a")), now=NOW, allow_private=True, backfill=True)
        report = await pipeline.poll_due(NOW)
        assert len(report.stories_created) == 1 and report.deliveries >= 1
        assert await dispatcher.run_once(NOW) == 1

        [alert] = fake_api.in_channel(CHANNEL_ID)
        [embed] = alert.embeds
        assert embed["url"] == "https://chipwire.example/h20"
        assert embed["description"]  # what changed
        names = [f["name"] for f in embed["fields"]]
        assert names[:3] == ["Why it matters", "Who should care", "What to do next"]
        assert "export-controls" in embed["footer"]["text"] and "Chip Wire" in embed["footer"]["text"]

        # 3. A second outlet reports the same event with something new: one follow-up, in a thread
        #    started from the alert; the channel itself gets nothing more.
        later = NOW + timedelta(minutes=20)
        current["now"] = later
        bodies["b"] = rss(
            "Grid Ledger", "b-1", "https://gridledger.example/h20", SECOND, later - timedelta(minutes=5)
        )
        await store.feeds.add(str(feed_server.make_url("/b")), now=later, allow_private=True, backfill=True)
        report = await pipeline.poll_due(later)
        assert report.stories_created == [] and report.stories_updated
        assert await dispatcher.run_once(later) == 1
        assert list(fake_api.threads) == [alert.id]
        [followup] = fake_api.in_channel(alert.id)
        assert followup.embeds and followup.embeds[0]["description"]
        assert len(fake_api.in_channel(CHANNEL_ID)) == 1
        assert fake_api.rejected == []

        # 4. /recap week lists the story: deferred (public), then posted as embeds.
        await tree._call(interaction(adapter.client, "recap", [opt("period", "week")]))
        defer = fake_api.callbacks[-1]
        assert defer["type"] == 5 and not int(defer["data"].get("flags") or 0) & 64
        recap = [p for p in fake_api.posted if p.via == "followup"]
        assert recap and not any(p.ephemeral for p in recap)
        story = await store.stories.get(report.stories_updated[0])
        assert story is not None
        text = "\n".join(p.content + "".join(e.get("description", "") for e in p.embeds) for p in recap)
        assert story.title[:60] in text
        assert "chipwire.example/h20" in text or "gridledger.example/h20" in text

        # The outbox recorded the alert's Discord message id (follow-ups find their thread by it).
        delivered = await store.deliveries.alert(sub.id, story.id)
        assert delivered is not None and delivered.message_id == alert.id
    finally:
        await adapter.stop()
        await close_fetcher(fetcher)
        await store.close()
