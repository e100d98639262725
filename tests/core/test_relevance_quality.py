"""Relevance quality on the labelled development set and on the shared corpus (skipped when absent).

The holdout set is deliberately not used here: it only measures generalisation (see bench / report).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core import text
from bot.core.taxonomy import load_vocabulary
from bot.core.triage import triage
from bot.models import Article

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEVSET = FIXTURES / "devset"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def _load_set(folder: Path) -> tuple[list[Article], dict[str, bool]]:
    articles = []
    for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        articles.append(Article(id=obj["id"], title=text.repair(obj["title"]), text=text.clean(obj["text"])))
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return articles, {key: bool(value["relevant"]) for key, value in labels.items()}


def _f1(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(1 for got, gold in pairs if got and gold)
    fp = sum(1 for got, gold in pairs if got and not gold)
    fn = sum(1 for got, gold in pairs if gold and not got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@pytest.mark.skipif(not (DEVSET / "labels.json").exists(), reason="dev set not present")
def test_relevance_f1_on_dev_set() -> None:
    vocab = load_vocabulary()
    articles, labels = _load_set(DEVSET)
    assert len(articles) >= 50
    results = {a.id: triage(a, vocab) for a in articles}
    pairs = [(results[a.id].relevant, labels[a.id]) for a in articles]
    precision, recall, f1 = _f1(pairs)
    wrong = [
        f"{a.id} {a.title!r}: {results[a.id].explanation}"
        for a in articles
        if results[a.id].relevant != labels[a.id]
    ]
    assert f1 >= 0.97, f"P={precision:.3f} R={recall:.3f} F1={f1:.3f}\n" + "\n".join(wrong)


@pytest.mark.skipif(not (DEVSET / "labels.json").exists(), reason="dev set not present")
def test_topics_on_dev_set() -> None:
    """Micro-averaged topic F1 over the relevant dev articles (topics are secondary to relevance)."""
    vocab = load_vocabulary()
    articles, _ = _load_set(DEVSET)
    labels = json.loads((DEVSET / "labels.json").read_text(encoding="utf-8"))
    tp = fp = fn = 0
    for article in articles:
        gold = labels[article.id]
        if not gold["relevant"]:
            continue
        got = set(triage(article, vocab).topics)
        want = set(gold.get("topics") or [])
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.75, f"topic P={precision:.2f} R={recall:.2f} F1={f1:.2f}"


def _corpus_article(path: Path) -> Article:
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip())
    return Article(
        id=path.name,
        title=text.repair(lines[index].strip()),
        text=text.clean("\n".join(lines[index + 1 :])),
    )


@pytest.mark.skipif(not CORPUS.is_dir() or not any(CORPUS.glob("*.txt")), reason="shared corpus not present")
def test_all_corpus_articles_are_relevant() -> None:
    vocab = load_vocabulary()
    paths = sorted(CORPUS.glob("*.txt"))
    assert len(paths) >= 5
    for path in paths:
        result = triage(_corpus_article(path), vocab)
        assert result.relevant, f"{path.name}: {result.explanation}"
        assert result.topics


LABELLED_SETS = sorted(p.parent for p in FIXTURES.glob("*/labels.json"))
TOPIC_NAMES = frozenset(
    ("chips", "export-controls", "datacenter", "energy", "cloud-capacity", "supply-chain", "funding-deals",
     "models-compute", "policy")
)


@pytest.mark.parametrize("folder", LABELLED_SETS, ids=lambda p: p.name)
def test_labelled_sets_are_well_formed(folder: Path) -> None:
    """Every labelled set loads as analyze input and its labels match its articles one to one."""
    lines = [json.loads(line) for line in (folder / "articles.jsonl").read_text("utf-8").splitlines() if line]
    ids = [obj["id"] for obj in lines]
    assert len(ids) == len(set(ids)) >= 50
    for obj in lines:
        assert {"id", "title", "text", "url", "source", "published"} <= set(obj), obj["id"]
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    assert set(labels) == set(ids)
    for key, label in labels.items():
        assert label["relevant"] == (label["story"] is not None), key
        assert set(label["topics"]) <= TOPIC_NAMES, key
        assert label["relevant"] or not label["topics"], key


def analyzed_relevance(folder: Path) -> tuple[dict[str, bool], dict[str, bool]]:
    """Relevance as `infrawire analyze` gives it on a labelled set (triage, then story context:
    an article that reports the same event as a relevant story is relevant), and the labels."""
    from bot.core.analyze import analyze
    from bot.inputs import load_inputs

    loaded = load_inputs([str(folder / "articles.jsonl")])
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    results = analyze(loaded.articles, vocab=load_vocabulary())
    got = {r.article.id: r.triage.relevant for r in results}
    return got, {key: bool(value["relevant"]) for key, value in labels.items()}


def measure(folder: Path) -> str:
    """P/R/F1 of relevance on a labelled set, for reports; never used to tune on the holdout.
    The first figures are analyze's (what users get), the second triage's alone."""
    vocab = load_vocabulary()
    articles, labels = _load_set(folder)
    alone = _f1([(triage(a, vocab).relevant, labels[a.id]) for a in articles])
    got, gold = analyzed_relevance(folder)
    precision, recall, f1 = _f1([(got[key], gold[key]) for key in gold])
    return (
        f"{folder.name}: {len(articles)} articles, P={precision:.3f} R={recall:.3f} F1={f1:.3f}"
        f" (triage alone: P={alone[0]:.3f} R={alone[1]:.3f} F1={alone[2]:.3f})"
    )


if __name__ == "__main__":
    # .venv/bin/python tests/core/test_relevance_quality.py [devset|holdout|holdout2|...|holdout6]
    import sys

    for name in sys.argv[1:] or ["devset"]:
        print(measure(FIXTURES / name))
