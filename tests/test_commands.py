from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import CommandRouter
from bot.config import Settings
from bot.messages import CommandContext, DigestMessage
from bot.store import Store
from tests.fixtures.channels import NOW, channel_store, make_story, save_story  # noqa: F401

CTX = CommandContext(platform="test", channel="C1", user="U1", now=NOW, workspace="T1")
ADMIN = CommandContext(platform="test", channel="C1", user="U9", now=NOW, workspace="T1", is_admin=True)


@pytest.fixture
def router(store: Store) -> CommandRouter:
    return CommandRouter(store, Settings())


async def test_subscribe_full_grammar_and_filters(router: CommandRouter, store: Store) -> None:
    reply = await router.handle(
        "subscribe chips export-controls min 70 mode both digest weekly at 8:30 tz Europe/Berlin "
        "include HBM, CoWoS exclude rumor entity Nvidia, Taiwan Semiconductor quiet 22:00-07:00 pace 3",
        CTX,
    )
    assert reply.ephemeral is False and reply.text.startswith("Subscribed this channel.")
    sub = await store.subscriptions.get_by_channel("test", "C1")
    assert sub is not None
    assert sub.topics == ("chips", "export-controls")
    assert (sub.min_importance, sub.mode, sub.digest, sub.digest_time, sub.timezone) == (
        70,
        "both",
        "weekly",
        "08:30",
        "Europe/Berlin",
    )
    assert sub.include == ("HBM", "CoWoS") and sub.exclude == ("rumor",)
    assert sub.entities == ("Nvidia", "TSMC")  # canonical names, as stories carry them
    assert sub.quiet_hours == ("22:00", "07:00") and sub.max_alerts_per_hour == 3
    assert (sub.workspace, sub.created_by) == ("T1", "U1")
    shown = (await router.handle("filters", CTX)).text
    assert "topics: chips, export-controls" in shown
    assert "digest: weekly (Mondays) at 08:30 Europe/Berlin" in shown
    assert "quiet hours: 22:00-07:00" in shown


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("subscribe min importance 70", "min_importance", 70),
        ("subscribe min=65", "min_importance", 65),
        ("subscribe importance >= 80", "min_importance", 80),
        ("subscribe export controls data center", "topics", ("export-controls", "datacenter")),
        ("subscribe semis power", "topics", ("chips", "energy")),
        ("subscribe energy,chips, policy", "topics", ("chips", "energy", "policy")),
        ("subscribe min 75%", "min_importance", 75),
        ("subscribe tz europe/berlin", "timezone", "Europe/Berlin"),
        ("/subscribe mode digest", "digest", "daily"),
        ("SUBSCRIBE Chips MODE Alerts", "mode", "alerts"),
        ('subscribe include "data center" HBM', "include", ("data center", "HBM")),
        ("subscribe quiet 23:00 to 6:00", "quiet_hours", ("23:00", "06:00")),
        (
            "subscribe entity tsmc, Taiwan Semiconductor, nvidia, Acme Fabs",
            "entities",
            ("TSMC", "Nvidia", "Acme Fabs"),
        ),
    ],
)
async def test_subscribe_is_forgiving_about_form(
    router: CommandRouter, store: Store, text: str, field: str, value: object
) -> None:
    reply = await router.handle(text, CTX)
    assert not reply.text.startswith("Usage"), reply.text
    sub = await store.subscriptions.get_by_channel("test", "C1")
    assert getattr(sub, field) == value


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("subscribe chips bananas", "'bananas'"),
        ("subscribe chips,bananas", "'bananas'"),
        ("subscribe min 170", "170"),
        ("subscribe min lots", "'lots'"),
        ("subscribe mode loud", "'loud'"),
        ("subscribe digest hourly", "'hourly'"),
        ("subscribe digest daily at 25:00", "'25:00'"),
        ("subscribe tz Mars/Olympus", "'Mars/Olympus'"),
        ("subscribe quiet soon", "'soon'"),
        ('subscribe "chips', "quotes"),
        ("subscribe include", "include needs"),
    ],
)
async def test_bad_subscribe_gets_usage_naming_the_problem_and_stores_nothing(
    router: CommandRouter, store: Store, text: str, named: str
) -> None:
    reply = await router.handle(text, CTX)
    assert reply.ephemeral is True
    assert named in reply.text
    assert "Usage:" in reply.text
    assert await store.subscriptions.list() == []


