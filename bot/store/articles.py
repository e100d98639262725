"""The articles table: every item we have seen, its triage, and which story it joined."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable
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


# Bound parameters per statement: well under SQLite's limit (32,766 since 3.32; 999 before).
_CHUNK = 500

_INSERT_HEAD = (
    "INSERT OR IGNORE INTO articles (id, feed_id, guid, url, content_hash, title, source, author,"
    " published, fetched, text, triage, relevant, importance, story_id, alertable) VALUES "
)
_INSERT_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT = _INSERT_HEAD + _INSERT_ROW
_INSERT_ROWS = 60  # 16 columns each: under the 999 variables older SQLite builds allow


def _row(
    article: Article, fetched: datetime, triage: Triage | None, story_id: str | None, alertable: bool
) -> tuple[object, ...]:
    return (
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
        return await self._present("id", ids)

    async def known_keys(
        self, guids: builtins.list[tuple[int, str]], urls: builtins.list[str]
    ) -> tuple[set[tuple[int, str]], set[str]]:
        """Which (feed id, guid) pairs and which canonical URLs are stored already: the batch
        form of find_duplicate's first two tests, one query per chunk."""
        found_guids: set[tuple[int, str]] = set()
        for start in range(0, len(guids), _CHUNK // 2):
            chunk = guids[start : start + _CHUNK // 2]
            rows = ",".join("(?, ?)" for _ in chunk)
            params = [value for pair in chunk for value in pair]
            found = await self.conn.execute_fetchall(
                # A join, not "(feed_id, guid) IN (VALUES ...)": SQLite scans the whole index
                # for the latter, and seeks it once per pair for the join.
                f"SELECT a.feed_id, a.guid FROM (VALUES {rows}) AS v"
                " JOIN articles AS a ON a.feed_id = v.column1 AND a.guid = v.column2",
                params,
            )
            found_guids.update((int(r[0]), str(r[1])) for r in found)
        return found_guids, await self._present("url", urls)

    async def known_hashes(self, hashes: builtins.list[str]) -> set[str]:
        """Which content hashes are stored already (find_duplicate's third test, in batch)."""
        return await self._present("content_hash", hashes)

    async def _present(self, column: str, values: builtins.list[str]) -> set[str]:
        """Which of `values` some stored article has in `column` (an indexed one)."""
        found: set[str] = set()
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            marks = ",".join("?" for _ in chunk)
            rows = await self.conn.execute_fetchall(
                f"SELECT {column} FROM articles WHERE {column} IN ({marks})", chunk
            )
            found.update(str(row[0]) for row in rows)
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
        cur = await self.conn.execute(_INSERT, _row(article, fetched, triage, story_id, alertable))
        return cur.rowcount > 0

    async def insert_many(
        self, rows: Iterable[tuple[Article, Triage | None, bool]], *, fetched: datetime
    ) -> None:
        """Store many articles without a story ((article, triage, alertable) each) in one
        statement; ids already present are left as they are, as insert() leaves them."""
        # Multi-row INSERT statements: each is one transaction, where executemany in autocommit
        # mode would commit once per row.
        values = [_row(article, fetched, triage, None, alertable) for article, triage, alertable in rows]
        for start in range(0, len(values), _INSERT_ROWS):
            chunk = values[start : start + _INSERT_ROWS]
            await self.conn.execute(
                _INSERT_HEAD + ",".join([_INSERT_ROW] * len(chunk)), [v for row in chunk for v in row]
            )

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
