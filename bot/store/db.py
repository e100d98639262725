"""The SQLite connection and its numbered migrations on PRAGMA user_version."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every shipped migration, in order."""
    found = []
    folder = resources.files("bot.store") / "migrations"
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found


def latest_version() -> int:
    return migrations()[-1][0]


# UPDATE ... FROM (3.33) and UPDATE ... RETURNING (3.35) batch the poll's writes.
MIN_SQLITE = (3, 35, 0)


def check_sqlite_version(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    if version < MIN_SQLITE:
        have, need = ".".join(map(str, version)), ".".join(map(str, MIN_SQLITE))
        raise StoreError(
            f"this Python's SQLite library is {have}; infrawire needs {need} or newer"
            " (a newer Python build, or one linked against a newer libsqlite3)"
        )


async def connect(path: str | Path) -> aiosqlite.Connection:
    """Open the database (creating it), set it up for WAL, and bring its schema up to date."""
    check_sqlite_version()
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every migration newer than the database, each in its own transaction."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    latest = latest_version()
    if current > latest:
        raise StoreError(
            f"the database is at schema version {current}, newer than this infrawire "
            f"(which knows up to {latest}); upgrade infrawire or use another database file"
        )
    for number, name, sql in migrations():
        if number <= current:
            continue
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
            await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            await conn.execute("ROLLBACK")
            raise StoreError(f"migration {name} failed: {exc}") from exc
        current = number
    return current


def _statements(sql: str) -> list[str]:
    # sqlite3.complete_statement lets us split on ';' without breaking string literals.
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
