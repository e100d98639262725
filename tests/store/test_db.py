from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.db import MIN_SQLITE, check_sqlite_version


def test_an_old_sqlite_library_is_refused_with_the_versions_named() -> None:
    with pytest.raises(StoreError, match=r"SQLite library is 3\.31\.1; infrawire needs 3\.35\.0 or newer"):
        check_sqlite_version((3, 31, 1))


def test_this_pythons_sqlite_is_new_enough() -> None:
    assert sqlite3.sqlite_version_info >= MIN_SQLITE
    check_sqlite_version()


async def test_a_database_at_an_older_schema_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    from bot.store import Store
    from bot.store.db import latest_version, migrations

    path = tmp_path / "old.db"
    number, _, first = migrations()[0]
    raw = sqlite3.connect(path)
    raw.executescript(first)
    raw.execute(f"PRAGMA user_version = {number}")
    raw.execute(
        "INSERT INTO stories (id, title, first_seen, last_seen, importance, updated_at) VALUES"
        " ('s1', 'Kept', '2026-11-20T00:00:00+00:00', '2026-11-20T00:00:00+00:00', 50, '2026-11-20')"
    )
    raw.commit()
    raw.close()
    assert latest_version() > number
    store = await Store.open(path)
    try:
        async with store.conn.execute("PRAGMA user_version") as cur:
            assert (await cur.fetchone())[0] == latest_version()  # type: ignore[index]
        kept = await store.stories.get("s1")
        assert kept is not None and kept.title == "Kept"
        other = replace(kept, id="s2", title="Other")
        await store.stories.save(other, now=kept.last_seen)
        await store.stories.merge(["s1"], into="s2")  # the new table is there and used
        assert await store.stories.merged_into("s1") == "s2"
    finally:
        await store.close()
