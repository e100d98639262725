"""The grounding check that guards LLM-written cards."""

from __future__ import annotations

from bot.core.grounding import ground_card, source_index
from bot.models import Card, TimelineEvent

SOURCE = (
    "Microsoft plans a 1.5 GW data-center campus in Mount Pleasant, Wisconsin. "
    "The site will hold 200,000 Nvidia GB200 GPUs when complete. "
    "Construction of the second phase starts in 2027. "
    "We Energies will build new transmission lines for the campus."
)
SENTENCES = [s.strip() + "." for s in SOURCE.split(". ") if s.strip()]


def card(**changes: object) -> Card:
    base = Card(
        title="Microsoft campus",
        what_changed="Microsoft plans a 1.5 GW data-center campus in Mount Pleasant, Wisconsin.",
        why_it_matters="The site will hold 200,000 Nvidia GB200 GPUs.",
        who_should_care=("data-center operators",),
        what_to_do_next="Plan for grid capacity constraints near large campuses.",
        key_takeaways=(
            "The site will hold 200,000 Nvidia GB200 GPUs when complete.",
            "Construction of the second phase starts in 2027.",
            "We Energies will build new transmission lines for the campus.",
        ),
        future_implications=("Construction of the second phase starts in 2027.",),
        timeline=(TimelineEvent("2027", "Second phase construction starts"),),
    )
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    fields.update(changes)
    return Card(**fields)


def test_a_faithful_card_passes_untouched() -> None:
    index = source_index([SOURCE], SENTENCES)
    result = ground_card(card(), index, guidance="Guidance.")
    assert result.card == card()
    assert result.dropped == ()


def test_an_invented_figure_or_name_drops_the_takeaway() -> None:
    index = source_index([SOURCE], SENTENCES)
    bad = card(
        key_takeaways=(
            *card().key_takeaways,
            "The site will hold 350,000 Nvidia GB200 GPUs when complete.",
            "Google will build new transmission lines for the campus.",
        )
    )
    result = ground_card(bad, index, guidance="Guidance.")
    assert result.card is not None
    assert result.card.key_takeaways == card().key_takeaways
    assert any("350000" in d for d in result.dropped)
    assert any("Google" in d for d in result.dropped)


def test_unsupported_takeaway_without_figures_is_dropped() -> None:
    index = source_index([SOURCE], SENTENCES)
    bad = card(
        key_takeaways=(*card().key_takeaways, "the noisy cooling towers upset many neighbours nearby.")
    )
    result = ground_card(bad, index, guidance="Guidance.")
    assert result.card is not None and len(result.card.key_takeaways) == 3
    assert any("no source sentence" in d for d in result.dropped)


def test_unsupported_core_or_too_few_takeaways_rejects_the_card() -> None:
    index = source_index([SOURCE], SENTENCES)
    assert (
        ground_card(card(what_changed="Microsoft cancels a 3 GW campus."), index, guidance="g").card is None
    )
    thin = card(key_takeaways=("The site will hold 200,000 Nvidia GB200 GPUs when complete.", "Amazon wins."))
    assert ground_card(thin, index, guidance="g").card is None


def test_invented_guidance_is_replaced_and_bad_timeline_entries_dropped() -> None:
    index = source_index([SOURCE], SENTENCES)
    bad = card(
        what_to_do_next="Buy Oracle shares before 2026.",
        timeline=(TimelineEvent("2027", "Second phase starts"), TimelineEvent("2031", "Campus closes")),
    )
    result = ground_card(bad, index, guidance="Derived guidance.")
    assert result.card is not None
    assert result.card.what_to_do_next == "Derived guidance."
    assert [t.date for t in result.card.timeline] == ["2027"]


def test_same_figure_written_differently_is_supported() -> None:
    index = source_index(
        ["Shipments reached 50,000 units and 1.50 GW."], ["Shipments reached 50,000 units and 1.50 GW."]
    )
    assert index.unsupported_facts("50000 units, 1.5 GW") == []
    assert index.unsupported_facts("60,000 units") == ["60000"]
