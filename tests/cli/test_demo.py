from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from bot.demo import DEMO_NOW, DemoResult, demo_feed_files, run_demo

ROOT = Path(__file__).resolve().parents[2]

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
    # Every relevant item is in a story that was printed (the week's window holds them all).
    assert sum(len(t) for t in result.titles.values()) == result.relevant


def event_problems(result: DemoResult, text: str, event: str) -> list[str]:
    """What is wrong with how the demo printed one multi-outlet event (nothing when it is right)."""
    pattern, outlets = EVENTS[event]
    cards = text[: text.index("Weekly recap")]
    holding = [s for s in result.stories if any(re.search(pattern, t) for t in result.titles[s.id])]
    if len(holding) != 1:
        return [f"{event}: spread over {len(holding)} stories"]
    [story] = holding
    problems = []
    matched = [t for t in result.titles[story.id] if re.search(pattern, t)]
    if len(matched) != outlets:
        problems.append(f"{event}: {len(matched)} of {outlets} reports in its story")
    # The console card's footer names the story: exactly one card for it.
    if story.card is None or cards.count(f"story {story.id}") != 1:
        problems.append(f"{event}: not exactly one card")
    return problems


def test_cards_are_one_per_story_most_important_first(demo: tuple[DemoResult, str]) -> None:
    result, text = demo
    ids = [s.id for s in result.stories]
    assert len(set(ids)) == len(ids)
    assert [s.importance for s in result.stories] == sorted(
        (s.importance for s in result.stories), reverse=True
    )
    cards = text[: text.index("Weekly recap")]
    assert all(cards.count(f"story {story_id}") == 1 for story_id in ids)


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_each_multi_outlet_event_prints_one_card(demo: tuple[DemoResult, str], event: str) -> None:
    assert event_problems(*demo, event) == []


def test_demo_with_a_config_keeps_its_database_and_feeds_out(tmp_path: Path) -> None:
    from bot.cli import main

    config = tmp_path / "infrawire.toml"
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("[slack]\nenabled = false", "[slack]\nenabled = true"), encoding="utf-8")
    assert main(["demo", "--config", str(config)]) == 0
    assert not (tmp_path / "infrawire.db").exists()  # the configured database is never touched
