from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.slack.blocks import clip, escape, link, render, render_card, render_digest, render_text
from bot.messages import CardMessage, DigestItem, DigestMessage, DigestSection, TextMessage
from bot.models import Card, SourceRef, TimelineEvent
from tests.adapters.slack.fake_slack_api import check_message


def card(**overrides: object) -> Card:
    values: dict[str, object] = {
        "title": "Chipmaker ships new accelerator",
        "what_changed": "A new accelerator shipped to three clouds.",
        "why_it_matters": "More supply of training capacity next quarter.",
        "who_should_care": ("cloud buyers", "ML platform teams"),
        "what_to_do_next": "Ask your provider about reserved capacity.",
        "key_takeaways": ("Shipping now", "Three clouds"),
        "future_implications": ("Prices may fall",),
        "timeline": (TimelineEvent("2026-11", "Announced"),),
        "sources": (SourceRef("Chip Wire", "https://chipwire.example/a?x=1&y=2"), SourceRef("Grid News")),
        "backend": "extractive",
    }
    values.update(overrides)
    return Card(**values)  # type: ignore[arg-type]


def message(c: Card | None = None, **overrides: object) -> CardMessage:
    values: dict[str, object] = {
        "story_id": "s1",
        "card": c or card(),
        "importance": 82,
        "topics": ("chips", "cloud-capacity"),
        "why_posted": "matches chips; importance 82 >= 60",
        "published": datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return CardMessage(**values)  # type: ignore[arg-type]


def texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields", []))
        out.extend(e["text"] for e in b.get("elements", []))
    return "\n".join(out)


def test_card_has_every_part_in_order() -> None:
    rendered = render_card(message())
    assert check_message(rendered.text, rendered.blocks) == []
    kinds = [b["type"] for b in rendered.blocks]
    assert kinds[0] == "header" and kinds[-1] == "context"
    assert rendered.blocks[0]["text"]["text"] == "Chipmaker ships new accelerator"
    body = texts(rendered.blocks)
    order = [
        "*What changed*",
        "*Why it matters*",
        "*Who should care*",
        "*What to do next*",
        "*Key takeaways*",
    ]
    positions = [body.index(h) for h in order]
    assert positions == sorted(positions)
    assert "• ML platform teams" in body
    # Sources are links; the & in the URL is escaped; a source without URL is plain text.
    assert "<https://chipwire.example/a?x=1&amp;y=2|Chip Wire>" in body
    assert "Grid News" in body
    context = " ".join(e["text"] for e in rendered.blocks[-1]["elements"])
    for part in ("82/100", "chips, cloud-capacity", "extractive", "matches chips"):
        assert part in context
    assert rendered.text.startswith("Chipmaker ships new accelerator")


def test_mrkdwn_control_characters_are_escaped() -> None:
    rendered = render_card(message(card(what_changed="A <b>bold</b> & risky <!channel> claim")))
    body = texts(rendered.blocks)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; risky &lt;!channel&gt;" in body
    assert "<!channel>" not in body


def test_oversized_card_stays_within_every_limit() -> None:
    huge = "word " * 5000
    big = card(
        title="T" * 400,
        what_changed=huge,
        why_it_matters=huge,
        who_should_care=tuple(f"audience {i} " + "x" * 3000 for i in range(25)),
        what_to_do_next=huge,
        key_takeaways=tuple(f"takeaway {i} " + "y" * 500 for i in range(40)),
        future_implications=tuple("z" * 4000 for _ in range(3)),
        timeline=tuple(TimelineEvent("2026", "e" * 200) for _ in range(60)),
        sources=tuple(SourceRef(f"Outlet {i}", f"https://o{i}.example/" + "p" * 300) for i in range(80)),
    )
    rendered = render_card(message(big, why_posted="w" * 5000, topics=tuple(f"t{i}" for i in range(30))))
    assert check_message(rendered.text, rendered.blocks) == []
    header = rendered.blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    who = next(b for b in rendered.blocks if b.get("text", {}).get("text") == "*Who should care*")
    assert len(who["fields"]) == 10 and who["fields"][-1]["text"] == "…and 16 more"
    takeaways = next(b for b in rendered.blocks if b["text"]["text"].startswith("*Key takeaways*"))
    assert "more" in takeaways["text"]["text"].splitlines()[-1]
    sources = next(b for b in rendered.blocks if b["text"]["text"].startswith("*Sources*"))
    # Links are never cut in half: every "<" is closed.
    assert sources["text"]["text"].count("<") == sources["text"]["text"].count(">")
    assert "more" in sources["text"]["text"]
    assert len(rendered.text) <= 3000


def test_followup_is_compact_and_says_what_is_new() -> None:
    rendered = render_card(message(followup="Grid News adds: 1.2 GW of new capacity"))
    assert check_message(rendered.text, rendered.blocks) == []
    assert rendered.blocks[0]["text"]["text"].startswith("*Follow-up:* Grid News adds")
    assert all(b["type"] != "header" for b in rendered.blocks)


def digest(sections: int, items: int, line: str = "Something changed.") -> DigestMessage:
    return DigestMessage(
        title="Top AI-infrastructure stories, week to 22 Nov 2026",
        period="week",
        sections=tuple(
            DigestSection(
                topic=f"topic-{s}",
                items=tuple(
                    DigestItem(
                        story_id=f"s{s}-{i}",
                        title=f"Story {s}-{i}",
                        line=line,
                        importance=90 - i,
                        sources=(SourceRef("Chip Wire", f"https://chipwire.example/{s}/{i}"),),
                    )
                    for i in range(items)
                ),
            )
            for s in range(sections)
        ),
    )


def test_small_digest_is_one_message_grouped_by_topic() -> None:
    pages = render_digest(digest(2, 3))
    assert len(pages) == 1
    assert check_message(pages[0].text, pages[0].blocks) == []
    body = texts(pages[0].blocks)
    assert body.index("*Topic 0*") < body.index("Story 0-2") < body.index("*Topic 1*")
    assert "<https://chipwire.example/1/2|Chip Wire>" in body


def test_large_digest_pages_and_then_truncates() -> None:
    # 80 topics with long lines: more than 50 blocks, more than max_pages pages.
    pages = render_digest(digest(80, 4, line="L" * 2000), max_pages=2)
    assert len(pages) == 2
    for page in pages:
        assert check_message(page.text, page.blocks) == []
        assert len(page.blocks) <= 50
    last = pages[-1].blocks[-1]
    assert last["type"] == "context" and "more stories not shown" in last["elements"][0]["text"]

    complete = render_digest(digest(60, 1))
    assert len(complete) == 2
    assert complete[0].blocks[-1]["elements"][0]["text"] == "Page 1 of 2"
    shown = sum(texts(p.blocks).count("• *Story") for p in complete)
    assert shown == 60


def test_empty_digest_says_so() -> None:
    pages = render_digest(
        DigestMessage(title="Recap", period="day", sections=(), empty_note="Nothing new today.")
    )
    assert len(pages) == 1
    assert "Nothing new today." in texts(pages[0].blocks)


def test_long_text_reply_is_split_into_sections() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "q" * 900 for i in range(10))
    rendered = render_text(text)
    assert check_message(rendered.text, rendered.blocks) == []
    assert len(rendered.blocks) > 1
    assert "Paragraph 9" in texts(rendered.blocks)
    one_line = render_text("x" * 10_000)  # no break anywhere: clipped, not refused
    assert check_message(one_line.text, one_line.blocks) == []


