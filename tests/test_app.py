from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _missing(model: type[BaseModel], data: Any, prefix: str, commented: set[str]) -> list[str]:
    """Every option of `model` (recursively) that the example does not set.

    An option whose default is "unset" (None, which TOML cannot write) may be shown commented out.
    """
    missing: list[str] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        if not isinstance(data, dict) or name not in data:
            if not (info.default is None and name in commented):
                missing.append(key)
            continue
        value = data[name]
        annotation: Any = info.annotation
        args: tuple[Any, ...] = getattr(annotation, "__args__", None) or (None,)
        inner: Any = args[0] if isinstance(value, list) else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            items = value if isinstance(value, list) else [value]
            if not items:
                missing.append(f"{key}[]")
            for item in items[:1]:
                missing.extend(_missing(inner, item, f"{key}.", commented))
    return missing


def test_config_example_loads_and_sets_every_option() -> None:
    settings = load_settings(EXAMPLE)
    assert len(settings.feeds) >= 12
    assert all(f.url.startswith("https://") and not f.allow_private for f in settings.feeds)
    text = EXAMPLE.read_text(encoding="utf-8")
    commented = set(re.findall(r"^# (\w+) = ", text, re.MULTILINE))
    assert _missing(Settings, tomllib.loads(text), "", commented) == []


def test_config_example_comments_every_option() -> None:
    for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip()
            if key in ("url", "title"):  # the feed list itself is described once above it
                continue
            assert " # " in line, f"config.example.toml:{number}: {key} has no comment"


async def test_app_uses_the_console_by_default_and_needs_tokens_for_platforms(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import pytest

    from bot.app import App
    from bot.config import parse_settings
    from bot.errors import ConfigError

    now = datetime(2026, 11, 20, tzinfo=UTC)
    feed = {"url": "https://example.com/feed.xml", "title": "Example"}
    settings = parse_settings({"store": {"path": str(tmp_path / "a.db")}, "feeds": [feed]})
    app = await App.create(settings, now=now, env={})
    try:
        assert set(app.adapters) == {"console"} and app.dispatcher is not None
        [stored] = await app.store.feeds.list()
        assert (stored.url, stored.title, stored.added_by) == (feed["url"], "Example", "config")
    finally:
        await app.close()
    slack = parse_settings({"store": {"path": str(tmp_path / "a.db")}, "slack": {"enabled": True}})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        await App.create(slack, now=now, env={})


def test_objects_alive_at_start_up_are_frozen_and_later_garbage_is_still_collected() -> None:
    import gc
    import weakref

    from bot.app import freeze_startup_objects

    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the cyclic collector frees it

    before = Node()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        kept = weakref.ref(before)
        del before
        gc.collect()
        assert kept() is not None  # frozen: full collections no longer walk it
        later = Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None  # made after start-up: collected as usual
    finally:
        gc.unfreeze()
