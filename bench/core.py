"""Speed of the news core, as ratios against baselines measured in the same run.

    python -m bench.core [--repeat N]

1. Articles per second through the whole core (text clean-up, triage, clustering, cards) on one
   core, and the ratio of core time to feedparser's time to parse the same articles as RSS items.
2. The cost of assigning one new article to a story with 1,000 and with 100,000 stored articles.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
from bot.core.analyze import analyze
from bot.core.stories import StoryIndex, features
from bot.core.taxonomy import load_vocabulary
from bot.core.triage import triage

from bot.core import text as textmod
from bot.models import Article

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def load_raw_articles() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("devset", "holdout"):
        path = FIXTURES / name / "articles.jsonl"
        if path.exists():
            rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    if not rows:
        raise SystemExit("bench.core: no articles found under tests/fixtures/{devset,holdout}")
    return rows


def as_rss(rows: list[dict[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>{escape(r.get('url') or '')}</link>"
        f"<guid>{escape(r['id'])}</guid><description>{escape(r['text'])}</description></item>"
        for r in rows
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
        f"{items}</channel></rss>"
    ).encode()


def best_of(repeat: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def core_throughput(rows: list[dict[str, str]], repeat: int) -> None:
    vocab = load_vocabulary()
    rss = as_rss(rows)

    def run_core() -> None:
        articles = []
        for r in rows:
            title = textmod.repair(r["title"])
            body = textmod.clean(r["text"])
            published = (
                datetime.fromisoformat(r["published"].replace("Z", "+00:00")) if r.get("published") else None
            )
            articles.append(
                Article(
                    id=r["id"],
                    title=title,
                    text=body,
                    url=r.get("url"),
                    source=r.get("source"),
                    published=published,
                    content_hash=textmod.content_hash(title, body),
                )
            )
        analyze(articles, vocab=vocab)

    run_core()  # warm caches (vocabulary regexes, imports)
    core_s = best_of(repeat, run_core)
    parse_s = best_of(repeat, lambda: feedparser.parse(rss))
    n = len(rows)
    print(f"core: {n} articles in {core_s * 1000:.1f} ms -> {n / core_s:,.0f} articles/s (target >= 300)")
    print(f"feedparser on the same {n} items as RSS: {parse_s * 1000:.1f} ms")
    print(f"ratio core / feedparser: {core_s / parse_s:.2f} (target <= 1)")


def synthetic_article(rng: random.Random, i: int, when: datetime) -> Article:
    companies = [f"Company{rng.randrange(5000)}" for _ in range(2)]
    figure = f"{rng.randrange(1, 900) * 1000:,}"
    place = f"Region{rng.randrange(800)}"
    title = f"{companies[0]} plans {figure}-GPU cluster in {place}"
    text = (
        f"{companies[0]} said on Tuesday it will build a data center in {place} with {figure} Nvidia GPUs. "
        f"The campus will draw {rng.randrange(50, 2000)} MW and is backed by {companies[1]}. "
        f"Construction starts in {2026 + rng.randrange(3)}."
    )
    return Article(id=f"syn-{i}", title=title, text=text, published=when, source=f"outlet{i % 40}")


def assignment_cost(stored: int, probes: int = 300) -> float:
    """Mean seconds to assign one new article after `stored` articles spread over a year."""
    vocab = load_vocabulary()
    rng = random.Random(7)
    index = StoryIndex(window=timedelta(hours=96))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / stored
    prepared = []
    for i in range(stored + probes):
        art = synthetic_article(rng, i, start + step * min(i, stored))
        prepared.append((art, features(art, triage(art, vocab))))
    for i, (art, feats) in enumerate(prepared[:stored]):
        assert art.published is not None
        index.assign(art.id, feats, art.published)
        if i % 1000 == 999:
            index.expire(art.published - timedelta(hours=192))
    samples = []
    for art, feats in prepared[stored:]:
        assert art.published is not None
        t0 = time.perf_counter()
        index.assign(art.id, feats, art.published)
        samples.append(time.perf_counter() - t0)
    return statistics.mean(samples)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = load_raw_articles()
    core_throughput(rows, args.repeat)
    small = assignment_cost(1_000)
    large = assignment_cost(100_000)
    print(f"assign one article: {small * 1e6:.0f} us with 1,000 stored, {large * 1e6:.0f} us with 100,000")
    print(f"ratio 100,000 / 1,000: {large / small:.2f} (flat is ~1)")


if __name__ == "__main__":
    main()
