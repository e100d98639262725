"""The whole Slack path: a channel subscribes by slash command, feed items arrive over HTTP, the
dispatcher posts the alert, a second outlet's report lands in its thread, and /recap week lists it.

Everything is real except Slack itself (the loopback fake) and the news outlets (a loopback feed
server): the store file, the pipeline and core, routing, the outbox dispatcher, the command router,
bolt's signature check and the adapter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from adapters.slack.adapter import Pacer, SlackAdapter
from bot.config import parse_settings
from bot.store import Store
from tests.adapters.slack.conftest import FakeClock, post_command, tokens
from tests.adapters.slack.fake_slack_api import TEAM_ID, FakeSlack
from tests.fixtures.outlets import rss

pytest.importorskip("bot.core.triage", reason="the core is not in the tree yet")
taxonomy = pytest.importorskip("bot.core.taxonomy", reason="the core is not in the tree yet")
pytest.importorskip("bot.ingest.fetch", reason="ingest is not in the tree yet")
pytest.importorskip("bot.commands", reason="the command router is not in the tree yet")

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHANNEL = "C0INFRA"

# Two outlets reporting one event; the second adds a company and a product the first did not name.
FIRST = (
    "US tightens export rules on Nvidia H20 AI chips to China",
    "The Commerce Department's Bureau of Industry and Security said on Tuesday that exports of Nvidia "
    "H20 accelerators and similar AI chips to China now need a license. Nvidia expects a $5.5 billion "
    "charge from the export controls on its data center GPUs.",
)
SECOND = (
    "Commerce requires licenses for Nvidia H20 exports to China",
    "Nvidia said the US Commerce Department now requires a license to export its H20 AI chips to China, "
    "under new export controls from the Bureau of Industry and Security. The company expects a $5.5 "
    "billion charge; AMD said its MI308 accelerators are covered too.",
)


def blocks_text(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields", []))
        out.extend(e["text"] for e in b.get("elements", []))
    return "\n".join(out)


async def test_subscribe_alert_followup_in_thread_and_recap(
    tmp_path: Path,
    fake_slack: FakeSlack,
    clock: FakeClock,
    outlets: tuple[dict[str, bytes], TestServer],
) -> None:
    from bot.app import close_fetcher, make_fetcher
    from bot.commands import CommandRouter
    from bot.dispatch import Dispatcher
    from bot.pipeline import Pipeline

    bodies, feed_server = outlets
    settings = parse_settings(
        {
            "store": {"path": str(tmp_path / "infrawire.db")},
            "slack": {"enabled": True, "mode": "http", "api_base_url": fake_slack.base_url},
        }
    )
    slack = settings.slack.model_copy(update={"http_port": 0})  # any free loopback port
    current = {"now": NOW}
    store = await Store.open(settings.store.path)
    fetcher = make_fetcher(settings)
    adapter = SlackAdapter(
        slack,
        tokens(),
        CommandRouter(store, settings),
        pacer=Pacer(slack.pace_s, clock=clock, sleep=clock.sleep),
        now=lambda: current["now"],
    )
    await adapter.start()
    try:
        url = adapter.http_url
        assert url is not None

        # 1. The channel subscribes with a real signed slash command.
        status, _ = await post_command(
            url,
            "/subscribe",
            "export-controls chips min 10",
            channel=CHANNEL,
            response_url=fake_slack.response_url("sub"),
        )
        assert status == 200
        await fake_slack.wait_for(lambda: len(fake_slack.responses) == 1)
        assert fake_slack.responses[0]["response_type"] == "in_channel"
        sub = await store.subscriptions.get_by_channel("slack", CHANNEL)
        assert sub is not None and sub.workspace == TEAM_ID and "export-controls" in sub.topics

        # 2. The first outlet publishes; the pipeline stores the story and routes an alert.
        pipeline = Pipeline(store, settings, taxonomy.load_vocabulary(), fetcher)
        dispatcher = Dispatcher(store, {"slack": adapter}, settings.dispatch)
        bodies["a"] = rss("Chip Wire", "a-1", "https://chipwire.example/h20", FIRST, NOW - timedelta(hours=2))
        await store.feeds.add(str(feed_server.make_url("/a")), now=NOW, allow_private=True, backfill=True)
        report = await pipeline.poll_due(NOW)
        assert len(report.stories_created) == 1 and report.deliveries >= 1
        assert await dispatcher.run_once(NOW) == 1

        alerts = fake_slack.in_channel(CHANNEL)
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert.thread_ts is None
        assert alert.blocks[0]["type"] == "header"
        body = blocks_text(alert.blocks)
        assert "*What changed*" in body and "*Why it matters*" in body
        assert "<https://chipwire.example/h20|Chip Wire>" in body
        context = blocks_text(alert.blocks[-1:])  # importance, topics, backend, why it was posted
        assert "export-controls" in context and "*Why posted*" in context and "/100" in context
        stored = await store.stories.get(report.stories_created[0])
        assert stored is not None and alert.blocks[0]["text"]["text"] == stored.title

        # 3. A second outlet reports the same event with something new: one follow-up, in the thread.
        later = NOW + timedelta(minutes=20)
        current["now"] = later
        bodies["b"] = rss(
            "Grid Ledger", "b-1", "https://gridledger.example/h20", SECOND, later - timedelta(minutes=5)
        )
        await store.feeds.add(str(feed_server.make_url("/b")), now=later, allow_private=True, backfill=True)
        report = await pipeline.poll_due(later)
        assert report.stories_created == [] and report.stories_updated
        assert await dispatcher.run_once(later) == 1
        posted = fake_slack.in_channel(CHANNEL)
        assert len(posted) == 2
        followup = posted[1]
        assert followup.thread_ts == alert.ts
        assert "Grid Ledger adds" in blocks_text(followup.blocks)  # what the second outlet added
        assert all(b["type"] != "header" for b in followup.blocks)  # compact, not a second card
        assert fake_slack.rejected == []  # never over a limit, never over the channel's rate

        # 4. /recap week lists the story, posted to the channel through the response_url.
        status, _ = await post_command(
            url, "/infrawire", "recap week", channel=CHANNEL, response_url=fake_slack.response_url("recap")
        )
        assert status == 200
        await fake_slack.wait_for(lambda: any(r["key"] == "recap" for r in fake_slack.responses))
        recap = next(r for r in fake_slack.responses if r["key"] == "recap")
        assert recap["response_type"] == "in_channel"
        story = await store.stories.get(report.stories_updated[0])
        assert story is not None
        assert story.title in blocks_text(recap["blocks"])
    finally:
        await adapter.stop()
        await close_fetcher(fetcher)
        await store.close()
