"""The feeds table: what to poll, when, and how each feed has been behaving."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.errors import InputError
from bot.store.db import from_db, to_db


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    update_interval_s: float | None
    ttl_s: float | None  # the feed's own TTL (RSS ttl, sy:updatePeriod), from its last body
    error_count: int
    last_error: str | None
    disabled_reason: str | None
    added_by: str
    allow_private: bool
    backfill: bool
    first_poll_done: bool
    created_at: datetime

    @property
    def enabled(self) -> bool:
        return self.disabled_reason is None

    @property
    def name(self) -> str:
        return self.title or self.url


# Selected by name and read by position: decoding is the larger part of reading the due feeds
# (1,000 rows per poll), and positions are about twice as fast as sqlite3.Row keys.
_COLUMNS = (
    "id, url, title, etag, last_modified, next_check_at, last_checked_at, last_success_at,"
    " last_new_item_at, update_interval_s, ttl_s, error_count, last_error, disabled_reason,"
    " added_by, allow_private, backfill, first_poll_done, created_at"
)


def _feeds(rows: Iterable[Sequence[Any]]) -> builtins.list[Feed]:
    # The rows of one poll share most of their timestamps (checked, succeeded, added at the same
    # moments), so each distinct text is parsed once.
    seen: dict[str | None, datetime | None] = {None: None}

    def when(text: str | None) -> datetime | None:
        if text not in seen:
            seen[text] = from_db(text)
        return seen[text]

    out = []
    for (fid, url, title, etag, modified, next_at, checked, succeeded, new_item, interval, ttl,
         errors, last_error, disabled, added_by, private, backfill, first_done, created) in rows:  # fmt: skip
        next_check, created_at = when(next_at), when(created)
        assert next_check is not None and created_at is not None
        flags = (bool(private), bool(backfill), bool(first_done))
        out.append(
            Feed(
                int(fid), url, title, etag, modified, next_check, when(checked), when(succeeded),
                when(new_item), interval, ttl, int(errors), last_error, disabled, added_by, *flags,
                created_at,
            )
        )  # fmt: skip
    return out


def _feed(row: Sequence[Any]) -> Feed:
    return _feeds([row])[0]


@dataclass(slots=True)
class DueFeed:
    """What a poll needs of a feed it claimed: who it is, its validators, and what decides its
    schedule and its first poll. (A poll claims up to 1,000 feeds; reading and decoding their
    whole rows, timestamps and all, cost more than parsing the documents that changed.)"""

    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    update_interval_s: float | None
    ttl_s: float | None
    error_count: int
    added_by: str
    allow_private: bool
    backfill: bool
    first_poll_done: bool

    @property
    def name(self) -> str:
        return self.title or self.url


_DUE_COLUMNS = (
    "id, url, title, etag, last_modified, update_interval_s, ttl_s, error_count, added_by,"
    " allow_private, backfill, first_poll_done"
)


@dataclass(frozen=True, slots=True)
class Success:
    """One feed's successful fetch, for FeedRepository.record_success_many."""

    feed_id: int
    next_check_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    new_items: int = 0
    update_interval_s: float | None = None
    ttl_s: float | None = None  # what the parsed body said; None when it states no TTL