async def test_subscribe_again_updates_only_what_is_said(router: CommandRouter, store: Store) -> None:
    await router.handle("subscribe chips min 70 include HBM", CTX)
    reply = await router.handle("subscribe min 80", CTX)
    assert reply.text.startswith("Updated")
    sub = await store.subscriptions.get_by_channel("test", "C1")
    assert sub is not None and (sub.topics, sub.min_importance, sub.include) == (("chips",), 80, ("HBM",))
    await router.handle("subscribe all include none", CTX)
    sub = await store.subscriptions.get_by_channel("test", "C1")
    assert sub is not None and (sub.topics, sub.include) == ((), ())
    # re-subscribing resumes a paused channel
    await store.subscriptions.pause(sub.id, "forbidden: missing_scope")
    assert "delivery resumed" in (await router.handle("subscribe", CTX)).text


async def test_unsubscribe(router: CommandRouter, store: Store) -> None:
    assert "no subscription" in (await router.handle("unsubscribe", CTX)).text
    await router.handle("subscribe chips", CTX)
    reply = await router.handle("unsubscribe", CTX)
    assert reply.ephemeral is False and "Unsubscribed" in reply.text
    assert await store.subscriptions.list() == []
    assert "no subscription" in (await router.handle("filters", CTX)).text


async def test_recap_is_public_grouped_and_says_when_empty(router: CommandRouter, store: Store) -> None:
    await save_story(store, make_story("a1", "Chip story", importance=90, topics=("chips",)))
    await save_story(store, make_story("a2", "Grid story", importance=70, topics=("energy",)))
    old = make_story("a3", "Old chip story", importance=99, when=NOW - timedelta(days=3))
    await save_story(store, old)
    reply = await router.handle("recap week", CTX)
    assert reply.ephemeral is False and isinstance(reply.message, DigestMessage)
    assert [(s.topic, [i.story_id for i in s.items]) for s in reply.message.sections] == [
        ("chips", ["a3", "a1"]),
        ("energy", ["a2"]),
    ]
    day = await router.handle("recap day chips", CTX)
    assert isinstance(day.message, DigestMessage)
    assert [i.story_id for s in day.message.sections for i in s.items] == ["a1"]
    empty = await router.handle("recap day policy", CTX)
    assert isinstance(empty.message, DigestMessage) and empty.message.sections == ()
    assert empty.message.empty_note == "No policy stories in the past day."
    bad = await router.handle("recap fortnight", CTX)
    assert bad.ephemeral and "'fortnight'" in bad.text and bad.message is None


async def test_feeds_are_for_admins_and_go_through_the_ssrf_guard(
    router: CommandRouter, store: Store
) -> None:
    denied = await router.handle("feeds add http://93.184.216.34/feed.xml", CTX)
    assert "admins" in denied.text and await store.feeds.list() == []
    refused = await router.handle("feeds add http://127.0.0.1:8080/feed.xml", ADMIN)
    assert refused.text.startswith("Refused") and await store.feeds.list() == []
    refused = await router.handle("feeds add file:///etc/passwd", ADMIN)
    assert refused.text.startswith("Refused")
    added = await router.handle("feeds add http://93.184.216.34/feed.xml", ADMIN)
    assert added.text.startswith("Added feed #1")
    [feed] = await store.feeds.list()
    assert feed.added_by == "test:U9"
    dup = await router.handle("feeds add http://93.184.216.34/feed.xml", ADMIN)
    assert "already exists" in dup.text
    listing = await router.handle("feeds list", ADMIN)
    assert "#1" in listing.text and "ok" in listing.text
    assert "There is no feed 7" in (await router.handle("feeds remove 7", ADMIN)).text
    assert "Removed feed 1" in (await router.handle("feeds remove #1", ADMIN)).text
    assert "Usage:" in (await router.handle("feeds remove one", ADMIN)).text
    assert "Usage:" in (await router.handle("feeds frobnicate", ADMIN)).text


async def test_feed_checker_is_injectable(store: Store) -> None:
    seen: list[str] = []

    async def checker(url: str) -> None:
        seen.append(url)

    router = CommandRouter(store, Settings(), feed_checker=checker)
    await router.handle("feeds add <https://feeds.example/ai.xml>", ADMIN)
    assert seen == ["https://feeds.example/ai.xml"]


