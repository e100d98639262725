"""The Store: one SQLite file behind repositories, so moving to another database is one package."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from bot.log import get_logger
from bot.store.articles import ArticleRepository
from bot.store.channels import DeliveryRepository, SubscriptionRepository
from bot.store.db import connect
from bot.store.feeds import FeedRepository
from bot.store.stories import StoryRepository

log = get_logger(__name__)

__all__ = ["Store"]


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: str, *, background_checkpoints: bool = False):
        self.conn = conn
        self.path = path
        self.feeds = FeedRepository(conn)
        self.articles = ArticleRepository(conn)
        self.stories = StoryRepository(conn)
        self.subscriptions = SubscriptionRepository(conn)
        self.deliveries = DeliveryRepository(conn)
        self.background_checkpoints = background_checkpoints
        self._checkpoint: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path, *, background_checkpoints: bool = False) -> Store:
        """Open (creating and migrating) the database file.

        With `background_checkpoints`, writes never copy the write-ahead log back into the
        database file themselves (SQLite's automatic checkpoint, which also syncs the file to
        disk, would land on whichever write crosses the threshold, in the middle of a poll):
        the owner calls checkpoint_soon() after a batch of work, and the copy runs on a worker
        thread with its own connection, beside whatever the store does next.
        """
        conn = await connect(path)
        background = background_checkpoints and str(path) != ":memory:"
        if background:
            await conn.execute("PRAGMA wal_autocheckpoint=0")
        return cls(conn, str(path), background_checkpoints=background)

    def checkpoint_soon(self) -> None:
        """Start a checkpoint in the background (background_checkpoints stores only; at most one
        at a time: one already running covers what was written before it)."""
        if not self.background_checkpoints or (self._checkpoint and not self._checkpoint.done()):
            return
        self._checkpoint = asyncio.get_running_loop().create_task(self._run_checkpoint())

    async def wait_checkpoint(self) -> None:
        """Until the background checkpoint, if any, has finished."""
        if self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)

    async def _run_checkpoint(self) -> None:
        try:
            busy, frames, copied = await asyncio.to_thread(_checkpoint, self.path)
        except sqlite3.Error as exc:  # the next one retries; the log only grows meanwhile
            log.warning("store.checkpoint_failed", path=self.path, error=str(exc))
            return
        log.debug("store.checkpoint", frames=frames, copied=copied, busy=busy)

    async def close(self) -> None:
        await self.wait_checkpoint()
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _checkpoint(path: str) -> tuple[int, int, int]:
    """A passive checkpoint through a connection of its own: it copies what no reader still
    needs and never waits for, or blocks, the store's connection."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1]), int(row[2])
