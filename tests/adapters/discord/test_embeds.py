"""Cards and digests as embeds: the content is there, and no Discord limit is ever exceeded."""

from __future__ import annotations

import discord

from adapters.discord.embeds import (
    ELLIPSIS,
    card_embed,
    colour_for,
    digest_messages,
    fit_embed,
    render,
    text_chunks,
    truncate,
)
from bot.messages import DigestItem, DigestMessage, DigestSection, TextMessage
from bot.models import SourceRef
from tests.adapters.discord.conftest import NOW, make_card, make_card_message
from tests.adapters.discord.fake_discord_api import embed_violations


def _payload(embeds: list[discord.Embed], content: str | None = None) -> dict[str, object]:
    return {"content": content, "embeds": [e.to_dict() for e in embeds]}


def test_alert_embed_carries_every_part_of_the_card() -> None:
    embed = card_embed(make_card_message())
    data = embed.to_dict()
    assert data["title"] == "Chipmaker widens export licence requests for accelerators"
    assert data["url"] == "https://chipwire.example/a/1"
    assert data["description"].startswith("A chipmaker filed new export licence requests")
    names = [f["name"] for f in data["fields"]]
    assert names == ["Why it matters", "Who should care", "What to do next", "Key takeaways"]
    assert data["fields"][1]["value"] == "procurement, cloud operators"
    assert (
        data["fields"][3]["value"]
        == "• Two accelerator lines are covered.\n• Decisions are expected within weeks."
    )
    footer = data["footer"]["text"]
    for part in ("Chip Wire", "chips, export-controls", "extractive", "matches chips", "s-abc123"):
        assert part in footer
    assert data["color"] == colour_for(82) == 0xE74C3C
    assert embed.timestamp == NOW


def test_colour_follows_importance() -> None:
    assert colour_for(95) != colour_for(65) != colour_for(45) != colour_for(10)
    assert colour_for(80) == colour_for(100)


def test_followup_embed_says_what_is_new_and_links_every_source() -> None:
    card = make_card(
        sources=(
            SourceRef("Chip Wire", "https://chipwire.example/a/1"),
            SourceRef("Grid News", "https://grid.example/b"),
        )
    )
    data = card_embed(make_card_message(card=card, followup="Grid News adds: a 1.2 GW campus.")).to_dict()
    assert data["description"] == "Grid News adds: a 1.2 GW campus."
    assert "[Grid News](https://grid.example/b)" in data["fields"][0]["value"]


def test_a_malformed_source_url_is_left_out_instead_of_failing_the_message() -> None:
    card = make_card(sources=(SourceRef("Chip Wire", "javascript:alert(1)"),))
    assert "url" not in card_embed(make_card_message(card=card)).to_dict()


def test_empty_card_parts_make_no_empty_fields() -> None:
    card = make_card(why_it_matters="", who_should_care=(), key_takeaways=())
    data = card_embed(make_card_message(card=card)).to_dict()
    assert [f["name"] for f in data["fields"]] == ["What to do next"]
    assert embed_violations(_payload([card_embed(make_card_message(card=card))])) == []


def test_oversized_card_is_cut_to_every_limit() -> None:
    huge = "word " * 3000  # 15000 characters
    card = make_card(
        title="T" * 400 + " end",
        what_changed=huge,
        why_it_matters=huge,
        who_should_care=tuple(f"audience-{i} " * 40 for i in range(30)),
        what_to_do_next=huge,
        key_takeaways=tuple(huge for _ in range(30)),
        sources=tuple(SourceRef(f"Outlet {i} " * 20, f"https://o{i}.example/x") for i in range(60)),
    )
    message = make_card_message(card=card, why_posted=huge, topics=("chips",) * 400)
    embed = card_embed(message)
    data = embed.to_dict()
    assert embed_violations(_payload([embed])) == []
    assert len(data["title"]) <= 256 and data["title"].endswith(ELLIPSIS)
    assert len(data["description"]) <= 4096
    assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in data["fields"])
    assert len(data["footer"]["text"]) <= 2048
    assert len(embed) <= 6000
    # Graceful: the parts are shortened, not dropped.
    assert [f["name"] for f in data["fields"]] == [
        "Why it matters",
        "Who should care",
        "What to do next",
        "Key takeaways",
    ]
    assert data["description"].endswith(ELLIPSIS)


def test_fit_embed_enforces_field_count_and_names() -> None:
    embed = discord.Embed(title="x", description="d")
    for i in range(40):
        embed.add_field(name=f"N{i}" * 200, value="v" * 2000)
    fit_embed(embed)
    assert len(embed.fields) <= 25
    assert embed_violations(_payload([embed])) == []
    assert all(len(f.name or "") <= 256 for f in embed.fields)


def test_fit_embed_author_limit() -> None:
    embed = discord.Embed(title="x")
    embed.set_author(name="A" * 300)
    fit_embed(embed)
    assert len(embed.author.name or "") <= 256


def test_truncate_cuts_at_a_word_with_an_ellipsis() -> None:
    text = "alpha beta gamma delta epsilon"
    assert truncate(text, 100) == text
    cut = truncate(text, 15)
    assert cut == "alpha beta" + ELLIPSIS
    assert len(truncate("x" * 50, 10)) == 10


def _digest(n_sections: int, n_items: int, line: str = "Something changed.") -> DigestMessage:
    sections = tuple(
        DigestSection(
            topic=f"topic-{s}",
            items=tuple(
                DigestItem(
                    story_id=f"s{s}-{i}",
                    title=f"Story {s}-{i} " + "headline " * 10,
                    line=line,
                    importance=90 - i,
                    sources=(
                        SourceRef("Chip Wire", f"https://chipwire.example/{s}/{i}"),
                        SourceRef("Grid", None),
                    ),
                )
                for i in range(n_items)
            ),
        )
        for s in range(n_sections)
    )
    return DigestMessage(
        title="Top AI-infrastructure stories, week to 22 Nov 2026", period="week", sections=sections
    )


def test_digest_lists_each_story_with_a_link_grouped_by_topic() -> None:
    messages = digest_messages(_digest(2, 3))
    assert len(messages) == 1
    assert messages[0].content is not None and "week to 22 Nov 2026" in messages[0].content
    embeds = [e.to_dict() for e in messages[0].embeds]
    assert [e["title"] for e in embeds] == ["topic-0", "topic-1"]
    assert "[Story 0-0" in embeds[0]["description"]
    assert "(https://chipwire.example/0/0)" in embeds[0]["description"]


def test_a_long_digest_is_split_into_messages_within_limits() -> None:
    messages = digest_messages(_digest(14, 15, line="Long line. " * 60))
    assert len(messages) > 1
    seen = 0
    for msg in messages:
        assert embed_violations(_payload(msg.embeds, msg.content)) == []
        seen += sum(e.description.count("**[Story") for e in msg.embeds if e.description)
    assert seen == 14 * 15  # every story is still listed somewhere


def test_empty_digest_says_so() -> None:
    empty = DigestMessage(title="Recap", period="day", sections=(), empty_note="No stories in the past day.")
    [msg] = digest_messages(empty)
    assert msg.embeds == [] and msg.content is not None and "No stories in the past day." in msg.content


def test_long_text_is_split_at_line_breaks_under_2000() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    chunks = text_chunks(text)
    assert len(chunks) > 1 and all(len(c) <= 2000 for c in chunks)
    assert "\n".join(chunks) == text
    assert [m.content for m in render(TextMessage(text))] == chunks
