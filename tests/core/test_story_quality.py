"""Story grouping quality and card faithfulness on labelled sets and on the shared corpus.

B-cubed precision/recall/F1 over the articles labelled relevant, end to end through `analyze`
(triage, clustering, cards). The hold-out set is never used for tuning; print its numbers with

    .venv/bin/python -m tests.core.test_story_quality holdout
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from bot.models import AnalyzedArticle, Article
from tests.core.test_summarize import unsupported

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
TARGET_F1 = 0.92
Labels = dict[str, dict[str, object]]
DevSet = tuple[list[Article], Labels, list[AnalyzedArticle]]


def bcubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a predicted grouping against gold labels (same ids)."""
    by_pred: dict[str, set[str]] = {}
    by_gold: dict[str, set[str]] = {}
    for item in gold:
        by_pred.setdefault(predicted[item], set()).add(item)
        by_gold.setdefault(gold[item], set()).add(item)
    precision = recall = 0.0
    for item in gold:
        pred_group, gold_group = by_pred[predicted[item]], by_gold[gold[item]]
        both = len(pred_group & gold_group)
        precision += both / len(pred_group)
        recall += both / len(gold_group)
    n = len(gold) or 1
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def test_bcubed_scores_a_known_grouping() -> None:
    gold = {"a": "x", "b": "x", "c": "y"}
    assert bcubed({"a": "1", "b": "1", "c": "2"}, gold) == (1.0, 1.0, 1.0)
    p, r, _ = bcubed({"a": "1", "b": "1", "c": "1"}, gold)
    assert r == 1.0 and p == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)


def load_labelled(name: str) -> tuple[list[Article], dict[str, dict[str, object]]] | None:
    folder = FIXTURES / name
    articles_path, labels_path = folder / "articles.jsonl", folder / "labels.json"
    if not articles_path.exists() or not labels_path.exists():
        return None
    from bot.inputs import load_inputs

    loaded = load_inputs([str(articles_path)])
    assert not loaded.errors, loaded.errors
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    return loaded.articles, labels


def run_analyze(articles: Sequence[Article]) -> list[AnalyzedArticle]:
    analyze_mod = pytest.importorskip("bot.core.analyze", reason="the triage module has not landed yet")
    taxonomy = pytest.importorskip("bot.core.taxonomy")
    return list(analyze_mod.analyze(articles, vocab=taxonomy.load_vocabulary()))


def grouping_scores(
    results: Sequence[AnalyzedArticle], labels: Mapping[str, Mapping[str, object]]
) -> tuple[float, float, float]:
    gold = {
        item.article.id: str(labels[item.article.id]["story"])
        for item in results
        if item.article.id in labels and labels[item.article.id].get("relevant")
    }
    predicted = {item.article.id: item.story_id for item in results if item.article.id in gold}
    return bcubed(predicted, gold)


def faithfulness_problems(results: Sequence[AnalyzedArticle]) -> list[str]:
    by_story: dict[str, list[AnalyzedArticle]] = {}
    for item in results:
        by_story.setdefault(item.story_id, []).append(item)
    problems = []
    for story_id, items in by_story.items():
        for sentence in unsupported(items[0].card, [i.article for i in items]):
            problems.append(f"{story_id}: {sentence[:100]}")
    return problems


@pytest.fixture(scope="module")
def devset() -> DevSet:
    loaded = load_labelled("devset")
    if loaded is None:
        pytest.skip("no dev set at tests/fixtures/devset")
    articles, labels = loaded
    return articles, labels, run_analyze(articles)


def test_devset_story_grouping(devset: DevSet) -> None:
    _, labels, results = devset
    precision, recall, f1 = grouping_scores(results, labels)
    assert f1 >= TARGET_F1, f"B-cubed P={precision:.3f} R={recall:.3f} F1={f1:.3f}"


def test_devset_cards_are_faithful(devset: DevSet) -> None:
    _, _, results = devset
    assert faithfulness_problems(results) == []


@pytest.fixture(scope="module")
def corpus() -> list[AnalyzedArticle]:
    if not CORPUS.is_dir():
        pytest.skip("no shared corpus")
    from bot.inputs import load_inputs

    loaded = load_inputs([str(CORPUS)])
    if len(loaded.articles) < 5:
        pytest.skip("shared corpus incomplete")
    return run_analyze(loaded.articles)


def test_corpus_story_grouping(corpus: list[AnalyzedArticle]) -> None:
    story = {item.article.id[:3]: item.story_id for item in corpus}
    assert all(item.triage.relevant for item in corpus)
    assert story["000"] == story["002"], "the two reports of the Blackwell/Inner Mongolia story"
    others = [story["000"], story["001"], story["003"], story["004"]]
    assert len(set(others)) == 4, story


def test_corpus_cards_are_faithful(corpus: list[AnalyzedArticle]) -> None:
    assert faithfulness_problems(corpus) == []


def main(argv: Sequence[str]) -> int:
    """Print grouping and faithfulness numbers for a labelled set (e.g. the hold-out set)."""
    name = argv[0] if argv else "holdout"
    loaded = load_labelled(name)
    if loaded is None:
        print(f"no labelled set at tests/fixtures/{name}")
        return 1
    from bot.core.analyze import analyze
    from bot.core.taxonomy import load_vocabulary

    articles, labels = loaded
    results = analyze(articles, vocab=load_vocabulary())
    precision, recall, f1 = grouping_scores(results, labels)
    problems = faithfulness_problems(results)
    print(f"{name}: {len(articles)} articles; story B-cubed P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    print(f"{name}: card sentences without a source: {len(problems)}")
    for line in problems[:20]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
