"""Which channel gets which story, and how: alert now, alert later, follow-up, or digest.

`plan()` is pure: a story, what just happened to it, and the subscriptions in; planned deliveries
out, each with the one line that says why it was posted. `route_pending()` applies the plan to the
store for every story update the pipeline recorded; inserting is idempotent (the deliveries table's
UNIQUE key), so routing the same update twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.log import get_logger
from bot.models import Story, Subscription

if TYPE_CHECKING:
    from bot.store import Store
    from bot.store.stories import StoryUpdate

log = get_logger(__name__)

PACING_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Update:
    """What happened to the story: 'created', or a later report ('outlet' / 'facts')."""

    id: int
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    subscription_id: int
    story_id: str
    kind: str  # "alert" | "followup" | "digest_item"
    why: str  # the "why posted" line
    not_before: datetime  # when it may be sent (later than now in quiet hours)
    update_id: int = 0
    followup: str | None = None  # for a follow-up: what the new report adds


# -- matching ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _word_pattern(word: str) -> re.Pattern[str]:
    # Whole words; the spaces of a phrase match any run of whitespace or hyphens.
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", word.strip()) if p]
    return re.compile(r"(?<!\w)" + r"[\s\-]+".join(parts) + r"(?!\w)", re.IGNORECASE)


def has_word(text: str, word: str) -> bool:
    return bool(word.strip()) and _word_pattern(word).search(text) is not None


def match(story: Story, text: str, sub: Subscription) -> list[str] | None:
    """The reasons the story fits the subscription's filters, or None when it does not.

    `text` is what keyword filters look at (the story's title and article text).
    """
    haystack = f"{story.title}\n{text}"
    reasons: list[str] = []
    if sub.topics:
        common = [t for t in story.topics if t in sub.topics]
        if not common:
            return None
        reasons.append("matches topics " + ", ".join(common))
    if sub.entities:
        names = {e.casefold() for e in story.entities}
        found = [e for e in sub.entities if e.casefold() in names or has_word(haystack, e)]
        if not found:
            return None
        reasons.append("entities " + ", ".join(found))
    if sub.include:
        words = [w for w in sub.include if has_word(haystack, w)]
        if not words:
            return None
        reasons.append("mentions " + ", ".join(words))
    if any(has_word(haystack, w) for w in sub.exclude):
        return None
    if not reasons:
        reasons.append("all topics")
    return reasons


# -- time of day ---------------------------------------------------------------------------------


def parse_hhmm(value: str) -> time:
    hour, _, minute = value.partition(":")
    return time(int(hour), int(minute or 0))


def quiet_until(sub: Subscription, now: datetime) -> datetime | None:
    """The end of the channel's quiet hours (UTC) when `now` falls inside them, else None."""
    if not sub.quiet_hours:
        return None
    zone = ZoneInfo(sub.timezone)
    local = now.astimezone(zone)
    start, end = (parse_hhmm(v) for v in sub.quiet_hours)
    if start == end:
        return None
    current = local.time().replace(tzinfo=None)
    # A span like 22:00-07:00 crosses midnight.
    inside = start <= current < end if start < end else current >= start or current < end
    if not inside:
        return None
    end_day = local.date()
    if current >= end:  # the end is tomorrow
        end_day += timedelta(days=1)
    naive_end = datetime.combine(end_day, end)
    return naive_end.replace(tzinfo=zone).astimezone(now.tzinfo)


# -- the plan ------------------------------------------------------------------------------------


def followup_note(update: Update) -> str | None:
    """What a later report adds, or None when it adds nothing worth a thread reply.

    A new outlet that only repeats the story is corroboration, not news: the follow-up needs new
    figures or names ('facts', or an 'outlet' update whose detail lists them).
    """
    if update.kind == "facts" and update.detail:
        return f"New details: {update.detail}"
    if update.kind == "outlet":
        source, sep, facts = update.detail.partition(": ")
        if sep and facts.strip():
            return f"{source} adds: {facts.strip()}"
    return None


def plan(
    story: Story,
    text: str,
    subscriptions: Sequence[Subscription],
    *,
    update: Update,
    alerted: Set[int],
    recent_alerts: Mapping[int, int],
    now: datetime,
) -> list[PlannedDelivery]:
    """Planned deliveries of one story update to every matching subscription.

    `alerted`: subscriptions that already have an alert for this story. `recent_alerts`:
    alerts per subscription in the last hour (for pacing).
    """
    out: list[PlannedDelivery] = []
    for sub in subscriptions:
        reasons = match(story, text, sub)
        if reasons is None:
            continue
        planned = _plan_one(story, sub, reasons, update, sub.id in alerted, recent_alerts.get(sub.id, 0), now)
        if planned is not None:
            out.append(planned)
    return out


def _plan_one(
    story: Story,
    sub: Subscription,
    reasons: list[str],
    update: Update,
    already_alerted: bool,
    recent: int,
    now: datetime,
) -> PlannedDelivery | None:
    quiet_end = quiet_until(sub, now)
    not_before = quiet_end or now
    if already_alerted:
        note = followup_note(update)
        if note is None:
            return None
        why = "; ".join([*reasons, "follow-up to an alert in this channel"])
        return PlannedDelivery(
            sub.id, story.id, "followup", why, not_before, update_id=update.id, followup=note
        )
    wants_alerts = sub.mode in ("alerts", "both")
    wants_digest = sub.mode in ("digest", "both") or sub.digest is not None
    above = story.importance >= sub.min_importance
    if wants_alerts and above:
        why_parts = [
            *reasons[:1],
            f"importance {story.importance} >= {sub.min_importance}",
            *reasons[1:],
        ]
        if recent >= sub.max_alerts_per_hour:
            why_parts.append(f"over {sub.max_alerts_per_hour} alerts/hour, held for the digest")
            return PlannedDelivery(sub.id, story.id, "digest_item", "; ".join(why_parts), now)
        if quiet_end is not None:
            why_parts.append("held through quiet hours")
        return PlannedDelivery(sub.id, story.id, "alert", "; ".join(why_parts), not_before)
    if not wants_digest:
        return None
    why_parts = [*reasons[:1]]
    if sub.mode == "digest":
        why_parts.append(f"importance {story.importance}")
    else:
        why_parts.append(f"importance {story.importance} < {sub.min_importance}, digest only")
    why_parts.extend(reasons[1:])
    return PlannedDelivery(sub.id, story.id, "digest_item", "; ".join(why_parts), now)


# -- applying the plan ---------------------------------------------------------------------------


async def route_pending(store: Store, now: datetime, *, batch: int = 500) -> int:
    """Turn the store's unrouted story updates into delivery rows; returns how many were added."""
    subs = await store.subscriptions.list()
    recent = await store.deliveries.recent_alert_counts(since=now - PACING_WINDOW)
    added = 0
    while updates := await store.stories.unrouted_updates(limit=batch):
        added += await _route_batch(store, updates, subs, recent, now)
    return added


async def _route_batch(
    store: Store,
    updates: Sequence[StoryUpdate],
    subs: Sequence[Subscription],
    recent: dict[int, int],
    now: datetime,
) -> int:
    added = 0
    texts: dict[str, str] = {}
    for row in updates:
        story = await store.stories.get(row.story_id) if subs else None
        if story is None:
            continue
        if story.id not in texts:
            texts[story.id] = await _story_text(store, story)
        alerted = await store.deliveries.alerted_subscriptions(story.id)
        planned = plan(
            story,
            texts[story.id],
            subs,
            update=Update(id=row.id, kind=row.kind, detail=row.detail),
            alerted=alerted,
            recent_alerts=recent,
            now=now,
        )
        for item in planned:
            payload: dict[str, object] = {"why": item.why}
            if item.followup:
                payload["followup"] = item.followup
            new_id = await store.deliveries.add(
                item.subscription_id,
                item.story_id,
                item.kind,
                now=now,
                next_attempt_at=item.not_before,
                update_id=item.update_id,
                status="held" if item.kind == "digest_item" else "pending",
                payload=payload,
            )
            if new_id is None:
                continue
            added += 1
            if item.kind == "alert":
                recent[item.subscription_id] = recent.get(item.subscription_id, 0) + 1
        log.debug("route.update", story=story.id, update=row.id, planned=len(planned))
    await store.stories.mark_routed([u.id for u in updates])
    if added:
        log.info("route.done", updates=len(updates), deliveries=added)
    return added


async def _story_text(store: Store, story: Story) -> str:
    """Title, card and article text: what include/exclude/entity words are looked for in."""
    parts = [story.title]
    if story.card is not None:
        parts.extend([story.card.what_changed, *story.card.key_takeaways])
    for stored in await store.articles.by_story(story.id):
        parts.extend([stored.article.title, stored.article.text])
    return "\n".join(p for p in parts if p)
