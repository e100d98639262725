from __future__ import annotations

import sqlite3

import pytest

from bot.errors import StoreError
from bot.store.db import MIN_SQLITE, check_sqlite_version


def test_an_old_sqlite_library_is_refused_with_the_versions_named() -> None:
    with pytest.raises(StoreError, match=r"SQLite library is 3\.31\.1; infrawire needs 3\.35\.0 or newer"):
        check_sqlite_version((3, 31, 1))


def test_this_pythons_sqlite_is_new_enough() -> None:
    assert sqlite3.sqlite_version_info >= MIN_SQLITE
    check_sqlite_version()
