"""The Store: one SQLite file behind repositories, so moving to another database is one package."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.store.articles import ArticleRepository
from bot.store.channels import DeliveryRepository, SubscriptionRepository
from bot.store.db import connect
from bot.store.feeds import FeedRepository
from bot.store.stories import StoryRepository

__all__ = ["Store"]


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: str):
        self.conn = conn
        self.path = path
        self.feeds = FeedRepository(conn)
        self.articles = ArticleRepository(conn)
        self.stories = StoryRepository(conn)
        self.subscriptions = SubscriptionRepository(conn)
        self.deliveries = DeliveryRepository(conn)

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating and migrating) the database file."""
        conn = await connect(path)
        return cls(conn, str(path))

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
