"""bot.core.text: HTML to text, repair, boilerplate, sentences, hashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import text

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
THAI_MOJIBAKE_FILE = CORPUS / "000_098d31c2acc1f1a7.txt"


def test_html_to_text_drops_chrome_and_keeps_paragraphs() -> None:
    html = (
        "<html><head><title>x</title><style>p{color:red}</style><script>var a = 1;</script></head>"
        "<body><header>Site header</header><nav>Home | Chips | Power</nav>"
        "<article><h1>Grid operator adds capacity</h1><p>The first   paragraph\n spans lines &amp; more.</p>"
        "<p>Second paragraph.<br>With a line break.</p></article>"
        "<aside>Related links</aside><form>Subscribe</form><footer>Footer text</footer></body></html>"
    )
    out = text.html_to_text(html)
    assert out == (
        "Grid operator adds capacity\n\nThe first paragraph spans lines & more.\n\n"
        "Second paragraph.\nWith a line break."
    )
    for chrome in ("Site header", "Home", "Related links", "Subscribe", "Footer text", "var a", "color"):
        assert chrome not in out


def test_title_from_html_prefers_title_and_trims_site_name() -> None:
    assert (
        text.title_from_html("<title>Utility signs 900 MW deal | GridWire</title>")
        == "Utility signs 900 MW deal"
    )
    assert text.title_from_html("<body><h1>Only a heading</h1><p>x</p></body>") == "Only a heading"
    assert text.title_from_html('<meta property="og:title" content="From &amp; og">') == "From & og"
    assert text.title_from_html("<p>no title here</p>") is None


def test_repair_fixes_cp874_mojibake_of_symbols() -> None:
    damaged = (
        "\u2022 bullet".encode().decode("cp874")
        + " and "
        + "\u26a1 fast".encode().decode("cp1252", "replace")
    )
    assert "โ€ข" in damaged
    fixed = text.repair(damaged)
    assert "โ" not in fixed and "€" not in fixed
    assert fixed.startswith("\u2022 bullet")


def test_repair_fixes_latin1_mojibake_and_leaves_real_text() -> None:
    assert text.repair("The cafÃ© said itâ€™s done") == "The café said it’s done"
    thai = "ศูนย์ข้อมูลใหม่ในกรุงเทพฯ"
    assert text.repair(thai) == thai
    assert text.repair("Über 50 Rechenzentren in München") == "Über 50 Rechenzentren in München"


def test_repair_removes_emoji() -> None:
    assert text.repair("\U0001f4ca What Changed \u26a1") == " What Changed "


@pytest.mark.skipif(not THAI_MOJIBAKE_FILE.exists(), reason="shared corpus not present")
def test_corpus_card_sections_are_recognisable_after_clean() -> None:
    cleaned = text.clean(THAI_MOJIBAKE_FILE.read_text(encoding="utf-8"))
    lines = cleaned.split("\n\n")
    for heading in ("What Changed", "Why It Matters", "What To Do Next", "Timeline", "Future Implications"):
        assert heading in lines
    assert not any("\u0e00" <= ch <= "\u0e7f" for ch in cleaned)
    assert "PostLinkedIn" not in cleaned
    assert "Read original" not in cleaned
    assert "rights belong" not in cleaned
    # The repeated headline survives once.
    assert lines.count("DeepSeek Seeks Engineers for Banned-Chip Data Centers") == 1


def test_strip_boilerplate_removes_site_chrome() -> None:
    raw = "\n".join(
        [
            "Chipmaker opens packaging plant",
            "Chipmaker opens packaging plant",
            "Chipmaker opens packaging plant",
            "5 min read",
            "Home > News > Semiconductors",
            "ShareTweetEmail",
            "PostLinkedIn",
            "The company said the plant will assemble accelerator packages from next year.",
            "<p>Production starts with two lines.</p>",
            "Read original on Example Wire",
            "Previous Post Next Post",
            "Join the conversation",
            "Post a Comment",
            "Write A Comment",
            "About the author",
            "Jane Doe covers semiconductors for the site.",
        ]
    )
    out = text.strip_boilerplate(raw)
    assert out == (
        "Chipmaker opens packaging plant\n\n"
        "The company said the plant will assemble accelerator packages from next year.\n\n"
        "Production starts with two lines."
    )


def test_strip_boilerplate_keeps_prose_that_mentions_chrome_words() -> None:
    prose = "Read more about the deal: the operator will share capacity with two tenants in Texas."
    assert text.strip_boilerplate(prose) == prose
    assert text.strip_boilerplate("By contrast the new plant uses river water.") == (
        "By contrast the new plant uses river water."
    )


def test_clean_plain_text_and_html_give_paragraphs() -> None:
    assert text.clean("First line.\nSecond line.\n\n\nThird.") == "First line.\n\nSecond line.\n\nThird."
    assert text.clean("<p>One.</p><p>Two &amp; three.</p>") == "One.\n\nTwo & three."
    assert text.clean("") == ""


def test_sentences_respects_abbreviations_and_decimals() -> None:
    para = (
        "The U.S. Commerce Dept. said Nvidia Corp. will ship chips rated at 1.2 GW in total. "
        'The firm, Acme Inc. of Texas, agreed. "It is large," he said. Dr. Lee disagreed! Why?'
    )
    assert text.sentences(para) == [
        "The U.S. Commerce Dept. said Nvidia Corp. will ship chips rated at 1.2 GW in total.",
        "The firm, Acme Inc. of Texas, agreed.",
        '"It is large," he said.',
        "Dr. Lee disagreed!",
        "Why?",
    ]


def test_sentences_never_merge_paragraphs_and_split_cjk() -> None:
    assert text.sentences("What Changed\n\nA plant opened") == ["What Changed", "A plant opened"]
    assert text.sentences("数据中心已开工。预计明年投产。") == ["数据中心已开工。", "预计明年投产。"]


def test_content_hash_ignores_case_space_and_punctuation() -> None:
    a = text.content_hash("Nvidia ships B200", "The chips ship now.\n\nMore soon.")
    b = text.content_hash("nvidia  ships b200!", "The chips ship now. More soon")
    c = text.content_hash("Nvidia ships B300", "The chips ship now.\n\nMore soon.")
    assert a == b
    assert a != c
    assert len(a) == 64 and int(a, 16) >= 0


def test_text_with_some_html_keeps_its_blank_line_paragraphs() -> None:
    raw = "First paragraph about racks.\n\nSecond paragraph about cooling.\n\n<p>Tested on: a lab rig.</p>"
    assert text.clean(raw) == (
        "First paragraph about racks.\n\nSecond paragraph about cooling.\n\nTested on: a lab rig."
    )


def test_inline_author_box_and_related_links_are_dropped() -> None:
    raw = (
        "The operator signed a 300 MW lease.\n\n"
        "Related: Grid prices hit record | Virginia sites and the grid\n\n"
        '<div class="author-box">About the author: Sam covers power markets. Follow Sam.</div>'
    )
    assert text.clean(raw) == "The operator signed a 300 MW lease."


def test_control_characters_are_removed() -> None:
    assert text.clean("Power\x00 deal\x07 signed.") == "Power deal signed."


def test_html_chrome_marked_by_class_is_dropped_but_wrappers_are_kept() -> None:
    body = "The utility will supply 500 MW to the campus over ten years. " * 12
    html = (
        f'<div class="shared-layout"><article><p>{body}</p>'
        '<div class="share-bar">Share on X Facebook</div>'
        '<div class="related-posts"><a>Other story one</a> <a>Other story two</a></div>'
        '<section id="comments">12 comments: great article</section>'
        "<p>Final paragraph.</p></article></div>"
    )
    out = text.clean(html)
    assert out.startswith("The utility will supply 500 MW")
    assert out.endswith("Final paragraph.")
    for chrome in ("Share on X", "Other story", "great article"):
        assert chrome not in out


def test_repair_unescapes_leftover_html_entities() -> None:
    assert text.repair("AT&amp;T and Nvidia&#8217;s deal") == "AT&T and Nvidia’s deal"
    assert text.repair("R&D & more") == "R&D & more"


def test_sentences_end_after_numbers_but_not_after_initials() -> None:
    assert text.sentences("Revenue rose to 50. The firm said J. Smith agreed. It was No. 1 in sales.") == [
        "Revenue rose to 50.",
        "The firm said J. Smith agreed.",
        "It was No. 1 in sales.",
    ]


def test_dateline_chrome_is_dropped_but_prose_with_numbers_is_kept() -> None:
    raw = "Published 12 papers on chips.\n\nUpdated: March 3, 2026 10:00 GMT\n\nPosted 3 Mar 2026\n\nBody."
    assert text.clean(raw) == "Published 12 papers on chips.\n\nBody."


def test_repair_of_ascii_text_handles_entities_and_controls_only() -> None:
    assert text.repair("Plain wire copy, nothing to fix.") == "Plain wire copy, nothing to fix."
    assert text.repair("AT&amp;T\x07 buys racks") == "AT&T buys racks"
    # An entity that decodes to a pictograph is dropped like any other emoji.
    assert text.repair("Rocket &#128640; launch") == "Rocket  launch"
    assert text.repair("Caf&eacute; opens") == "Café opens"
