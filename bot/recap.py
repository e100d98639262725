"""Day / week / month recaps: the top stories of a window, grouped by topic. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.messages import DigestItem, DigestMessage, DigestSection
from bot.models import TOPICS, Story

PERIODS: dict[str, timedelta] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
MAX_ITEMS = 15  # a recap is a short list; adapters page or truncate further for their limits
MAX_SOURCES = 3
OTHER = "other"

_PERIOD_WORDS = {"day": "past day", "week": "past week", "month": "past month"}


def window(period: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the recap window ending at `now`."""
    if period not in PERIODS:
        raise ValueError(f"unknown recap period {period!r}; use day, week or month")
    return now - PERIODS[period], now


def primary_topic(story: Story, topic: str | None = None) -> str:
    if topic is not None:
        return topic
    return next((t for t in TOPICS if t in story.topics), OTHER)


def build_recap(
    stories: Sequence[Story],
    *,
    period: str,
    topic: str | None,
    now: datetime,
    title: str | None = None,
    max_items: int = MAX_ITEMS,
) -> DigestMessage:
    """The top stories last seen within the period before `now` (of `topic`, if given).

    Stories are ranked by importance (then earliest first), capped at `max_items`, and grouped by
    their first topic; sections are ordered by their best story. Each item is one line (what
    changed) with links to its sources.
    """
    start, end = window(period, now)
    chosen = [s for s in stories if start <= s.last_seen <= end and (topic is None or topic in s.topics)]
    sections = group(chosen, topic=topic, max_items=max_items)
    what = f"{topic} stories" if topic else "AI-infrastructure stories"
    heading = title or f"Top {what}, {period} to {end.strftime('%d %b %Y')}"
    empty = "" if sections else f"No {what} in the {_PERIOD_WORDS[period]}."
    return DigestMessage(
        title=heading,
        period=period,
        sections=sections,
        empty_note=empty,
    )


def group(
    stories: Sequence[Story], *, topic: str | None = None, max_items: int = MAX_ITEMS
) -> tuple[DigestSection, ...]:
    """The most important `max_items` stories, grouped by first topic, best section first."""
    ranked = sorted(stories, key=lambda s: (-s.importance, s.first_seen, s.id))[:max_items]
    sections: dict[str, list[DigestItem]] = {}
    for story in ranked:
        sections.setdefault(primary_topic(story, topic), []).append(_item(story))
    return tuple(DigestSection(topic=name, items=tuple(items)) for name, items in sections.items())


def _item(story: Story) -> DigestItem:
    card = story.card
    line = (card.what_changed if card and card.what_changed else "") or story.title
    sources = story.sources or (card.sources if card else ())
    return DigestItem(
        story_id=story.id,
        title=story.title,
        line=line,
        importance=story.importance,
        sources=tuple(sources[:MAX_SOURCES]),
    )
