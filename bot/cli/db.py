"""`infrawire db migrate`: bring the configured database up to the current schema."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import add_config_option
from bot.config import load_settings
from bot.store.db import connect, latest_version


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = sub.add_parser("migrate", help="create the database or apply pending migrations")
    add_config_option(migrate)
    migrate.set_defaults(func=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    version = asyncio.run(_migrate(settings.store.path))
    print(f"{settings.store.path}: schema version {version} (latest {latest_version()})")
    return 0


async def _migrate(path: str) -> int:
    conn = await connect(path)  # connect() applies every pending migration
    try:
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
    finally:
        await conn.close()