class FeedRepository:
    def __init__(self, conn: aiosqlite.Connection):
        self.conn = conn

    async def add(
        self,
        url: str,
        *,
        now: datetime,
        title: str | None = None,
        added_by: str = "config",
        allow_private: bool = False,
        backfill: bool = False,
    ) -> Feed:
        """Add a feed, due at once. A URL already present is an InputError naming the existing id."""
        existing = await self.get_by_url(url)
        if existing is not None:
            raise InputError(f"feed already exists: {url} (id {existing.id})")
        try:
            cur = await self.conn.execute(
                "INSERT INTO feeds (url, title, next_check_at, added_by, allow_private, backfill,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (url, title, to_db(now), added_by, int(allow_private), int(backfill), to_db(now)),
            )
        except sqlite3.IntegrityError:
            raise InputError(f"feed already exists: {url}") from None
        feed_id = cur.lastrowid
        assert feed_id is not None
        feed = await self.get(feed_id)
        assert feed is not None
        return feed

    async def ensure(
        self,
        url: str,
        *,
        now: datetime,
        title: str | None = None,
        allow_private: bool = False,
        backfill: bool = False,
    ) -> Feed:
        """A feed from the config file: add it if new, else refresh the options the file sets.

        Polling state (etag, errors, schedule) is left alone so a restart keeps it.
        """
        existing = await self.get_by_url(url)
        if existing is None:
            return await self.add(
                url, now=now, title=title, added_by="config", allow_private=allow_private, backfill=backfill
            )
        await self.conn.execute(
            "UPDATE feeds SET title = COALESCE(?, title), allow_private = ?, backfill = ? WHERE id = ?",
            (title, int(allow_private), int(backfill), existing.id),
        )
        feed = await self.get(existing.id)
        assert feed is not None
        return feed

    async def get(self, feed_id: int) -> Feed | None:
        async with self.conn.execute(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        return _feed(row) if row else None

    async def get_by_url(self, url: str) -> Feed | None:
        async with self.conn.execute(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,)) as cur:
            row = await cur.fetchone()
        return _feed(row) if row else None

    async def list(self) -> list[Feed]:
        async with self.conn.execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY id") as cur:
            rows = await cur.fetchall()
        return _feeds(rows)

    async def remove(self, feed_id: int) -> bool:
        """Delete a feed; its stored articles stay (their feed id becomes NULL)."""
        cur = await self.conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
        return cur.rowcount > 0

    async def due(self, now: datetime, limit: int = 1000) -> builtins.list[Feed]:
        """The enabled feeds whose next check has come, most overdue first."""
        rows = await self.conn.execute_fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE disabled_reason IS NULL AND next_check_at <= ?"
            " ORDER BY next_check_at, id LIMIT ?",
            (to_db(now), limit),
        )
        return _feeds(rows)

    async def claim_due(
        self, now: datetime, *, until: datetime, limit: int = 1000
    ) -> builtins.list[DueFeed]:
        """The due feeds (as due() picks them), each rescheduled to `until` in the same statement,
        in id order.

        A poll claims its feeds before fetching them, so a crash or a failure mid-poll still
        moves each feed on; the poll writes each feed's real next check once it has its answer.
        """
        rows = await self.conn.execute_fetchall(
            "UPDATE feeds SET last_checked_at = ?, next_check_at = ? WHERE id IN"
            " (SELECT id FROM feeds WHERE disabled_reason IS NULL AND next_check_at <= ?"
            f" ORDER BY next_check_at, id LIMIT ?) RETURNING {_DUE_COLUMNS}",
            (to_db(now), to_db(until), to_db(now), limit),
        )
        due = [
            DueFeed(fid, url, title, etag, modified, interval, ttl, errors, added_by,
                    bool(private), bool(backfill), bool(first_done))
            for (fid, url, title, etag, modified, interval, ttl, errors, added_by, private, backfill,
                 first_done) in rows
        ]  # fmt: skip
        due.sort(key=lambda feed: feed.id)
        return due

    async def next_due_at(self) -> datetime | None:
        async with self.conn.execute(
            "SELECT MIN(next_check_at) FROM feeds WHERE disabled_reason IS NULL"
        ) as cur:
            row = await cur.fetchone()
        return from_db(row[0]) if row else None

    async def mark_checking(self, feed_id: int, *, now: datetime, next_check_at: datetime) -> None:
        """Reschedule before fetching, so a crash or failure mid-fetch still moves the feed on."""
        await self.mark_checking_many([(feed_id, next_check_at)], now=now)

    async def mark_checking_many(self, schedule: Sequence[tuple[int, datetime]], *, now: datetime) -> None:
        """mark_checking for many feeds (feed id, next check): one statement per 400 feeds."""
        await self._set_next_checks(schedule, "last_checked_at = ?", (to_db(now),))

    async def record_success(
        self,
        feed_id: int,
        *,
        now: datetime,
        next_check_at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
        title: str | None = None,
        new_items: int = 0,
        update_interval_s: float | None = None,
        ttl_s: float | None = None,
    ) -> None:
        await self.record_success_many(
            [
                Success(
                    feed_id, next_check_at, etag, last_modified, title, new_items, update_interval_s, ttl_s
                )
            ],
            now=now,
        )

    async def record_success_many(self, successes: Sequence[Success], *, now: datetime) -> None:
        """A 200 for each feed: its validators, TTL, next check, and error count reset (one
        statement, one trip to the database thread, for the whole poll)."""
        if not successes:
            return
        stamp = to_db(now)
        # One UPDATE ... FROM (VALUES ...) per 100 feeds, as _set_next_checks does: executemany
        # would commit once per feed.
        for start in range(0, len(successes), 100):
            chunk = successes[start : start + 100]
            params: list[object] = [stamp, stamp]
            for s in chunk:
                params += [s.feed_id, s.etag, s.last_modified, s.title, to_db(s.next_check_at)]
                params += [s.new_items, s.update_interval_s, s.ttl_s]
            rows = ",".join("(?, ?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            await self.conn.execute(
                "UPDATE feeds SET etag = v.column2, last_modified = v.column3,"
                " title = COALESCE(feeds.title, v.column4), next_check_at = v.column5,"
                " last_success_at = ?1, error_count = 0, last_error = NULL, first_poll_done = 1,"
                " last_new_item_at = CASE WHEN v.column6 > 0 THEN ?2 ELSE feeds.last_new_item_at END,"
                " update_interval_s = COALESCE(v.column7, feeds.update_interval_s), ttl_s = v.column8"
                f" FROM (VALUES {rows}) AS v WHERE feeds.id = v.column1",
                params,
            )

    async def record_not_modified(self, feed_id: int, *, now: datetime, next_check_at: datetime) -> None:
        await self.record_not_modified_many([(feed_id, next_check_at)], now=now)

    async def record_not_modified_many(
        self, schedule: Sequence[tuple[int, datetime]], *, now: datetime
    ) -> None:
        """A 304 (or an unchanged body) for many feeds (feed id, next check): a success."""
        await self._set_next_checks(
            schedule, "last_success_at = ?, error_count = 0, last_error = NULL", (to_db(now),)
        )

    async def _set_next_checks(
        self, schedule: Sequence[tuple[int, datetime]], also: str, also_params: tuple[object, ...]
    ) -> None:
        # One UPDATE ... FROM (VALUES ...) statement per chunk: a single trip to the database
        # thread and a single transaction, instead of one of each per feed (a poll of 1,000
        # feeds otherwise spends more time on these writes than on its HTTP requests).
        for start in range(0, len(schedule), 400):
            chunk = schedule[start : start + 400]
            rows = ",".join("(?, ?)" for _ in chunk)
            params: list[object] = list(also_params)
            for feed_id, next_check_at in chunk:
                params += [feed_id, to_db(next_check_at)]
            await self.conn.execute(
                f"UPDATE feeds SET {also}, next_check_at = v.column2 FROM (VALUES {rows}) AS v"
                " WHERE feeds.id = v.column1",
                params,
            )

    async def record_failure(
        self,
        feed_id: int,
        *,
        error: str,
        now: datetime,
        next_check_at: datetime,
        max_errors: int,
        permanent: bool = False,
    ) -> Feed:
        """Count a failure; the Nth consecutive one disables the feed, keeping the reason.

        `permanent` failures (gone, unsafe URL) disable at once: retrying cannot help.
        """
        feed = await self.get(feed_id)
        if feed is None:
            raise InputError(f"no feed with id {feed_id}")
        count = feed.error_count + 1
        reason: str | None = None
        if permanent:
            reason = f"permanent error: {error}"
        elif count >= max_errors:
            reason = f"{count} consecutive failures, last: {error}"
        await self.conn.execute(
            "UPDATE feeds SET error_count = ?, last_error = ?, next_check_at = ?, last_checked_at = ?,"
            " disabled_reason = COALESCE(?, disabled_reason) WHERE id = ?",
            (count, error, to_db(next_check_at), to_db(now), reason, feed_id),
        )
        updated = await self.get(feed_id)
        assert updated is not None
        return updated

    async def disable(self, feed_id: int, reason: str) -> None:
        await self.conn.execute("UPDATE feeds SET disabled_reason = ? WHERE id = ?", (reason, feed_id))

    async def enable(self, feed_id: int, *, now: datetime) -> bool:
        """Re-enable (reset) a feed: errors cleared, due now."""
        cur = await self.conn.execute(
            "UPDATE feeds SET disabled_reason = NULL, error_count = 0, last_error = NULL,"
            " next_check_at = ? WHERE id = ?",
            (to_db(now), feed_id),
        )
        return cur.rowcount > 0

    reset = enable

    async def counts(self) -> dict[str, int]:
        """ok / failing / disabled, for status displays."""
        async with self.conn.execute(
            "SELECT SUM(disabled_reason IS NULL AND error_count = 0),"
            " SUM(disabled_reason IS NULL AND error_count > 0), SUM(disabled_reason IS NOT NULL)"
            " FROM feeds"
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return {"ok": int(row[0] or 0), "failing": int(row[1] or 0), "disabled": int(row[2] or 0)}
