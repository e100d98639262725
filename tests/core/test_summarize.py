"""The extractive card: faithful to its sources, guidance that reads as guidance, dated timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.core.dates import find_dates
from bot.core.guidance import DEFAULT_AUDIENCES
from bot.core.summarize import DERIVED_PREFIX, norm, summarize
from bot.models import Article, Card, Entity, TimelineEvent, Triage
from tests.core.test_stories import SAMPLES

PUBLISHED = datetime(2026, 4, 15, 14, 0, tzinfo=UTC)

WIRE = Article(
    id="wire",
    title="Orbital Compute orders 40,000 GPUs for Texas campus",
    source="Wire One",
    url="https://wireone.example/orbital",
    published=PUBLISHED,
    text=(
        "Orbital Compute has ordered 40,000 Nvidia GPUs for a new AI campus near Abilene, Texas, the "
        "company said on Tuesday.\n\n"
        "Is this the biggest order of the year?\n\n"
        "The order is worth about $2.4 billion and the first racks will ship in July.\n\n"
        "Orbital Compute signed a 300 MW power agreement with a local utility last March.\n\n"
        "The campus could strain the regional grid, which means other data-center projects may wait "
        "longer for connections.\n\n"
        "Subscribe to our newsletter for more infrastructure news.\n\n"
        "\u201cWe are building for the next decade,\u201d the chief executive said.\n\n"
        "The company plans to add a second building by 2028.\n\n"
        "Orbital Compute was founded in 2021 by former cloud engineers."
    ),
)
TRADE = Article(
    id="trade",
    title="Abilene gets another AI build as Orbital books 40k Nvidia chips",
    source="DC Frontier",
    url="https://dcfrontier.example/abilene",
    published=PUBLISHED.replace(hour=18),
    text=(
        "Orbital Compute will deploy 40,000 Nvidia accelerators at a campus outside Abilene, Texas.\n\n"
        "The deal, valued at roughly $2.4 billion, makes Orbital one of the largest private GPU buyers "
        "in the state.\n\n"
        "Orbital Compute raised $900 million from infrastructure funds on January 20.\n\n"
        "Orbital signed a 300 MW power agreement with a local utility in March 2025.\n\n"
        "Local officials expect construction jobs to peak next year.\n\n"
        "Read more: our full coverage of Texas data centers."
    ),
)
TRIAGE = Triage(
    relevant=True,
    relevance=0.95,
    topics=("datacenter", "chips", "energy"),
    entities=(
        Entity("Orbital Compute", "organization"),
        Entity("Nvidia", "organization"),
        Entity("Abilene", "place"),
        Entity("40,000 GPUs", "gpu_count", 40000, "gpus"),
    ),
    importance=70,
    explanation="",
)


def card_sentences(card: Card) -> list[str]:
    """Every sentence of a card that must come from the sources (not guidance, not derived)."""
    out = [card.title, card.what_changed, *card.key_takeaways, *card.future_implications]
    if not card.why_it_matters.startswith(DERIVED_PREFIX):
        out.append(card.why_it_matters)
    return out


def unsupported(card: Card, articles: list[Article], history: tuple[TimelineEvent, ...] = ()) -> list[str]:
    """Card sentences (and timeline events) that no source article contains."""
    sources = [norm(a.title + "\n" + a.text) for a in articles]
    outside = [s for s in card_sentences(card) if not any(norm(s) in src for src in sources)]
    outside += [
        e.event for e in card.timeline if e not in history and not any(norm(e.event) in s for s in sources)
    ]
    return outside


@pytest.fixture
def card() -> Card:
    return summarize([(WIRE, TRIAGE), (TRADE, TRIAGE)])


def test_every_card_sentence_is_in_a_source(card: Card) -> None:
    assert unsupported(card, [WIRE, TRADE]) == []


def test_what_changed_is_the_lead_event_not_a_question_or_quote(card: Card) -> None:
    assert card.what_changed.startswith("Orbital Compute has ordered 40,000 Nvidia GPUs")
    for sentence in card_sentences(card):
        assert not sentence.endswith("?")
        assert not sentence.startswith("\u201c")
        assert "newsletter" not in sentence.lower() and "read more" not in sentence.lower()


def test_why_it_matters_carries_stakes(card: Card) -> None:
    assert card.why_it_matters.startswith("The campus could strain the regional grid")


def test_takeaways_are_distinct_and_informative(card: Card) -> None:
    assert 3 <= len(card.key_takeaways) <= 5
    assert card.what_changed not in card.key_takeaways
    # Both outlets report the 300 MW power agreement in nearly the same words: it appears once.
    assert sum("300 MW power agreement" in t for t in card_sentences(card)) <= 1
    assert any(re.search(r"\d", t) for t in card.key_takeaways)


def test_future_implications_look_forward(card: Card) -> None:
    assert 1 <= len(card.future_implications) <= 3
    assert "The company plans to add a second building by 2028." in card.future_implications
    for sentence in card.future_implications:
        assert re.search(r"\b(will|plans?|expects?|expected|could|next|by 20\d\d|likely)\b", sentence)


def test_timeline_has_dated_events_resolved_against_publication(card: Card) -> None:
    dates = {e.date: e.event for e in card.timeline}
    assert "2025-03" in dates and "last March" in dates["2025-03"]  # "last March" from April 2026
    assert dates.get("2026-01-20", "").startswith("Orbital Compute raised $900 million")
    assert dates.get("2026-04-15") == WIRE.title  # the story's first report
    assert [e.date for e in card.timeline] == sorted(e.date for e in card.timeline)


def test_timeline_merges_history_without_duplicates() -> None:
    history = (
        TimelineEvent("2024-11-02", "Orbital Compute opens first GPU cloud region"),
        TimelineEvent("2026-04-15", WIRE.title),
    )
    card = summarize([(WIRE, TRIAGE)], history=history)
    events = [e.event for e in card.timeline]
    assert "Orbital Compute opens first GPU cloud region" in events
    assert [e.date for e in card.timeline] == sorted(e.date for e in card.timeline)
    assert events.count(WIRE.title) == 1
    assert unsupported(card, [WIRE], history) == []


def test_audiences_and_guidance(card: Card) -> None:
    assert card.who_should_care and set(card.who_should_care) <= set(DEFAULT_AUDIENCES)
    assert card.who_should_care[0] == "data-center operators"
    first_word = card.what_to_do_next.split()[0].rstrip(":")
    assert first_word in {"Check", "Review", "Track", "Ask", "Watch", "Reassess", "Keep"}
    assert "Orbital Compute" in card.what_to_do_next
    assert norm(card.what_to_do_next) not in norm(WIRE.text + TRADE.text)


def test_sources_one_per_outlet(card: Card) -> None:
    again = summarize([(WIRE, TRIAGE), (TRADE, TRIAGE), (WIRE, TRIAGE)])
    assert [s.name for s in again.sources] == ["Wire One", "DC Frontier"]
    assert card.sources[0].url == WIRE.url


def test_no_stated_consequence_gives_a_labelled_derived_line() -> None:
    plain = Article(
        id="plain",
        title="Kestrel Labs opens GPU cluster in Oslo",
        text="Kestrel Labs opened a GPU cluster in Oslo on Monday. The cluster has 2,048 accelerators.",
        published=PUBLISHED,
    )
    triage = Triage(True, 0.8, ("cloud-capacity",), (Entity("Kestrel Labs", "organization"),), 40, "")
    card = summarize([(plain, triage)])
    assert card.why_it_matters.startswith(DERIVED_PREFIX)
    assert card.what_changed == "Kestrel Labs opened a GPU cluster in Oslo on Monday."
    # The lead itself is not repeated in the timeline: the first report stands for it.
    assert card.timeline == (TimelineEvent("2026-04-15", plain.title),)


def test_non_english_article_still_gets_a_card_from_its_sentences() -> None:
    german = Article(
        id="de",
        title="Rechenzentrum in Hessen",
        text=(
            "Der Betreiber Nordlicht baut ein neues Rechenzentrum mit 120 Megawatt in Hanau. "
            "Die erste Halle soll im Jahr 2027 in Betrieb gehen. "
            "Nordlicht investiert dafür rund 1,5 Milliarden Euro in den Standort."
        ),
        published=PUBLISHED,
    )
    triage = Triage(True, 0.7, ("datacenter",), (Entity("Nordlicht", "organization"),), 40, "")
    card = summarize([(german, triage)])
    assert card.what_changed.startswith("Der Betreiber Nordlicht baut")
    assert unsupported(card, [german]) == []


def test_chinese_article_card_uses_its_own_sentences_and_dates() -> None:
    chinese = Article(
        id="zh",
        title="美国商务部对英伟达芯片出口实施许可证管理",
        text="美国商务部工业与安全局发布规则，要求向马来西亚出口英伟达GPU必须申请许可证。该规则定于2月15日生效。",
        published=datetime(2026, 1, 13, tzinfo=UTC),
    )
    triage = Triage(True, 0.8, ("export-controls",), (Entity("Nvidia", "organization"),), 60, "")
    card = summarize([(chinese, triage)])
    assert card.what_changed == "美国商务部工业与安全局发布规则，要求向马来西亚出口英伟达GPU必须申请许可证。"
    assert TimelineEvent("2026-02-15", "该规则定于2月15日生效。") in card.timeline
    assert unsupported(card, [chinese]) == []


def test_cards_for_the_sample_stories_are_faithful() -> None:
    stories: dict[str, list[Article]] = {}
    for article, story in SAMPLES:
        stories.setdefault(story, []).append(article)
    triage = Triage(True, 0.9, ("chips",), (), 50, "")
    for story, articles in stories.items():
        card = summarize([(a, triage) for a in articles])
        assert unsupported(card, articles) == [], story
        assert card.what_changed


@pytest.mark.parametrize(
    ("sentence", "iso"),
    [
        ("The rule took effect on 2025-02-14 after review.", "2025-02-14"),
        ("It was announced on January 20, 2025, in Washington.", "2025-01-20"),
        ("Shipments began on 3 March 2024 from Taiwan.", "2024-03-03"),
        ("Work started in April 2023 at the site.", "2023-04"),
        ("The plant opened in 2019 near the river.", "2019"),
        ("The company filed its plan last March.", "2025-03"),
        ("The order was placed on February 2.", "2026-02-02"),
        ("Orders will resume next January.", "2027-01"),
        ("The rule was published on Monday.", "2026-04-13"),  # the Monday before Wed 15 April
        ("Die Regel gilt ab 15. Februar 2026.", "2026-02-15"),
        ("Entrée en vigueur le 15 février.", "2026-02-15"),
        ("El 15 de febrero de 2026 entra en vigor.", "2026-02-15"),
        ("该规则定于2月15日生效。", "2026-02-15"),
        ("2025年3月に発表した。", "2025-03"),
    ],
)
def test_find_dates(sentence: str, iso: str) -> None:
    found = find_dates(sentence, PUBLISHED)
    assert found and found[0].iso == iso


def test_dates_that_need_a_reference_are_skipped_without_one() -> None:
    assert find_dates("The company filed its plan last March.", None) == []
    assert find_dates("Prices may rise as demand grows.", PUBLISHED) == []


def test_relevant_story_without_topics_still_names_an_audience() -> None:
    triage = Triage(True, 0.6, (), (Entity("Orbital Compute", "organization"),), 40, "")
    card = summarize([(WIRE, triage)])
    assert card.who_should_care == ("infra & platform engineers",)
    assert card.what_to_do_next.startswith("Keep watching")