async def test_status_reports_everything_but_secrets(router: CommandRouter, store: Store) -> None:
    ok = await store.feeds.add("https://ok.example/feed.xml", now=NOW)
    failing = await store.feeds.add("https://failing.example/feed.xml?token=s3cr3t", now=NOW)
    dead = await store.feeds.add("https://dead.example/feed.xml", now=NOW)
    await store.feeds.mark_checking(ok.id, now=NOW, next_check_at=NOW + timedelta(minutes=15))
    await store.feeds.record_failure(
        failing.id,
        error="HTTP 503 from https://failing.example/feed.xml?token=s3cr3t",
        now=NOW,
        next_check_at=NOW,
        max_errors=10,
    )
    await store.feeds.disable(dead.id, "HTTP 410 Gone")
    await router.handle("subscribe chips", CTX)
    sub = await store.subscriptions.get_by_channel("test", "C1")
    assert sub is not None
    await store.subscriptions.pause(sub.id, "channel gone: channel_not_found")
    await store.deliveries.add(sub.id, "s1", "alert", now=NOW)
    failed = await store.deliveries.add(sub.id, "s2", "alert", now=NOW)
    assert failed is not None
    await store.deliveries.fail(failed, "Transient: HTTP 502")
    await store.deliveries.record_adapter_fault("slack", "invalid_auth", now=NOW)
    text = (await router.handle("status", CTX)).text
    assert "Feeds: 1 ok, 1 failing, 1 disabled; last poll 2026-11-20 12:00 UTC" in text
    assert "failing #2 https://failing.example/feed.xml: 1 errors" in text
    assert "disabled #3 https://dead.example/feed.xml: HTTP 410 Gone" in text
    assert "Deliveries: 1 pending, 1 failed, 0 sent" in text
    assert "test C1: channel gone: channel_not_found" in text
    assert "Adapter slack stopped at 2026-11-20 12:00 UTC: invalid_auth" in text
    assert "s3cr3t" not in text


async def test_why_by_id_prefix_or_title(router: CommandRouter, store: Store) -> None:
    await save_story(store, make_story("9f3a7c21", "Utility approves 300 MW line to AI campus"))
    await save_story(store, make_story("1b2c3d4e", "Utility delays a second campus line"))
    by_id = (await router.handle("why 9f3a7c21", CTX)).text
    assert by_id.startswith("Utility approves 300 MW line") and "importance 70" in by_id
    assert "why: relevant: AI hardware terms" in by_id
    assert (await router.handle("why 9f3a", CTX)).text == by_id
    assert (await router.handle("why approves 300", CTX)).text == by_id
    several = (await router.handle("why utility", CTX)).text
    assert several.startswith("2 stories match") and "9f3a7c21" in several and "1b2c3d4e" in several
    assert "No story matches" in (await router.handle("why nothing of the sort", CTX)).text
    assert "Usage:" in (await router.handle("why", CTX)).text


async def test_why_tells_why_it_was_posted_here(router: CommandRouter, store: Store) -> None:
    from bot.routing import route_pending

    await router.handle("subscribe chips min 60", CTX)
    await save_story(store, make_story("9f3a7c21", "Foundry adds advanced packaging lines", importance=75))
    await route_pending(store, NOW)
    text = (await router.handle("why 9f3a7c21", CTX)).text
    assert "posted here because: matches topics chips; importance 75 >= 60" in text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "/",
        "???",
        "subscribe min",
        "subscribe at",
        "subscribe tz",
        "subscribe quiet",
        "subscribe pace 0",
        "subscribe all chips",
        "subscribe = = =",
        "recap day week month",
        "recap chips energy",
        "feeds",
        "why '",
        "help subscribe",
        "unsubscribe now",
        "filters please",
        "\x00\x1b[31m",
        "subscribe " + "x" * 5000,
    ],
)
async def test_garbled_input_gets_a_reply_never_an_exception(router: CommandRouter, text: str) -> None:
    reply = await router.handle(text, ADMIN)
    assert reply.text


async def test_help_and_unknown_command(router: CommandRouter) -> None:
    assert "subscribe [topics...]" in (await router.handle("help", CTX)).text
    unknown = await router.handle("frobnicate", CTX)
    assert unknown.ephemeral and "Unknown command 'frobnicate'" in unknown.text


async def test_the_app_name_may_lead_any_command(router: CommandRouter) -> None:
    direct = await router.handle("filters", CTX)
    prefixed = await router.handle("/infrawire filters", CTX)
    assert prefixed.text == direct.text
    assert "subscribe [topics...]" in (await router.handle("infrawire", CTX)).text


async def test_why_with_the_id_of_a_story_since_merged_names_the_story_it_joined(
    router: CommandRouter, store: Store
) -> None:
    await save_story(store, make_story("9f3a7c21", "Utility approves 300 MW line to AI campus"))
    await save_story(store, make_story("1b2c3d4e", "Regulators approve the campus power line"))
    await store.stories.merge(["1b2c3d4e"], into="9f3a7c21")
    text = (await router.handle("why 1b2c3d4e", CTX)).text
    assert text.startswith("(story 1b2c3d4e has since been merged into story 9f3a7c21)\n")
    assert "Utility approves 300 MW line" in text and "story 9f3a7c21 · importance" in text
    assert (await router.handle("why 1b2c", CTX)).text == text.split("\n", 1)[1]  # a prefix finds it too
