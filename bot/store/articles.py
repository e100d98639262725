"""The articles table: every item we have seen, its triage, and which story it joined."""

from __future__ import annotations

import builtins
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.models import Article, Triage
from bot.store.codec import triage_from_json, triage_to_json
from bot.store.db import from_db, to_db


@dataclass(frozen=True, slots=True)
class StoredArticle:
    article: Article
    triage: Triage | None
    fetched: datetime
    story_id: str | None
    alertable: bool


def _stored(row: sqlite3.Row) -> StoredArticle:
    article = Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        published=from_db(row["published"]),
        guid=row["guid"],
        author=row["author"],
        feed_id=row["feed_id"],
        content_hash=row["content_hash"],
    )
    fetched = from_db(row["fetched"])
    assert fetched is not None
    return StoredArticle(
        article=article,
        triage=triage_from_json(row["triage"]) if row["triage"] else None,
        fetched=fetched,
        story_id=row["story_id"],
        alertable=bool(row["alertable"]),
    )


class ArticleRepository:
    def __init__(self, conn: aiosqlite.Connection):
        self.conn = conn

    async def find_duplicate(
        self,
        *,
        feed_id: int | None,
        guid: str | None,
        url: str | None,
        content_hash: str | None,
    ) -> str | None:
        """The id of an article we already hold that is the same item, else None.

        The same item is: the feed's own GUID again, the same canonical URL, or the same content
        hash, so a feed that rewrites its GUIDs or timestamps still matches on URL or text.
        """
        clauses: list[str] = []
        params: list[object] = []
        if guid and feed_id is not None:
            clauses.append("(feed_id = ? AND guid = ?)")
            params += [feed_id, guid]
        if url:
            clauses.append("url = ?")
            params.append(url)
        if content_hash:
            clauses.append("content_hash = ?")
            params.append(content_hash)
        if not clauses:
            return None
        # One query, one trip to the database thread (execute_fetchall: no cursor round trips);
        # SQLite answers each OR branch from its own index.
        rows = await self.conn.execute_fetchall(
            "SELECT id FROM articles WHERE " + " OR ".join(clauses) + " LIMIT 1", params
        )
        return next((str(row[0]) for row in rows), None)

    async def exists(self, article_id: str) -> bool:
        return bool(await self.conn.execute_fetchall("SELECT 1 FROM articles WHERE id = ?", (article_id,)))

    async def existing_ids(self, ids: builtins.list[str]) -> set[str]:
        """Which of `ids` are stored already (one query per 500 ids: the common re-poll case)."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = await self.conn.execute_fetchall(f"SELECT id FROM articles WHERE id IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    async def insert(
        self,
        article: Article,
        *,
        fetched: datetime,
        triage: Triage | None = None,
        story_id: str | None = None,
        alertable: bool = True,
    ) -> bool:
        """Store an article; False when its id is already present (nothing is overwritten)."""
        cur = await self.conn.execute(
            "INSERT OR IGNORE INTO articles (id, feed_id, guid, url, content_hash, title, source, author,"
            " published, fetched, text, triage, relevant, importance, story_id, alertable)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.feed_id,
                article.guid,
                article.url,
                article.content_hash,
                article.title,
                article.source,
                article.author,
                to_db(article.published),
                to_db(fetched),
                article.text,
                triage_to_json(triage) if triage else None,
                int(bool(triage and triage.relevant)),
                triage.importance if triage else 0,
                story_id,
                int(alertable),
            ),
        )
        return cur.rowcount > 0

    async def set_triage(self, article_id: str, triage: Triage) -> None:
        await self.conn.execute(
            "UPDATE articles SET triage = ?, relevant = ?, importance = ? WHERE id = ?",
            (triage_to_json(triage), int(triage.relevant), triage.importance, article_id),
        )

    async def set_story(self, article_id: str, story_id: str) -> None:
        await self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))

    async def get(self, article_id: str) -> StoredArticle | None:
        async with self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)) as cur:
            row = await cur.fetchone()
        return _stored(row) if row else None

    async def recent(self, since: datetime, *, relevant_only: bool = False) -> builtins.list[StoredArticle]:
        sql = "SELECT * FROM articles WHERE fetched >= ?"
        if relevant_only:
            sql += " AND relevant = 1"
        async with self.conn.execute(sql + " ORDER BY fetched, id", (to_db(since),)) as cur:
            rows = await cur.fetchall()
        return [_stored(r) for r in rows]

    async def by_story(self, story_id: str) -> builtins.list[StoredArticle]:
        """The story's articles, most important first, then earliest."""
        async with self.conn.execute(
            "SELECT * FROM articles WHERE story_id = ?"
            " ORDER BY importance DESC, COALESCE(published, fetched), id",
            (story_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [_stored(r) for r in rows]

    async def count(self) -> int:
        async with self.conn.execute("SELECT COUNT(*) FROM articles") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
