from __future__ import annotations

import io

import pytest
from rich.console import Console

pytest.importorskip("bot.core.stories", reason="the core is not installed yet")
pytest.importorskip("bot.ingest.fetch", reason="ingest is not installed yet")

from bot.demo import DEMO_NOW, demo_feed_files, run_demo


async def test_demo_prints_one_card_per_story_most_important_first_then_a_recap() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    result = await run_demo(console, now=DEMO_NOW)
    text = out.getvalue()
    assert result.errors == []
    assert result.feeds == len(demo_feed_files()) and result.articles > result.relevant > 0
    ids = [s.id for s in result.stories]
    assert len(ids) == len(set(ids))
    importances = [s.importance for s in result.stories]
    assert importances == sorted(importances, reverse=True)
    multi = [s for s in result.stories if len(s.sources) >= 2]
    assert multi, "the sample feeds tell some events through several outlets"
    for story in multi:
        assert story.card is not None
        # One card per multi-outlet event: its title is printed once as a card (the recap may repeat it).
        recap_at = text.index("Weekly recap")
        assert text[:recap_at].count(story.card.title) == 1, story.card.title
    assert "Weekly recap" in text
