"""Stories, their cards, their clustering state and what they gained over time (story_updates)."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiosqlite

from bot.models import Card, SourceRef, Story, TimelineEvent
from bot.store.codec import card_from_json, card_to_json
from bot.store.db import dumps, from_db, to_db

UPDATE_KINDS = ("created", "outlet", "facts")


class RestorableIndex(Protocol):
    """What the store needs of bot.core.stories.StoryIndex to reload it."""

    def restore(self, story_id: str, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    id: int
    story_id: str
    article_id: str
    kind: str  # 'created' | 'outlet' | 'facts'
    detail: str
    created_at: datetime
    routed: bool


def _update(row: sqlite3.Row) -> StoryUpdate:
    created = from_db(row["created_at"])
    assert created is not None
    return StoryUpdate(
        id=int(row["id"]),
        story_id=row["story_id"],
        article_id=row["article_id"],
        kind=row["kind"],
        detail=row["detail"],
        created_at=created,
        routed=bool(row["routed"]),
    )


class StoryRepository:
    def __init__(self, conn: aiosqlite.Connection):
        self.conn = conn

    async def save(
        self,
        story: Story,
        *,
        now: datetime,
        signature: dict[str, Any] | None = None,
        main_entity: str | None = None,
        relevant: bool = True,
        article_count: int | None = None,
        outlet_count: int | None = None,
    ) -> None:
        """Insert or update a story row (first_seen is kept from the first save)."""
        await self.conn.execute(
            "INSERT INTO stories (id, title, first_seen, last_seen, importance, topics, entities,"
            " main_entity, explanation, signature, article_count, outlet_count, relevant, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET title = excluded.title, last_seen = excluded.last_seen,"
            " importance = excluded.importance, topics = excluded.topics, entities = excluded.entities,"
            " main_entity = COALESCE(excluded.main_entity, main_entity),"
            " explanation = excluded.explanation, signature = excluded.signature,"
            " article_count = excluded.article_count, outlet_count = excluded.outlet_count,"
            " relevant = excluded.relevant, updated_at = excluded.updated_at",
            (
                story.id,
                story.title,
                to_db(story.first_seen),
                to_db(story.last_seen),
                story.importance,
                dumps(list(story.topics)),
                dumps(list(story.entities)),
                main_entity,
                story.explanation,
                dumps(signature or {}),
                article_count if article_count is not None else len(story.article_ids),
                outlet_count if outlet_count is not None else len(story.sources),
                int(relevant),
                to_db(now),
            ),
        )
        if story.card is not None:
            await self.save_card(story.id, story.card, now=now)

    async def save_card(self, story_id: str, card: Card, *, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO cards (story_id, card, backend, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (story_id) DO UPDATE SET card = excluded.card, backend = excluded.backend,"
            " updated_at = excluded.updated_at",
            (story_id, card_to_json(card), card.backend, to_db(now)),
        )

    async def card(self, story_id: str) -> Card | None:
        async with self.conn.execute("SELECT card FROM cards WHERE story_id = ?", (story_id,)) as cur:
            row = await cur.fetchone()
        return card_from_json(row[0]) if row else None

    # -- clustering state ----------------------------------------------------------------------

    async def signatures(self, since: datetime) -> builtins.list[tuple[str, dict[str, Any]]]:
        async with self.conn.execute(
            "SELECT id, signature FROM stories WHERE last_seen >= ? ORDER BY first_seen, id",
            (to_db(since),),
        ) as cur:
            rows = await cur.fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    async def restore_index(self, index: RestorableIndex, *, since: datetime) -> int:
        """Reload the clustering state of every story seen since `since`; returns how many."""
        count = 0
        for story_id, state in await self.signatures(since):
            if state:
                index.restore(story_id, state)
                count += 1
        return count

    # -- updates -------------------------------------------------------------------------------

    async def add_update(
        self, story_id: str, article_id: str, kind: str, *, now: datetime, detail: str = ""
    ) -> int:
        if kind not in UPDATE_KINDS:
            raise ValueError(f"unknown story update kind {kind!r}")
        cur = await self.conn.execute(
            "INSERT INTO story_updates (story_id, article_id, kind, detail, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (story_id, article_id, kind, detail, to_db(now)),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    async def has_update(self, story_id: str, kind: str) -> bool:
        async with self.conn.execute(
            "SELECT 1 FROM story_updates WHERE story_id = ? AND kind = ? LIMIT 1", (story_id, kind)
        ) as cur:
            return await cur.fetchone() is not None

    async def updates(self, story_id: str) -> builtins.list[StoryUpdate]:
        async with self.conn.execute(
            "SELECT * FROM story_updates WHERE story_id = ? ORDER BY id", (story_id,)
        ) as cur:
            rows = await cur.fetchall()
        return [_update(r) for r in rows]

    async def unrouted_updates(self, limit: int = 500) -> builtins.list[StoryUpdate]:
        async with self.conn.execute(
            "SELECT * FROM story_updates WHERE routed = 0 ORDER BY id LIMIT ?", (limit,)
        ) as cur:
            rows = await cur.fetchall()
        return [_update(r) for r in rows]

    async def mark_routed(self, update_ids: builtins.list[int]) -> None:
        await self.conn.executemany(
            "UPDATE story_updates SET routed = 1 WHERE id = ?", [(i,) for i in update_ids]
        )

    # -- merging -------------------------------------------------------------------------------

    async def merge(self, gone: Sequence[str], *, into: str) -> None:
        """Fold stories `gone` into story `into` (a later report showed they were one event).

        Their articles and story updates move over; so do their deliveries, so a channel that was
        alerted to one of them gets the merged story's follow-ups in that alert's thread. Where a
        channel already has the same delivery for `into`, the folded story's copy stays behind,
        and is dropped if it was still waiting to be sent. Then the folded stories' rows go.
        """
        ids = [story_id for story_id in dict.fromkeys(gone) if story_id != into]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        await self.conn.execute(f"UPDATE articles SET story_id = ? WHERE story_id IN ({marks})", (into, *ids))
        await self.conn.execute(
            f"UPDATE story_updates SET story_id = ? WHERE story_id IN ({marks})", (into, *ids)
        )
        await self.conn.execute(
            f"UPDATE OR IGNORE deliveries SET story_id = ? WHERE story_id IN ({marks})", (into, *ids)
        )
        await self.conn.execute(
            f"UPDATE deliveries SET status = 'dropped', last_error = ?, claimed_until = NULL"
            f" WHERE story_id IN ({marks}) AND status IN ('pending', 'held')",
            (f"merged into story {into}", *ids),
        )
        # Ids already posted in alerts keep finding the story (see find): the folded ids, and the
        # ids folded into those before.
        await self.conn.execute(
            f"UPDATE story_aliases SET story_id = ? WHERE story_id IN ({marks})", (into, *ids)
        )
        await self.conn.execute(
            "INSERT OR REPLACE INTO story_aliases (alias, story_id)"
            f" SELECT id, ? FROM stories WHERE id IN ({marks})",
            (into, *ids),
        )
        await self.conn.execute(f"DELETE FROM stories WHERE id IN ({marks})", ids)

    # -- reads ---------------------------------------------------------------------------------

    async def _story(self, row: sqlite3.Row) -> Story:
        async with self.conn.execute(
            "SELECT id, source, url FROM articles WHERE story_id = ?"
            " ORDER BY importance DESC, COALESCE(published, fetched), id",
            (row["id"],),
        ) as cur:
            arts = await cur.fetchall()
        sources: list[SourceRef] = []
        seen: set[str] = set()
        for art in arts:
            name = art["source"] or art["url"] or ""
            if name and name not in seen:
                seen.add(name)
                sources.append(SourceRef(name=name, url=art["url"]))
        first_seen = from_db(row["first_seen"])
        last_seen = from_db(row["last_seen"])
        assert first_seen is not None and last_seen is not None
        return Story(
            id=row["id"],
            title=row["title"],
            first_seen=first_seen,
            last_seen=last_seen,
            importance=int(row["importance"]),
            topics=tuple(json.loads(row["topics"])),
            entities=tuple(json.loads(row["entities"])),
            article_ids=tuple(a["id"] for a in arts),
            sources=tuple(sources),
            explanation=row["explanation"],
            card=card_from_json(row["card"]) if row["card"] else None,
        )

    _SELECT = "SELECT s.*, c.card AS card FROM stories s LEFT JOIN cards c ON c.story_id = s.id"

    async def get(self, story_id: str) -> Story | None:
        async with self.conn.execute(self._SELECT + " WHERE s.id = ?", (story_id,)) as cur:
            row = await cur.fetchone()
        return await self._story(row) if row else None

    async def find(self, prefix: str) -> Story | None:
        """A story by id or unambiguous id prefix (what people paste into /why); the id of a
        story since merged into another finds that other."""
        story = await self.current(prefix)
        if story is not None or len(prefix) < 4:
            return story
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = self._SELECT + " WHERE s.id LIKE ? ESCAPE '\\' LIMIT 2"
        async with self.conn.execute(query, (pattern,)) as cur:
            rows = list(await cur.fetchall())
        if rows:
            return await self._story(rows[0]) if len(rows) == 1 else None
        async with self.conn.execute(
            "SELECT DISTINCT story_id FROM story_aliases WHERE alias LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)
        ) as cur:
            targets = list(await cur.fetchall())
        return await self.get(targets[0][0]) if len(targets) == 1 else None

    async def current(self, story_id: str) -> Story | None:
        """get(), following a merge: a folded story's id gives the story it was folded into."""
        story = await self.get(story_id)
        if story is None:
            merged_into = await self.merged_into(story_id)
            story = await self.get(merged_into) if merged_into else None
        return story

    async def merged_into(self, story_id: str) -> str | None:
        """The story that story `story_id` was folded into, if it was."""
        query = "SELECT story_id FROM story_aliases WHERE alias = ?"
        async with self.conn.execute(query, (story_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def main_entity(self, story_id: str) -> str | None:
        async with self.conn.execute("SELECT main_entity FROM stories WHERE id = ?", (story_id,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def window(
        self,
        start: datetime,
        end: datetime,
        *,
        min_importance: int = 0,
        relevant_only: bool = True,
        limit: int = 500,
    ) -> builtins.list[Story]:
        """Stories last seen in [start, end), most important first: what a recap covers."""
        sql = self._SELECT + " WHERE s.last_seen >= ? AND s.last_seen < ? AND s.importance >= ?"
        if relevant_only:
            sql += " AND s.relevant = 1"
        sql += " ORDER BY s.importance DESC, s.first_seen, s.id LIMIT ?"
        async with self.conn.execute(sql, (to_db(start), to_db(end), min_importance, limit)) as cur:
            rows = await cur.fetchall()
        return [await self._story(r) for r in rows]

    async def history(
        self,
        main_entity: str,
        *,
        before: datetime,
        exclude: str | None = None,
        limit: int = 5,
    ) -> builtins.list[TimelineEvent]:
        """Earlier stories about the same main entity, oldest first, as timeline events."""
        async with self.conn.execute(
            "SELECT id, title, first_seen FROM stories WHERE main_entity = ? AND first_seen < ?"
            " AND id != ? AND relevant = 1 ORDER BY first_seen DESC LIMIT ?",
            (main_entity, to_db(before), exclude or "", limit),
        ) as cur:
            rows = list(await cur.fetchall())
        events = []
        for row in reversed(rows):
            first = from_db(row["first_seen"])
            assert first is not None
            events.append(TimelineEvent(date=first.date().isoformat(), event=row["title"]))
        return events

    async def count(self) -> int:
        async with self.conn.execute("SELECT COUNT(*) FROM stories") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
