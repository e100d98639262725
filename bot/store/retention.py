"""Pruning old articles without breaking what stories and pending deliveries still need."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from bot.log import get_logger
from bot.store.db import to_db

log = get_logger(__name__)


async def prune(conn: aiosqlite.Connection, *, now: datetime, days: int) -> int:
    """Delete articles fetched more than `days` ago; returns how many went.

    Kept anyway: articles of a story still seen within the window (its card and follow-ups cite
    them) and of any story with a pending or in-flight delivery.
    """
    cutoff = to_db(now - timedelta(days=days))
    # One statement, so atomic without an explicit transaction (the connection is shared).
    cur = await conn.execute(
        "DELETE FROM articles WHERE fetched < ?"
        " AND (story_id IS NULL OR story_id NOT IN (SELECT id FROM stories WHERE last_seen >= ?))"
        " AND (story_id IS NULL OR story_id NOT IN"
        "      (SELECT story_id FROM deliveries WHERE status IN ('pending', 'sending', 'held')))",
        (cutoff, cutoff),
    )
    removed = cur.rowcount
    log.info("retention.pruned", articles=removed, days=days)
    return removed
