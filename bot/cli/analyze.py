"""`infrawire analyze [--json] PATH...`: the core over files, folders or JSON Lines.

PATH is an article file (.txt/.md: first non-empty line is the title; .html: its title or first h1),
a folder (its article files, sorted), a .jsonl file (id, title, text, optional url, published,
source), or `-` for JSON Lines on stdin. All articles of one call are clustered together.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from bot.cli import add_config_option
from bot.config import LLMSettings, load_settings
from bot.core.analyze import analyze
from bot.core.taxonomy import load_vocabulary
from bot.inputs import load_inputs
from bot.messages import CardMessage
from bot.models import AnalyzedArticle
from bot.serialize import CARD_FIELDS, card_to_dict, entity_to_dict


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="triage, cluster and summarize article files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per article per line")
    add_config_option(parser)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, .jsonl, or - for stdin")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    loaded = load_inputs(args.paths, stdin=sys.stdin)
    for error in loaded.errors:
        print(f"infrawire analyze: error: {error}", file=sys.stderr)
    vocab = load_vocabulary(settings.core.vocabulary)
    window_hours = settings.core.story_window_hours
    from datetime import timedelta

    results = analyze(loaded.articles, vocab=vocab, window=timedelta(hours=window_hours))
    if settings.summarizer.backend == "llm":
        results = asyncio.run(with_llm_cards(results, settings.llm))
    if args.json:
        write_json(results, sys.stdout)
    else:
        write_cards(results, sys.stdout)
    return 1 if loaded.errors else 0


async def with_llm_cards(results: list[AnalyzedArticle], settings: LLMSettings) -> list[AnalyzedArticle]:
    """Ask the configured model for one card per relevant story; keep the extractive card on failure."""
    from bot.llm import LLMSummarizer

    stories: dict[str, list[AnalyzedArticle]] = {}
    for item in results:
        if item.triage.relevant:
            stories.setdefault(item.story_id, []).append(item)
    async with LLMSummarizer(settings) as llm:
        outcomes = await asyncio.gather(
            *(
                llm.card_for([(i.article, i.triage) for i in group], group[0].card)
                for group in stories.values()
            )
        )
    cards = {story_id: outcome.card for story_id, outcome in zip(stories, outcomes, strict=True)}
    return [dataclasses.replace(i, card=cards[i.story_id]) if i.story_id in cards else i for i in results]


def to_json(item: AnalyzedArticle) -> dict[str, Any]:
    triage = item.triage
    card = card_to_dict(item.card)
    return {
        "id": item.article.id,
        "title": item.article.title,
        "relevant": triage.relevant,
        "relevance": round(triage.relevance, 4),
        "importance": triage.importance,
        "topics": list(triage.topics),
        "entities": [
            {k: v for k, v in entity_to_dict(e).items() if k in ("name", "type")} for e in triage.entities
        ],
        "story": item.story_id,
        "explanation": triage.explanation,
        "card": {key: card[key] for key in CARD_FIELDS},
    }


def write_json(results: Sequence[AnalyzedArticle], out: TextIO) -> None:
    for item in results:
        out.write(json.dumps(to_json(item), ensure_ascii=False) + "\n")


def write_cards(results: Sequence[AnalyzedArticle], out: TextIO) -> None:
    """Readable cards grouped by story, most important first; irrelevant articles listed last."""
    from rich.console import Console
    from rich.text import Text

    from adapters.console import render_card

    console = Console(file=out, soft_wrap=False, highlight=False)
    stories: dict[str, list[AnalyzedArticle]] = {}
    for item in results:
        stories.setdefault(item.story_id, []).append(item)
    groups = sorted(
        (g for g in stories.values() if g[0].triage.relevant),
        key=lambda g: -max(i.triage.importance for i in g),
    )
    for group in groups:
        lead = max(group, key=lambda i: i.triage.importance)
        ids = ", ".join(i.article.id for i in group)
        message = CardMessage(
            story_id=lead.story_id,
            card=lead.card,
            importance=lead.triage.importance,
            topics=lead.triage.topics,
            why_posted=f"story {lead.story_id}: {len(group)} article(s): {ids}",
        )
        console.print(render_card(message))
    skipped = [g[0] for g in stories.values() if not g[0].triage.relevant]
    if skipped:
        console.print(Text(f"Not AI-infrastructure ({len(skipped)}):", style="dim"))
        for item in skipped:
            console.print(
                f"[dim]  - {item.article.id}: {item.article.title} ({item.triage.explanation})[/dim]"
            )
    if not groups and not skipped:
        console.print("No articles.")
