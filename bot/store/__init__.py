"""The Store: one SQLite file behind repositories, so moving to another database is one package."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.articles import ArticleRepository
from bot.store.db import connect
from bot.store.feeds import FeedRepository
from bot.store.stories import StoryRepository

__all__ = ["Store"]


def _channel_repositories(conn: aiosqlite.Connection) -> tuple[Any, Any]:
    """Subscriptions and deliveries live in bot.store.channels (the channels side owns them)."""
    try:
        channels = importlib.import_module("bot.store.channels")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.store.channels":
            raise
        return None, None
    subs = getattr(channels, "SubscriptionRepository", None)
    deliveries = getattr(channels, "DeliveryRepository", None)
    return (subs(conn) if subs else None, deliveries(conn) if deliveries else None)


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: str):
        self.conn = conn
        self.path = path
        self.feeds = FeedRepository(conn)
        self.articles = ArticleRepository(conn)
        self.stories = StoryRepository(conn)
        self.subscriptions, self.deliveries = _channel_repositories(conn)

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
