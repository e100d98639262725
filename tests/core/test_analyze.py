"""The batch core: triage, clustering and one card per story, in input order."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from bot.core.stories import story_id_for
from bot.models import Article
from tests.core.test_stories import SAMPLES, grouped, same_partition

analyze_mod = pytest.importorskip("bot.core.analyze", reason="the triage module has not landed yet")
taxonomy = pytest.importorskip("bot.core.taxonomy")

GAMING = Article(
    id="gaming",
    title="RTX 5070 review: a quiet card for 1440p",
    text=(
        "We played twelve games on the GeForce RTX 5070 at 1440p. Frame rates were about 10 percent "
        "higher than last year's card. The fan stays quiet and the price is $549."
    ),
    source="Game Bench",
)


@pytest.fixture(scope="module")
def vocab() -> Any:
    return taxonomy.load_vocabulary()


def test_results_follow_input_order_and_group_stories(vocab: Any) -> None:
    articles = [a for a, _ in SAMPLES] + [GAMING]
    results = analyze_mod.analyze(articles, vocab=vocab)
    assert [r.article.id for r in results] == [a.id for a in articles]
    relevant = {r.article.id: r.story_id for r in results if r.article.id in grouped(SAMPLES)}
    assert same_partition(relevant, grouped(SAMPLES)) == []


def test_one_card_object_per_story_and_shared_importance(vocab: Any) -> None:
    results = analyze_mod.analyze([a for a, _ in SAMPLES], vocab=vocab)
    by_story: dict[str, list] = {}
    for r in results:
        by_story.setdefault(r.story_id, []).append(r)
    for items in by_story.values():
        assert all(i.card is items[0].card for i in items)
        assert len({i.triage.importance for i in items}) == 1
        assert items[0].card.what_changed


def test_irrelevant_article_gets_its_own_story_and_a_card(vocab: Any) -> None:
    results = analyze_mod.analyze([GAMING, SAMPLES[0][0]], vocab=vocab)
    gaming = results[0]
    assert not gaming.triage.relevant
    assert gaming.story_id == story_id_for("gaming")
    assert gaming.story_id != results[1].story_id
    assert gaming.card.what_changed and gaming.card.who_should_care == ()


def test_grouping_does_not_depend_on_input_order(vocab: Any) -> None:
    articles = [a for a, _ in SAMPLES]
    shuffled = articles[:]
    random.Random(4).shuffle(shuffled)
    first = {r.article.id: r.story_id for r in analyze_mod.analyze(articles, vocab=vocab)}
    second = {r.article.id: r.story_id for r in analyze_mod.analyze(shuffled, vocab=vocab)}
    assert first == second  # same ids too: the earliest report founds each story


def test_undated_articles_still_cluster(vocab: Any) -> None:
    # Only the events of one week, so the window is not needed to keep them apart.
    week = [(a, s) for a, s in SAMPLES if s.startswith(("ds-", "msft", "meta", "coreweave"))]
    undated = [dataclasses.replace(a, published=None) for a, _ in week]
    results = analyze_mod.analyze(undated, vocab=vocab)
    assert same_partition({r.article.id: r.story_id for r in results}, grouped(week)) == []


def test_empty_batch(vocab: Any) -> None:
    assert analyze_mod.analyze([], vocab=vocab) == []


def test_irrelevant_card_is_brief_and_faithful(vocab: Any) -> None:
    card = analyze_mod.analyze([GAMING], vocab=vocab)[0].card
    assert card.what_changed == GAMING.title
    assert card.key_takeaways == () and card.timeline == ()
    assert card.what_to_do_next.startswith("No action needed")
    assert [s.name for s in card.sources] == ["Game Bench"]


def test_a_report_of_two_halves_merges_the_stories_they_founded(vocab: Any) -> None:
    # Three reports of one vote on a data center's wells, in the holdout7 set: the local paper's
    # account and the wire's share too little to meet; a trade analysis that carries both
    # brings them together, and every article of the two then names the same story.
    from bot.inputs import load_inputs
    from tests.core.test_story_quality import FIXTURES

    articles = load_inputs([str(FIXTURES / "holdout7" / "articles.jsonl")]).articles
    trio = ("h7-13275b7324", "h7-fa7c7ddb3d", "h7-7d97a3c782")
    without = [a for a in articles if a.id != trio[2]]
    apart = {r.article.id: r.story_id for r in analyze_mod.analyze(without, vocab=vocab)}
    assert apart[trio[0]] != apart[trio[1]]
    results = {r.article.id: r for r in analyze_mod.analyze(articles, vocab=vocab)}
    assert len({results[i].story_id for i in trio}) == 1
    assert results[trio[0]].card is results[trio[1]].card  # one card for the merged story


def test_an_article_that_reports_a_relevant_story_joins_it_and_is_relevant(vocab: Any) -> None:
    # In the holdout5 set, a French regional paper's piece on the Tertre plant (jobs and euros,
    # no AI-infrastructure words) reports the same expansion as two trade reports.
    from bot.core.triage import triage
    from bot.inputs import load_inputs
    from tests.core.test_story_quality import FIXTURES

    articles = load_inputs([str(FIXTURES / "holdout5" / "articles.jsonl")]).articles
    local, trade = "h5-5bd803daf1", "h5-93e89d03a4"
    by_id = {a.id: a for a in articles}
    assert not triage(by_id[local], vocab).relevant
    results = {r.article.id: r for r in analyze_mod.analyze(articles, vocab=vocab)}
    assert results[local].triage.relevant and results[local].story_id == results[trade].story_id
    assert "same event as the story" in results[local].triage.explanation
    # Alone, with no relevant story to report, it stays irrelevant and on its own.
    (alone,) = analyze_mod.analyze([by_id[local]], vocab=vocab)
    assert not alone.triage.relevant
    # Every article made relevant this way is labelled relevant: none of the set's hard
    # negatives (phones, gaming, market wraps) reports a relevant story's event.
    from tests.core.test_story_quality import load_labelled

    loaded = load_labelled("holdout5")
    assert loaded is not None
    by_context = {
        i for i, r in results.items() if r.triage.relevant and not triage(by_id[i], vocab).relevant
    }
    assert local in by_context and all(loaded[1][i]["relevant"] for i in by_context)
