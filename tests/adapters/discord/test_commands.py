"""Slash commands arrive as interactions through the real CommandTree and answer via the fake API."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.commands import FAILED, NOT_ADMIN, subscribe_text
from bot.messages import CommandContext, DigestItem, DigestMessage, DigestSection, Reply
from bot.models import SourceRef
from tests.adapters.discord.conftest import (
    CHANNEL_ID,
    GUILD_ID,
    NOW,
    USER_ID,
    VIEW_AND_SEND,
    RecordingHandler,
    interaction,
    opt,
)
from tests.adapters.discord.fake_discord_api import FakeDiscordAPI

EPHEMERAL = 64


async def _invoke(
    adapter: DiscordAdapter, name: str, options: list[dict[str, object]] | None = None, **kw: int
) -> None:
    await adapter.client.tree._call(interaction(adapter.client, name, options, **kw))


async def test_subscribe_builds_the_text_command_and_context(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    await _invoke(
        adapter,
        "subscribe",
        [
            opt("topic", "chips"),
            opt("topic2", "export-controls"),
            opt("min_importance", 70, kind=4),
            opt("mode", "both"),
        ],
    )
    [(text, ctx)] = handler.calls
    assert text == "subscribe chips export-controls min 70 mode both"
    assert ctx == CommandContext(
        platform="discord",
        channel=str(CHANNEL_ID),
        user=str(USER_ID),
        now=NOW,
        workspace=str(GUILD_ID),
        is_admin=True,
    )
    [callback] = fake_api.callbacks
    assert callback["type"] == 4 and callback["data"]["content"] == "ok"
    assert not int(callback["data"].get("flags") or 0) & EPHEMERAL  # the handler's reply was public


def test_subscribe_text_covers_every_option_and_the_shared_grammar_reads_it_back() -> None:
    text = subscribe_text(
        topics=["energy", "energy", "datacenter"],
        min_importance=55,
        mode="digest",
        digest="weekly",
        digest_time="08:30",
        timezone="Europe/Berlin",
        include="substation, grid",
        exclude="rumour",
        entities="Nvidia, Microsoft Azure",
        quiet="22:00-07:00",
        pace=4,
    )
    assert text == (
        "subscribe energy datacenter min 55 mode digest digest weekly at 08:30 tz Europe/Berlin "
        "include substation, grid exclude rumour entity Nvidia, 'Microsoft Azure' quiet 22:00-07:00 pace 4"
    )
    grammar = pytest.importorskip("bot.command_grammar")
    parsed = grammar.parse_subscribe(grammar.tokens(text)[1:])
    assert parsed.topics == ("datacenter", "energy")
    assert (parsed.min_importance, parsed.mode, parsed.digest) == (55, "digest", "weekly")
    assert (parsed.digest_time, parsed.timezone) == ("08:30", "Europe/Berlin")
    assert parsed.include == ("substation", "grid") and parsed.exclude == ("rumour",)
    assert parsed.entities == ("Nvidia", "Microsoft Azure")
    assert parsed.quiet == ("22:00", "07:00") and parsed.max_alerts_per_hour == 4


def test_a_single_entity_with_a_space_stays_one_entity() -> None:
    grammar = pytest.importorskip("bot.command_grammar")
    text = subscribe_text(entities="Amazon Web Services")
    assert grammar.parse_subscribe(grammar.tokens(text)[1:]).entities == ("Amazon Web Services",)


async def test_admin_command_without_manage_channels_is_refused_privately(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    await _invoke(adapter, "feeds", [{"name": "list", "type": 1, "options": []}], permissions=VIEW_AND_SEND)
    assert handler.calls == []
    [callback] = fake_api.callbacks
    assert callback["data"]["content"] == NOT_ADMIN
    assert callback["data"]["flags"] & EPHEMERAL


async def test_non_admins_still_reach_read_only_commands(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    await _invoke(adapter, "filters", permissions=VIEW_AND_SEND)
    await _invoke(adapter, "subscribe", [opt("topic", "chips")], permissions=VIEW_AND_SEND)
    assert [(t, c.is_admin) for t, c in handler.calls] == [("filters", False), ("subscribe chips", False)]


def test_admin_commands_carry_default_member_permissions(adapter: DiscordAdapter) -> None:
    tree = adapter.client.tree
    manage = discord.Permissions(manage_channels=True)
    feeds = tree.get_command("feeds")
    assert feeds is not None and feeds.default_permissions == manage
    for name in ("subscribe", "unsubscribe", "recap", "filters", "status", "why", "help"):
        command = tree.get_command(name)
        assert command is not None and command.default_permissions is None, name
    payload = tree.get_command("feeds").to_dict(tree)  # type: ignore[union-attr]
    assert int(payload["default_member_permissions"]) == 1 << 4


async def test_feeds_group_subcommands(adapter: DiscordAdapter, handler: RecordingHandler) -> None:
    await _invoke(adapter, "feeds", [{"name": "list", "type": 1, "options": []}])
    url = "https://chipwire.example/feed.xml"
    await _invoke(adapter, "feeds", [{"name": "add", "type": 1, "options": [opt("url", url)]}])
    remove = [{"name": "remove", "type": 1, "options": [opt("feed_id", 3, kind=4)]}]
    await _invoke(adapter, "feeds", remove)
    assert [t for t, _ in handler.calls] == ["feeds list", f"feeds add {url}", "feeds remove 3"]
    await _invoke(adapter, "feeds", [{"name": "list", "type": 1, "options": []}], permissions=VIEW_AND_SEND)
    assert len(handler.calls) == 3  # refused at run time without Manage Channels


async def test_simple_commands_map_to_their_text(adapter: DiscordAdapter, handler: RecordingHandler) -> None:
    await _invoke(adapter, "unsubscribe")
    await _invoke(adapter, "status")
    await _invoke(adapter, "why", [opt("story", " s-abc123 ")])
    await _invoke(adapter, "help")
    assert [t for t, _ in handler.calls] == ["unsubscribe", "status", "why s-abc123", "help"]


async def test_usage_reply_is_ephemeral(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    handler.reply = Reply(text="usage: /why STORY", ephemeral=True)
    await _invoke(adapter, "why", [opt("story", "nope")])
    [callback] = fake_api.callbacks
    assert callback["data"]["content"] == "usage: /why STORY"
    assert callback["data"]["flags"] & EPHEMERAL


def _digest() -> DigestMessage:
    item = DigestItem(
        "s1",
        "Fab expansion approved",
        "A fab expansion won approval.",
        77,
        (SourceRef("W", "https://w.example/1"),),
    )
    return DigestMessage(
        title="Top stories, week", period="week", sections=(DigestSection("chips", (item,)),)
    )


async def test_recap_is_deferred_then_posted_publicly(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    handler.reply = Reply(text="Top stories, week", message=_digest(), ephemeral=False)
    await _invoke(adapter, "recap", [opt("period", "week"), opt("topic", "chips")])
    assert [t for t, _ in handler.calls] == ["recap week chips"]
    [defer] = fake_api.callbacks
    assert defer["type"] == 5 and not int(defer["data"].get("flags") or 0) & EPHEMERAL
    [followup] = [p for p in fake_api.posted if p.via == "followup"]  # the title is not repeated
    assert not followup.ephemeral and followup.content == "**Top stories, week**"
    assert "[Fab expansion approved](https://w.example/1)" in followup.embeds[0]["description"]


async def test_recap_error_after_defer_is_answered_privately(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    handler.reply = Reply(text="usage: /recap day|week|month [topic]", ephemeral=True)
    await _invoke(adapter, "recap", [opt("period", "day")])
    token = fake_api.callbacks[0]["token"]
    assert fake_api.deleted_originals == [token]  # the public placeholder is removed
    [followup] = [p for p in fake_api.posted if p.via == "followup"]
    assert followup.ephemeral and followup.content.startswith("usage:")


async def test_recap_period_defaults_to_week(adapter: DiscordAdapter, handler: RecordingHandler) -> None:
    await _invoke(adapter, "recap")
    assert [t for t, _ in handler.calls] == ["recap week"]


async def test_a_crashing_handler_still_gets_an_answer(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    async def boom(text: str, ctx: CommandContext) -> Reply:
        raise RuntimeError("store locked")

    handler.handle = boom  # type: ignore[method-assign]
    await _invoke(adapter, "status")
    [callback] = fake_api.callbacks
    assert callback["data"]["content"] == FAILED and callback["data"]["flags"] & EPHEMERAL


async def test_long_reply_text_is_split_across_followups(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    handler.reply = Reply(text="\n".join(f"feed {i}: ok " + "x" * 80 for i in range(60)), ephemeral=True)
    await _invoke(adapter, "feeds", [{"name": "list", "type": 1, "options": []}])
    first = fake_api.callbacks[0]["data"]
    rest = [p for p in fake_api.posted if p.via == "followup"]
    assert (
        len(first["content"]) <= 2000 and rest and all(len(p.content) <= 2000 and p.ephemeral for p in rest)
    )
    assert fake_api.rejected == []


async def test_entity_and_timezone_autocomplete(adapter: DiscordAdapter, fake_api: FakeDiscordAPI) -> None:
    options = [opt("entities", "Nvidia, micro", focused=True)]
    await adapter.client.tree._call(interaction(adapter.client, "subscribe", options, kind=4))
    [callback] = fake_api.callbacks
    assert callback["type"] == 8  # autocomplete result
    assert [c["value"] for c in callback["data"]["choices"]] == ["Nvidia, Microsoft Azure"]
    fake_api.callbacks.clear()
    await adapter.client.tree._call(
        interaction(adapter.client, "subscribe", [opt("timezone", "Europe/Ber", focused=True)], kind=4)
    )
    assert [c["value"] for c in fake_api.callbacks[0]["data"]["choices"]] == ["Europe/Berlin"]


def test_topic_and_mode_are_choices(adapter: DiscordAdapter) -> None:
    command = adapter.client.tree.get_command("subscribe")
    assert isinstance(command, app_commands.Command)
    params = {p.name: p for p in command.parameters}
    assert "chips" in [c.value for c in params["topic"].choices]
    assert [c.value for c in params["mode"].choices] == ["alerts", "digest", "both"]
    assert params["entities"].autocomplete and params["timezone"].autocomplete
    recap = adapter.client.tree.get_command("recap")
    assert isinstance(recap, app_commands.Command)
    assert [c.value for c in recap.parameters[0].choices] == ["day", "week", "month"]


def test_entity_autocomplete_offers_the_vocabulary_names() -> None:
    pytest.importorskip("bot.core.taxonomy", reason="the core is not in the tree yet")
    from adapters.discord.commands import default_entity_names, suggest

    names = default_entity_names()
    assert "Nvidia" in names and "TSMC" in names
    assert "Nvidia, TSMC" in [c.value for c in suggest(names, "Nvidia, tsm", multi=True)]


async def test_replies_never_ping(
    adapter: DiscordAdapter, handler: RecordingHandler, fake_api: FakeDiscordAPI
) -> None:
    handler.reply = Reply(text="Unknown command '@everyone'.", ephemeral=True)
    await _invoke(adapter, "help")
    [callback] = fake_api.callbacks
    assert callback["data"]["allowed_mentions"]["parse"] == []