def test_render_dispatches_on_message_type() -> None:
    assert render(TextMessage("hi"))[0].blocks[0]["text"]["text"] == "hi"
    with pytest.raises(TypeError):
        render("nope")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "limit"),
    [("a &amp; b", 5), ("see <https://x.example|x> now", 12), ("plain words here", 8)],
)
def test_clip_never_leaves_half_an_escape_or_link(text: str, limit: int) -> None:
    cut = clip(text, limit)
    assert len(cut) <= limit and cut.endswith("…")
    assert cut.count("<") == cut.count(">")
    assert "&" not in cut or "&amp;" in cut


def test_link_neutralises_separators() -> None:
    assert link(SourceRef("A|B", "https://x.example/p|q>r")) == "<https://x.example/p%7Cq%3Er|A/B>"
    assert link(SourceRef("Local", "file:///etc/passwd")) == "Local"
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_columnar_text_keeps_its_alignment_in_code_blocks() -> None:
    help_text = "infrawire commands:\n  subscribe [topics...]\n  recap day|week|month <topic>"
    rendered = render_text(help_text)
    body = rendered.blocks[0]["text"]["text"]
    assert body.startswith("```") and body.endswith("```")
    assert "  recap day|week|month &lt;topic&gt;" in body
    long = "\n".join(f"  line {i} " + "c" * 80 for i in range(200))  # one long columnar paragraph
    split = render_text(long)
    assert check_message(split.text, split.blocks) == []
    assert all(
        b["text"]["text"].startswith("```") and b["text"]["text"].endswith("```") for b in split.blocks
    )
    assert render_text("Subscribed this channel.").blocks[0]["text"]["text"] == "Subscribed this channel."


def test_an_empty_card_still_renders_a_valid_message() -> None:
    empty = card(
        title="  ",
        what_changed="",
        why_it_matters="",
        who_should_care=(),
        what_to_do_next="",
        key_takeaways=(),
        future_implications=(),
        timeline=(),
        sources=(),
    )
    rendered = render_card(message(empty, topics=(), why_posted="", published=None))
    assert check_message(rendered.text, rendered.blocks) == []
    assert [b["type"] for b in rendered.blocks] == ["header", "context"]
    assert rendered.blocks[0]["text"]["text"] == "Untitled"
    follow = render_card(message(empty, followup="  ", topics=()))
    assert check_message(follow.text, follow.blocks) == []
