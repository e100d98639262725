"""`infrawire feeds add|list|remove|check|import|export`: manage the stored feed list."""

from __future__ import annotations

import argparse
import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.cli import add_config_option
from bot.config import Settings, load_settings
from bot.errors import InputError
from bot.store import Store
from bot.store.feeds import Feed


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("feeds", help="add, list, remove, check, import or export feeds")
    sub = parser.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a feed (polled from the next tick)")
    add.add_argument("url")
    add.add_argument("--title", default=None)
    add.add_argument("--allow-private", action="store_true", help="allow a private or loopback host")
    add.add_argument("--backfill", action="store_true", help="alert old items on the first poll too")
    add.set_defaults(func=run_add)

    lst = sub.add_parser("list", help="list feeds with their state")
    lst.set_defaults(func=run_list)

    remove = sub.add_parser("remove", help="remove a feed by id (its articles stay)")
    remove.add_argument("id", type=int)
    remove.set_defaults(func=run_remove)

    enable = sub.add_parser("enable", help="re-enable a disabled feed and clear its errors")
    enable.add_argument("id", type=int)
    enable.set_defaults(func=run_enable)

    check = sub.add_parser("check", help="fetch and parse a feed and show what it holds (stores nothing)")
    check.add_argument("url")
    check.add_argument("--allow-private", action="store_true")
    check.set_defaults(func=run_check)

    imp = sub.add_parser("import", help="add every feed of an OPML file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)

    exp = sub.add_parser("export", help="write the feed list as OPML")
    exp.add_argument("file", type=Path)
    exp.set_defaults(func=run_export)

    for child in (add, lst, remove, enable, check, imp, exp):
        add_config_option(child)


def _now() -> datetime:
    return datetime.now(UTC)


def check_url(url: str) -> str:
    """Feeds added by hand must be http(s) URLs with a host; file:// is for the config file only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"not an http(s) feed URL: {url!r}")
    return url.strip()


async def _with_store(settings: Settings) -> Store:
    return await Store.open(settings.store.path)


# -- add / list / remove / enable ------------------------------------------------------------------


def run_add(args: argparse.Namespace) -> int:
    from bot.ingest.ssrf import check_url as guard_url

    settings = load_settings(args.config)
    url = check_url(args.url)
    # An address literal or internal name is refused now rather than at the first poll; names are
    # checked again on their resolved addresses at every fetch.
    guard_url(url, allow_private=args.allow_private, allow_file=False)

    async def go() -> Feed:
        store = await _with_store(settings)
        try:
            return await store.feeds.add(
                url,
                now=_now(),
                title=args.title,
                added_by="cli",
                allow_private=args.allow_private,
                backfill=args.backfill,
            )
        finally:
            await store.close()

    feed = asyncio.run(go())
    print(f"added feed {feed.id}: {feed.url}")
    return 0


def _state(feed: Feed) -> str:
    if feed.disabled_reason:
        return f"disabled ({feed.disabled_reason})"
    if feed.error_count:
        return f"failing x{feed.error_count} ({feed.last_error})"
    return "ok" if feed.last_success_at else "new"


def _all_feeds(settings: Settings) -> list[Feed]:
    async def go() -> list[Feed]:
        store = await _with_store(settings)
        try:
            return await store.feeds.list()
        finally:
            await store.close()

    return asyncio.run(go())


def run_list(args: argparse.Namespace) -> int:
    feeds = _all_feeds(load_settings(args.config))
    if not feeds:
        print("no feeds")
    for feed in feeds:
        last = feed.last_success_at.isoformat(timespec="minutes") if feed.last_success_at else "never"
        print(f"{feed.id:>4}  {_state(feed):<10}  last ok {last}  {feed.name}  <{feed.url}>")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def go() -> Feed | None:
        store = await _with_store(settings)
        try:
            feed = await store.feeds.get(args.id)
            if feed is not None:
                await store.feeds.remove(feed.id)
            return feed
        finally:
            await store.close()

    feed = asyncio.run(go())
    if feed is None:
        raise InputError(f"no feed with id {args.id}")
    print(f"removed feed {feed.id}: {feed.url}")
    if any(f.url == feed.url for f in settings.feeds):
        print(
            "note: it is listed in the config file, so it comes back at the next start; remove it there too"
        )
    return 0


def run_enable(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def go() -> bool:
        store = await _with_store(settings)
        try:
            return await store.feeds.enable(args.id, now=_now())
        finally:
            await store.close()

    if not asyncio.run(go()):
        raise InputError(f"no feed with id {args.id}")
    print(f"enabled feed {args.id}")
    return 0


# -- check --------------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    from bot.app import close_fetcher, make_fetcher
    from bot.ingest.poll import fetch_articles

    settings = load_settings(args.config)
    url = check_url(args.url)

    async def go() -> tuple[str | None, list[tuple[str, str]]]:
        fetcher = make_fetcher(settings)
        try:
            title, articles = await fetch_articles(fetcher, url, allow_private=args.allow_private)
        finally:
            await close_fetcher(fetcher)
        return title, [
            (a.published.isoformat(timespec="minutes") if a.published else "undated", a.title)
            for a in articles
        ]

    title, items = asyncio.run(go())
    print(f"{title or '(untitled feed)'}: {len(items)} items")
    for when, item_title in items[:20]:
        print(f"  {when}  {item_title}")
    return 0


# -- OPML -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None


def read_opml(path: Path) -> list[OpmlFeed]:
    """Feed outlines of an OPML file. DOCTYPEs and entities are refused (no expansion attacks)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise InputError(f"{path}: DOCTYPE/ENTITY declarations are not allowed in OPML")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        line = exc.position[0]
        raise InputError(f"{path}:{line}: not well-formed XML: {exc}") from None
    if root.tag != "opml":
        raise InputError(f"{path}: not an OPML file (root element is <{root.tag}>)")
    feeds: list[OpmlFeed] = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if url:
            feeds.append(OpmlFeed(url=url.strip(), title=outline.get("title") or outline.get("text")))
    return feeds


def write_opml(feeds: Sequence[Feed], path: Path) -> None:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "infrawire feeds"
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name, xmlUrl=feed.url)
    ET.indent(root)
    tmp = path.with_name(path.name + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)  # never leave a half-written file in place of a good one


def run_import(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    entries = read_opml(args.file)
    problems = []
    good: list[OpmlFeed] = []
    for entry in entries:
        try:
            good.append(OpmlFeed(check_url(entry.url), entry.title))
        except InputError as exc:
            problems.append(f"{args.file}: {exc}")

    async def go() -> tuple[int, int]:
        store = await _with_store(settings)
        added = skipped = 0
        try:
            for entry in good:
                if await store.feeds.get_by_url(entry.url) is not None:
                    skipped += 1
                    continue
                await store.feeds.add(entry.url, now=_now(), title=entry.title, added_by="opml")
                added += 1
        finally:
            await store.close()
        return added, skipped

    added, skipped = asyncio.run(go())
    for problem in problems:
        print(f"skipped: {problem}")
    print(f"imported {added} feeds ({skipped} already present, {len(problems)} invalid)")
    return 1 if problems else 0


def run_export(args: argparse.Namespace) -> int:
    feeds = _all_feeds(load_settings(args.config))
    write_opml(feeds, args.file)
    print(f"exported {len(feeds)} feeds to {args.file}")
    return 0
