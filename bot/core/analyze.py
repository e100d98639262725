"""The whole core over a batch: triage, story clustering and one card per story (pure).

Used by `infrawire analyze` and anything else that has a set of articles in hand. No clock, no I/O:
undated articles borrow the time of their nearest dated neighbour in input order, so they cluster with
what they were delivered alongside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.stories import StoryIndex, features, story_id_for
from bot.core.summarize import brief_card, summarize
from bot.core.triage import story_importance, triage
from bot.models import AnalyzedArticle, Article, Card, Triage

# The time given to a batch where no article carries a date: any fixed instant works, since all
# of them then fall in one window.
_UNDATED = datetime(2000, 1, 1, tzinfo=UTC)


def _times(articles: Sequence[Article]) -> list[datetime]:
    """Each article's time for clustering; undated ones take the previous (else next) dated one."""
    out: list[datetime | None] = [a.published for a in articles]
    last: datetime | None = None
    for i, when in enumerate(out):
        if when is None:
            out[i] = last
        else:
            last = when
    following: datetime | None = None
    for i in range(len(out) - 1, -1, -1):
        if articles[i].published is not None:
            following = articles[i].published
        if out[i] is None:
            out[i] = following
    return [when if when is not None else _UNDATED for when in out]


def analyze(
    articles: Sequence[Article], *, vocab: Any, window: timedelta = timedelta(hours=96)
) -> list[AnalyzedArticle]:
    """Every article with its triage, story id and its story's card, in input order."""
    triages = [triage(article, vocab) for article in articles]
    times = _times(articles)
    index = StoryIndex(window=window)
    relevant = [i for i, t in enumerate(triages) if t.relevant]
    feats = {i: features(articles[i], triages[i]) for i in relevant}
    # Learn the batch's word statistics first so the earliest articles are judged with the same
    # notion of "rare" as the latest.
    for i in relevant:
        index.learn(feats[i])
    story_of: list[str] = [story_id_for(a.id) for a in articles]
    folded: dict[str, str] = {}  # story id -> the story it was merged into
    for i in sorted(relevant, key=lambda i: (times[i], i)):
        assignment = index.assign(articles[i].id, feats[i], times[i], learn=False)
        story_of[i] = assignment.story_id
        for gone in assignment.merged:
            folded[gone] = assignment.story_id
    # Articles whose own words fell short may still report the same event as a relevant story
    # (a local paper on the data center's permit): those join it, and are relevant for it.
    founder = {story_id_for(articles[i].id): articles[i].title for i in relevant}
    for i in sorted((i for i, t in enumerate(triages) if not t.relevant), key=lambda i: (times[i], i)):
        joined = index.join(features(articles[i], triages[i]), times[i])
        if joined is not None:
            story_of[i] = joined.story_id
            title = founder.get(joined.story_id, joined.story_id)
            triages[i] = triage(articles[i], vocab, same_event_as=title)
    for i, story_id in enumerate(story_of):
        while story_id in folded:
            story_id = folded[story_id]
        story_of[i] = story_id

    members: dict[str, list[int]] = {}
    for i, story_id in enumerate(story_of):
        members.setdefault(story_id, []).append(i)

    cards: dict[str, Card] = {}
    final: list[Triage] = list(triages)
    for story_id, indices in members.items():
        ordered = sorted(indices, key=lambda i: (-triages[i].importance, times[i], i))
        if not triages[ordered[0]].relevant:
            cards[story_id] = brief_card(articles[ordered[0]])
            continue
        cards[story_id] = summarize([(articles[i], triages[i]) for i in ordered], vocab=vocab)
        outlets = {articles[i].source or articles[i].url or articles[i].id for i in indices}
        importance, evidence = story_importance(
            max(triages[i].importance for i in indices), outlets=len(outlets), novelty=1.0
        )
        for i in indices:
            explanation = "; ".join(part for part in (triages[i].explanation, evidence) if part)
            final[i] = replace(triages[i], importance=importance, explanation=explanation)

    return [
        AnalyzedArticle(article=a, triage=final[i], story_id=story_of[i], card=cards[story_of[i]])
        for i, a in enumerate(articles)
    ]
