"""Subscriptions (who wants what, where) and deliveries (the outbox) over the existing schema.

Every state change of a delivery is one SQL statement, so several workers (or a crashed and
restarted one) can share the table: a claim is an UPDATE ... RETURNING that only takes rows that are
due, or whose previous claim's lease has run out.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.messages import Receipt
from bot.models import Delivery, Subscription
from bot.store.db import dumps, from_db, to_db

# Delivery kinds. A digest item is a story held for the channel's next digest; the digest itself
# is one delivery (kind "digest") that lists them.
KINDS = ("alert", "followup", "digest", "digest_item")
# Statuses. "held" and "bundled" belong to digest items only: waiting for a digest / included in one.
STATUSES = ("pending", "sending", "sent", "failed", "dropped", "held", "bundled")
SENDABLE_KINDS = ("alert", "followup", "digest")

_ADAPTER_FAULT = "adapter_fault:"


def _json_list(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text or "[]"))


def _subscription(row: sqlite3.Row) -> Subscription:
    quiet = (row["quiet_start"], row["quiet_end"]) if row["quiet_start"] and row["quiet_end"] else None
    return Subscription(
        id=int(row["id"]),
        platform=row["platform"],
        channel=row["channel"],
        workspace=row["workspace"],
        topics=_json_list(row["topics"]),
        entities=_json_list(row["entities"]),
        include=_json_list(row["include_words"]),
        exclude=_json_list(row["exclude_words"]),
        min_importance=int(row["min_importance"]),
        mode=row["mode"],
        digest=row["digest"],
        digest_time=row["digest_time"],
        timezone=row["timezone"],
        max_alerts_per_hour=int(row["max_alerts_per_hour"]),
        quiet_hours=quiet,
        paused_reason=row["paused_reason"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    next_at = from_db(row["next_attempt_at"])
    created = from_db(row["created_at"])
    assert next_at is not None and created is not None
    return Delivery(
        id=int(row["id"]),
        subscription_id=int(row["subscription_id"]),
        story_id=row["story_id"],
        kind=row["kind"],
        status=row["status"],
        attempts=int(row["attempts"]),
        next_attempt_at=next_at,
        created_at=created,
        update_id=int(row["update_id"]),
        last_error=row["last_error"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        payload=json.loads(row["payload"] or "{}"),
    )


class SubscriptionRepository:
    def __init__(self, conn: aiosqlite.Connection):
        self.conn = conn

    async def save(self, sub: Subscription, *, now: datetime) -> Subscription:
        """Create or replace the subscription of (platform, channel); `sub.id` is ignored.

        Saving again clears a pause: re-subscribing is how a channel says "try again".
        """
        quiet_start, quiet_end = sub.quiet_hours or (None, None)
        await self.conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, topics, entities, include_words,"
            " exclude_words, min_importance, mode, digest, digest_time, timezone, max_alerts_per_hour,"
            " quiet_start, quiet_end, paused_reason, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)"
            " ON CONFLICT (platform, channel) DO UPDATE SET workspace = excluded.workspace,"
            " topics = excluded.topics, entities = excluded.entities,"
            " include_words = excluded.include_words, exclude_words = excluded.exclude_words,"
            " min_importance = excluded.min_importance, mode = excluded.mode, digest = excluded.digest,"
            " digest_time = excluded.digest_time, timezone = excluded.timezone,"
            " max_alerts_per_hour = excluded.max_alerts_per_hour, quiet_start = excluded.quiet_start,"
            " quiet_end = excluded.quiet_end, paused_reason = NULL",
            (
                sub.platform,
                sub.workspace,
                sub.channel,
                dumps(list(sub.topics)),
                dumps(list(sub.entities)),
                dumps(list(sub.include)),
                dumps(list(sub.exclude)),
                sub.min_importance,
                sub.mode,
                sub.digest,
                sub.digest_time,
                sub.timezone,
                sub.max_alerts_per_hour,
                quiet_start,
                quiet_end,
                sub.created_by,
                to_db(sub.created_at or now),
            ),
        )
        saved = await self.get_by_channel(sub.platform, sub.channel)
        assert saved is not None
        return saved

    async def get(self, sub_id: int) -> Subscription | None:
        async with self.conn.execute("SELECT * FROM subscriptions WHERE id = ?", (sub_id,)) as cur:
            row = await cur.fetchone()
        return _subscription(row) if row else None

    async def get_by_channel(self, platform: str, channel: str) -> Subscription | None:
        async with self.conn.execute(
            "SELECT * FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel)
        ) as cur:
            row = await cur.fetchone()
        return _subscription(row) if row else None

    async def list(self) -> builtins.list[Subscription]:
        async with self.conn.execute("SELECT * FROM subscriptions ORDER BY id") as cur:
            rows = await cur.fetchall()
        return [_subscription(r) for r in rows]

    async def remove(self, platform: str, channel: str) -> bool:
        """Delete the channel's subscription; its deliveries go with it (ON DELETE CASCADE)."""
        cur = await self.conn.execute(
            "DELETE FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel)
        )
        return cur.rowcount > 0

    async def pause(self, sub_id: int, reason: str) -> None:
        await self.conn.execute("UPDATE subscriptions SET paused_reason = ? WHERE id = ?", (reason, sub_id))

    async def resume(self, sub_id: int) -> None:
        await self.conn.execute("UPDATE subscriptions SET paused_reason = NULL WHERE id = ?", (sub_id,))

    async def paused(self) -> builtins.list[Subscription]:
        async with self.conn.execute(
            "SELECT * FROM subscriptions WHERE paused_reason IS NOT NULL ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [_subscription(r) for r in rows]


@dataclass(frozen=True, slots=True)
class AdapterFault:
    platform: str
    reason: str
    at: datetime


class DeliveryRepository:
    def __init__(self, conn: aiosqlite.Connection):
        self.conn = conn

    # -- writing the outbox ----------------------------------------------------------------------

    async def add(
        self,
        subscription_id: int,
        story_id: str,
        kind: str,
        *,
        now: datetime,
        next_attempt_at: datetime | None = None,
        update_id: int = 0,
        status: str = "pending",
        payload: dict[str, Any] | None = None,
    ) -> int | None:
        """Insert a delivery; returns its id, or None when the same one already exists."""
        if kind not in KINDS:
            raise ValueError(f"unknown delivery kind {kind!r}")
        if status not in STATUSES:
            raise ValueError(f"unknown delivery status {status!r}")
        cur = await self.conn.execute(
            "INSERT INTO deliveries (subscription_id, story_id, kind, update_id, status, next_attempt_at,"
            " payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (subscription_id, story_id, kind, update_id) DO NOTHING",
            (
                subscription_id,
                story_id,
                kind,
                update_id,
                status,
                to_db(next_attempt_at or now),
                dumps(payload or {}),
                to_db(now),
            ),
        )
        return int(cur.lastrowid) if cur.rowcount > 0 and cur.lastrowid else None

    # -- the dispatcher's side -------------------------------------------------------------------

    async def claim(
        self,
        now: datetime,
        *,
        lease: timedelta,
        platforms: Sequence[str],
        limit: int = 50,
    ) -> builtins.list[Delivery]:
        """Atomically take due rows of active subscriptions on `platforms`.

        A row is due when it is pending and its time has come, or when it is "sending" but the
        worker that claimed it let the lease run out (it crashed). Each claim counts an attempt.
        """
        if not platforms:
            return []
        marks = ",".join("?" for _ in platforms)
        stamp = to_db(now)
        async with self.conn.execute(
            "UPDATE deliveries SET status = 'sending', claimed_until = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id"
            "  WHERE s.paused_reason IS NULL AND s.platform IN (" + marks + ")"
            "  AND d.kind IN ('alert', 'followup', 'digest')"
            "  AND ((d.status = 'pending' AND d.next_attempt_at <= ?)"
            "       OR (d.status = 'sending' AND d.claimed_until <= ?))"
            "  ORDER BY d.next_attempt_at, d.id LIMIT ?)"
            " RETURNING *",
            (to_db(now + lease), *platforms, stamp, stamp, limit),
        ) as cur:
            rows = await cur.fetchall()
        found = [_delivery(r) for r in rows]
        found.sort(key=lambda d: (d.next_attempt_at, d.id))
        return found

    async def mark_sent(self, delivery_id: int, receipt: Receipt, *, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET status = 'sent', message_id = ?, thread_id = ?, sent_at = ?,"
            " claimed_until = NULL, last_error = NULL WHERE id = ?",
            (receipt.message_id, receipt.thread_id, to_db(now), delivery_id),
        )

    async def retry(
        self, delivery_id: int, *, at: datetime, error: str | None, count_attempt: bool = True
    ) -> None:
        """Back to pending, due at `at`. A retry that was not the message's fault gives the
        attempt back, so rate limits and paused channels never use up max_attempts."""
        await self.conn.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, last_error = ?,"
            " claimed_until = NULL, attempts = attempts - ? WHERE id = ?",
            (to_db(at), error, 0 if count_attempt else 1, delivery_id),
        )

    async def set_alert_thread(self, subscription_id: int, story_id: str, thread_id: str) -> None:
        """Remember the thread a platform started lazily (on the first follow-up) on the alert,
        so later follow-ups go into the same thread instead of starting another."""
        await self.conn.execute(
            "UPDATE deliveries SET thread_id = ? WHERE subscription_id = ? AND story_id = ?"
            " AND kind = 'alert' AND update_id = 0 AND thread_id IS NULL",
            (thread_id, subscription_id, story_id),
        )

    async def fail(self, delivery_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET status = 'failed', last_error = ?, claimed_until = NULL WHERE id = ?",
            (error, delivery_id),
        )

    async def drop(self, delivery_id: int, reason: str) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET status = 'dropped', last_error = ?, claimed_until = NULL WHERE id = ?",
            (reason, delivery_id),
        )

    # -- reads -----------------------------------------------------------------------------------

    async def get(self, delivery_id: int) -> Delivery | None:
        async with self.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)) as cur:
            row = await cur.fetchone()
        return _delivery(row) if row else None

    async def for_subscription(
        self, subscription_id: int, *, kind: str | None = None
    ) -> builtins.list[Delivery]:
        sql = "SELECT * FROM deliveries WHERE subscription_id = ?"
        params: list[Any] = [subscription_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        async with self.conn.execute(sql + " ORDER BY id", params) as cur:
            rows = await cur.fetchall()
        return [_delivery(r) for r in rows]

    async def alert(self, subscription_id: int, story_id: str) -> Delivery | None:
        async with self.conn.execute(
            "SELECT * FROM deliveries WHERE subscription_id = ? AND story_id = ? AND kind = 'alert'"
            " AND update_id = 0",
            (subscription_id, story_id),
        ) as cur:
            row = await cur.fetchone()
        return _delivery(row) if row else None

    async def alerted_subscriptions(self, story_id: str) -> set[int]:
        """Channels that have (or will have) an alert for the story; a failed alert counts too,
        so a story never alerts twice in one channel."""
        async with self.conn.execute(
            "SELECT subscription_id FROM deliveries WHERE story_id = ? AND kind = 'alert'", (story_id,)
        ) as cur:
            rows = await cur.fetchall()
        return {int(r[0]) for r in rows}

    async def recent_alert_counts(self, since: datetime) -> dict[int, int]:
        """Alerts per subscription planned to go out after `since` (sent or still to come)."""
        async with self.conn.execute(
            "SELECT subscription_id, COUNT(*) FROM deliveries WHERE kind = 'alert'"
            " AND status NOT IN ('dropped', 'failed') AND COALESCE(sent_at, next_attempt_at) > ?"
            " GROUP BY subscription_id",
            (to_db(since),),
        ) as cur:
            rows = await cur.fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    async def held(self, subscription_id: int) -> builtins.list[Delivery]:
        """Digest items waiting for the channel's next digest."""
        async with self.conn.execute(
            "SELECT * FROM deliveries WHERE subscription_id = ? AND kind = 'digest_item'"
            " AND status = 'held' ORDER BY id",
            (subscription_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [_delivery(r) for r in rows]

    async def bundle(self, delivery_ids: Iterable[int], *, digest_id: int | None) -> None:
        """Mark digest items as included in the digest `digest_id` (None: nothing left to send)."""
        await self.conn.executemany(
            "UPDATE deliveries SET status = 'bundled', message_id = ? WHERE id = ? AND status = 'held'",
            [(str(digest_id) if digest_id is not None else None, i) for i in delivery_ids],
        )

    async def counts(self) -> dict[str, int]:
        """Deliveries per status (digest items are left out: they are not messages)."""
        async with self.conn.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE kind != 'digest_item' GROUP BY status"
        ) as cur:
            rows = await cur.fetchall()
        return {r[0]: int(r[1]) for r in rows}

    async def recent_failures(self, limit: int = 5) -> builtins.list[Delivery]:
        async with self.conn.execute(
            "SELECT * FROM deliveries WHERE status = 'failed' ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            rows = await cur.fetchall()
        return [_delivery(r) for r in rows]

    # -- adapter faults (a Fatal error stops an adapter; `status` shows why) --------------------

    async def record_adapter_fault(self, platform: str, reason: str, *, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_ADAPTER_FAULT + platform, dumps({"reason": reason, "at": to_db(now)})),
        )

    async def clear_adapter_fault(self, platform: str) -> None:
        await self.conn.execute("DELETE FROM meta WHERE key = ?", (_ADAPTER_FAULT + platform,))

    async def adapter_faults(self) -> builtins.list[AdapterFault]:
        async with self.conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE ? ORDER BY key", (_ADAPTER_FAULT + "%",)
        ) as cur:
            rows = await cur.fetchall()
        faults = []
        for key, value in rows:
            data = json.loads(value)
            at = from_db(data.get("at"))
            assert at is not None
            faults.append(AdapterFault(platform=key[len(_ADAPTER_FAULT) :], reason=data["reason"], at=at))
        return faults


async def search_story_titles(
    conn: aiosqlite.Connection, fragment: str, *, limit: int = 5
) -> builtins.list[tuple[str, str]]:
    """(id, title) of recent stories whose title contains `fragment`, case-insensitively (for /why)."""
    pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with conn.execute(
        "SELECT id, title FROM stories WHERE title LIKE ? ESCAPE '\\' ORDER BY last_seen DESC, id LIMIT ?",
        (pattern, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [(r[0], r[1]) for r in rows]


# Short names used in the issue text.
SubscriptionRepo = SubscriptionRepository
DeliveryRepo = DeliveryRepository
