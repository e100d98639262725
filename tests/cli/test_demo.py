from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bot.demo import DEMO_NOW, DemoResult, demo_feed_files, run_demo

# The multi-outlet events of bot/data/demo (see its README): a pattern matching the titles of the
# items that report each one, and how many outlets report it.
EVENTS = {
    "Nvidia Q3 results": (r"Nvidia (printed money|Q3 FY27|third-quarter)", 3),
    "Entity List additions": (r"Entity List|trade blacklist", 3),
    "AWS Georgia campus": (r"AWS Lowndes|1\.6-gigawatt|Georgia Power contract for AWS", 3),
    "Lambda IPO": (r"Lambda", 2),
    "Mistral and Nscale": (r"Mistral", 2),
    "FERC PJM co-location": (r"FERC", 2),
}


@pytest.fixture(scope="module")
def demo() -> tuple[DemoResult, str]:
    import asyncio

    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    result = asyncio.run(run_demo(console, now=DEMO_NOW))
    return result, out.getvalue()


def test_demo_polls_every_sample_feed_and_prints_a_recap(demo: tuple[DemoResult, str]) -> None:
    result, text = demo
    assert result.errors == []
    assert result.feeds == len(demo_feed_files()) == 4
    assert result.articles == 38
    assert 0 < result.relevant < 38
    assert "Weekly recap" in text and "week to 20 Nov 2026" in text


def test_each_multi_outlet_event_prints_one_card(demo: tuple[DemoResult, str]) -> None:
    result, text = demo
    stories = result.stories
    titles = result.titles
    cards = text[: text.index("Weekly recap")]
    assert len({s.id for s in stories}) == len(stories)
    assert [s.importance for s in stories] == sorted((s.importance for s in stories), reverse=True)
    problems = []
    for event, (pattern, outlets) in EVENTS.items():
        holding = [s for s in stories if any(re.search(pattern, t) for t in titles[s.id])]
        if len(holding) != 1:
            problems.append(f"{event}: spread over {len(holding)} stories")
            continue
        [story] = holding
        matched = [t for t in titles[story.id] if re.search(pattern, t)]
        if len(matched) != outlets:
            problems.append(f"{event}: {len(matched)} of {outlets} reports in its story")
        # The console card's footer names the story: exactly one card for it.
        if story.card is None or cards.count(f"story {story.id}") != 1:
            problems.append(f"{event}: not exactly one card")
    assert not problems, "; ".join(problems)
