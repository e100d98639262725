from __future__ import annotations

from datetime import timedelta

import pytest

from bot.models import SourceRef
from bot.recap import MAX_ITEMS, build_recap
from tests.fixtures.channels import NOW, make_story

SOURCES = tuple(SourceRef(name=f"Outlet {i}", url=f"https://o{i}.example/x") for i in range(5))

STORIES = [
    make_story("c1", "Chip A", importance=60, topics=("chips",), what="Chip A ships."),
    make_story(
        "c2", "Chip B", importance=85, topics=("chips", "export-controls"), what="Chip B is licensed."
    ),
    make_story("e1", "Grid A", importance=90, topics=("energy",), what="Grid A connects.", sources=SOURCES),
    make_story("p1", "Policy A", importance=50, topics=(), what="Policy A passes."),
    make_story("old", "Old", importance=99, topics=("chips",), when=NOW - timedelta(days=8)),
]


def test_groups_by_topic_most_important_first_with_one_line_and_sources() -> None:
    digest = build_recap(STORIES, period="week", topic=None, now=NOW)
    assert digest.title == "Top AI-infrastructure stories, week to 20 Nov 2026"
    assert digest.period == "week" and digest.empty_note == ""
    assert [(s.topic, [i.story_id for i in s.items]) for s in digest.sections] == [
        ("energy", ["e1"]),
        ("chips", ["c2", "c1"]),
        ("other", ["p1"]),
    ]
    grid = digest.sections[0].items[0]
    assert grid.line == "Grid A connects." and grid.importance == 90
    assert grid.sources == SOURCES[:3]  # capped; the platform shows links


def test_window_and_topic_filter() -> None:
    month = build_recap(STORIES, period="month", topic="chips", now=NOW)
    assert month.title.startswith("Top chips stories, month to")
    assert [i.story_id for s in month.sections for i in s.items] == ["old", "c2", "c1"]
    assert [s.topic for s in month.sections] == ["chips"]
    export = build_recap(STORIES, period="day", topic="export-controls", now=NOW)
    assert [(s.topic, [i.story_id for i in s.items]) for s in export.sections] == [
        ("export-controls", ["c2"])
    ]


def test_caps_the_number_of_items() -> None:
    many = [make_story(f"s{i:02d}", f"Story {i}", importance=i) for i in range(40)]
    digest = build_recap(many, period="day", topic=None, now=NOW)
    items = [i for s in digest.sections for i in s.items]
    assert len(items) == MAX_ITEMS
    assert items[0].importance == 39 and items[-1].importance == 39 - MAX_ITEMS + 1


def test_says_so_when_there_is_nothing() -> None:
    digest = build_recap([], period="day", topic=None, now=NOW)
    assert digest.sections == () and digest.empty_note == "No AI-infrastructure stories in the past day."
    assert build_recap(STORIES, period="day", topic="policy", now=NOW).empty_note == (
        "No policy stories in the past day."
    )


def test_unknown_period_is_an_error() -> None:
    with pytest.raises(ValueError, match="fortnight"):
        build_recap(STORIES, period="fortnight", topic=None, now=NOW)
