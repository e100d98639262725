"""Feed documents -> ParsedFeed -> Article.

JSON Feed is parsed here; RSS, RDF and Atom go through feedparser on the downloaded bytes (never
through feedparser's own fetching: given a plain string or bytes it may open a URL or a local
file, so it only ever sees a byte stream). The HTTP Content-Type is passed along so its charset
is honoured, with one correction: a body labelled Latin-1 that is valid UTF-8 is read as UTF-8
(the label is the usual mistake; the reverse case is left to feedparser's fallbacks).

Entity expansion attacks are refused before parsing: a DOCTYPE whose entities reference other
entities, or declare a large amount of text, never reaches a parser.
"""

from __future__ import annotations

import asyncio
import calendar
import functools
import hashlib
import io
import json
import re
import time
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
from feedparser.datetimes import _parse_date
from feedparser.datetimes.rfc822 import months as _RFC822_MONTHS
from feedparser.datetimes.rfc822 import timezone_names as _RFC822_ZONES

from bot.core.text import clean, content_hash, html_to_text, looks_like_html, repair
from bot.errors import FeedError
from bot.ingest.fastxml import FastFeed, parse_fast
from bot.ingest.urls import canonical_url, host_of
from bot.models import Article

JSON_FEED_PREFIX = "https://jsonfeed.org/version/"
_MAX_ENTITY_BYTES = 64 * 1024
_MAX_ENTITIES = 256
_SY_PERIODS = {"hourly": 3600, "daily": 86_400, "weekly": 604_800, "monthly": 2_592_000, "yearly": 31_536_000}


@dataclass(frozen=True, slots=True)
class ParsedItem:
    guid: str | None
    link: str | None  # absolute, as the feed gives it (canonicalised in to_article)
    title: str
    html: str  # the richest body the entry has: full content, else summary (HTML or text)
    author: str | None = None
    published: datetime | None = None  # UTC
    updated: datetime | None = None  # UTC
    # An item the caller said it has (see parse_feed's `known`): only guid and dates are read.
    known: bool = False


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    url: str
    title: str | None
    link: str | None
    ttl_s: float | None  # how long the feed asks to be left alone (RSS ttl, sy:updatePeriod)
    items: tuple[ParsedItem, ...]
    format: str = ""  # "rss20", "atom10", "json1", ... as detected

    @property
    def entries(self) -> tuple[ParsedItem, ...]:
        return self.items


# -- entry points ---------------------------------------------------------------------------------


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None, known: AbstractSet[str] = frozenset()
) -> ParsedFeed:
    """Parse a feed document; FeedError (permanent) when it is not a feed or is refused.

    `known`: guids of items the caller already has (a poller's items of the feed's last body).
    Such items may come back with `known` set and nothing read but their guid and dates, which
    is most of the work saved when a feed gains one item and repeats the rest."""
    if not body.strip():
        raise FeedError(f"{url}: not a feed: the document is empty", permanent=True)
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url=url, content_type=content_type)
    _refuse_entity_expansion(body, url)
    return _parse_xml_feed(body, url=url, content_type=content_type, known=known)


async def parse_feed_async(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """parse_feed in a worker thread, off the event loop."""
    return await asyncio.to_thread(parse_feed, body, url=url, content_type=content_type)


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """A downloaded feed document waiting to be parsed."""

    body: bytes
    url: str
    content_type: str | None = None
    known: AbstractSet[str] = frozenset()  # guids of items the caller has (see parse_feed)


def parse_feeds(docs: Sequence[FeedDocument]) -> list[ParsedFeed | FeedError]:
    """parse_feed over many documents; a document that fails gives its FeedError in its place
    (an unexpected exception becomes one too, so one bad document cannot cost the others)."""
    out: list[ParsedFeed | FeedError] = []
    for doc in docs:
        try:
            out.append(parse_feed(doc.body, url=doc.url, content_type=doc.content_type, known=doc.known))
        except FeedError as exc:
            out.append(exc)
        except Exception as exc:
            out.append(FeedError(f"{doc.url}: internal error while parsing: {type(exc).__name__}: {exc}"))
    return out


async def parse_feeds_async(docs: Sequence[FeedDocument]) -> list[ParsedFeed | FeedError]:
    """parse_feeds in one worker-thread job, meant to run after a poll's requests are done.

    One job rather than one per document: a worker thread holding the GIL while the event loop
    still has requests in flight makes every socket call of the loop wait for the GIL's switch
    interval, which cost a 1,000-feed poll more than the parsing itself (see bench/poll.py)."""
    if not docs:
        return []
    return await asyncio.to_thread(parse_feeds, docs)


def article_id(feed_url: str, guid: str) -> str:
    """Stable id of an item: the same guid in the same feed is the same article."""
    return hashlib.sha256(f"{feed_url}\n{guid}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ItemKey:
    """What identifies an item before it is normalised (cheap: no text clean-up, no hashing of
    the body). `id` is None when the item has neither guid nor link: then only its content
    hash can identify it, and that needs to_article."""

    id: str | None
    guid: str | None
    url: str | None  # canonical


def item_key(item: ParsedItem, feed_url: str) -> ItemKey:
    """The article id, guid and canonical URL to_article will give `item` (same rules, by
    construction: to_article uses this)."""
    link = canonical_url(item.link, base=feed_url or None) if item.link else None
    guid = (item.guid or "").strip() or link or None
    return ItemKey(id=article_id(feed_url, guid) if guid else None, guid=guid, url=link)


def guid_id(item: ParsedItem, feed_url: str) -> str | None:
    """item_key(item, feed_url).id when the item has a guid, without canonicalising its link
    (the cheapest test for an item seen before); None when the item has no guid."""
    guid = (item.guid or "").strip()
    return article_id(feed_url, guid) if guid else None


def to_article(
    item: ParsedItem,
    feed: ParsedFeed | None = None,
    *,
    feed_id: int | None = None,
    source: str | None = None,
    feed_url: str | None = None,
    key: ItemKey | None = None,
) -> Article:
    """Normalise one item: canonical URL, guid, clean text, UTC date, outlet name, hashes.

    `source` and `feed_url` override what `feed` says (the store may know a better title);
    `key` is item_key(item, that feed URL) when the caller has it already.
    """
    base = feed_url or (feed.url if feed else None)
    if key is None:
        key = item_key(item, base or "")
    link, guid = key.url, key.guid
    text = clean(item.html) if item.html else ""
    title = _clean_title(item.title)
    if not title:
        title = _title_from_text(text) or link or "(untitled)"
    outlet = source or (feed.title if feed else None) or host_of(base or link or "") or None
    return Article(
        id=key.id or article_id(base or "", content_hash(title, text)),
        title=title,
        text=text,
        url=link,
        source=outlet,
        published=item.published or item.updated,
        guid=guid,
        author=item.author,
        feed_id=feed_id,
        content_hash=content_hash(title, text),
    )


def _clean_title(raw: str) -> str:
    # Not clean(): its boilerplate filter may drop a short headline that looks like site chrome.
    if not raw:
        return ""
    text = html_to_text(raw) if looks_like_html(raw) else raw
    return " ".join(repair(text).split())


def _title_from_text(text: str) -> str | None:
    first = text.strip().split("\n", 1)[0].strip()
    if not first:
        return None
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


# -- safety checks --------------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"""<!ENTITY\s+(?:%\s+)?[^\s>]+\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_ENTITY_REF = re.compile(rb"[&%]([A-Za-z_:][\w.:-]*);")
_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})  # XML's own: they expand to one character


def _refuse_entity_expansion(body: bytes, url: str) -> None:
    doctype = _DOCTYPE.search(body)
    if doctype is None:
        return
    end = body.find(b"]>", doctype.end())
    subset = body[doctype.end() : end if end >= 0 else len(body)]
    declared = 0
    count = 0
    for match in _ENTITY_DECL.finditer(subset):
        value = match.group(1) if match.group(1) is not None else match.group(2) or b""
        count += 1
        declared += len(value)
        if any(ref.group(1) not in _PREDEFINED for ref in _ENTITY_REF.finditer(value)):
            raise FeedError(
                f"{url}: refusing an XML document whose DOCTYPE declares entities that expand other "
                "entities (an entity expansion attack)",
                permanent=True,
            )
    if count > _MAX_ENTITIES or declared > _MAX_ENTITY_BYTES:
        raise FeedError(
            f"{url}: refusing an XML document whose DOCTYPE declares {count} entities "
            f"({declared:,} bytes of text)",
            permanent=True,
        )


# -- XML feeds through feedparser -----------------------------------------------------------------

_LATIN1_LABELS = frozenset({"iso-8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252", "us-ascii"})
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)[\"']?", re.IGNORECASE)


def _honest_content_type(body: bytes, content_type: str | None) -> str | None:
    """Correct a Latin-1 charset label on a body that is really UTF-8 (a common server mistake:
    valid multi-byte UTF-8 is almost never what Latin-1 text looks like)."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    if match is None or match.group(1).lower() not in _LATIN1_LABELS or body.isascii():
        return content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return content_type
    return _CHARSET.sub("; charset=utf-8", content_type, count=1)


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and content_type.split(";", 1)[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    ):
        return True
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _struct_to_utc(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


# The two forms most feeds write dates in: RFC 822 with a four-digit year and seconds, and a W3C
# date-time with seconds. feedparser tries its W3C handler first, which refuses the RFC 822 form
# (no four-digit year up front); for both forms the handler that answers does plain arithmetic on
# these numbers, which _common_date repeats. An impossible date is left to feedparser, which then
# tries its other handlers. re.ASCII: no other script's digits, no non-ASCII case folding.
_RFC822 = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun), )?([0-9]{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) "
    r"([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
    r"(?:(?!gmt[a-z])([a-z]+)|([+-])([0-9]{2})([0-9]{2}))\Z",  # feedparser cuts "gmt" off "gmtx"
    re.ASCII | re.IGNORECASE,
)
_W3DTF = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})t([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?"
    r"(?:z|([+-])([0-9]{2}):([0-9]{2}))?\Z",  # fractions are dropped; no zone is UTC
    re.ASCII | re.IGNORECASE,
)
_MINUTE = timedelta(minutes=1)


def _common_date(text: str) -> datetime | None:
    """What _struct_to_utc(_parse_date(text)) gives for a date in one of the common forms;
    None for any other text."""
    offset = 0  # minutes east of UTC
    if found := _RFC822.match(text):
        day, month_name, year, hour, minute, second, zone, sign, zone_hours, zone_minutes = found.groups()
        month = _RFC822_MONTHS[month_name.lower()]
        if zone is not None:  # a name feedparser does not know counts as UTC
            offset = 60 * _RFC822_ZONES.get(zone.lower(), 0)
    elif found := _W3DTF.match(text):
        year, month_text, day, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
        month = int(month_text)
    else:
        return None
    if sign is not None:
        offset = 60 * int(zone_hours) + int(zone_minutes)
        if sign == "-":
            offset = -offset
    try:
        stamp = datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        return stamp - _MINUTE * offset if offset else stamp  # cheaper than building a timedelta
    except (ValueError, OverflowError):
        return None


@functools.lru_cache(maxsize=16_384)
def _item_date(text: str) -> datetime | None:
    """feedparser's date for an item's date text, as a UTC datetime. Cached: a feed repeats most
    of its items, dates included, poll after poll, and a datetime cannot be changed."""
    return _common_date(text) or _struct_to_utc(_parse_date(text))


def _entry_html(entry: Any) -> str:
    summary = str(entry.get("summary") or "")
    contents = entry.get("content") or []
    best = max((str(c.get("value") or "") for c in contents), key=len, default="")
    return best if len(best) > len(summary) else summary


def _entry_author(entry: Any) -> str | None:
    detail = entry.get("author_detail") or {}
    name = detail.get("name") or entry.get("author")
    if not name:
        return None
    text = " ".join(str(name).split())
    return text[:200] or None


def _ttl(feed: Any) -> float | None:
    found: list[float] = []
    try:
        ttl = float(str(feed.get("ttl", "")).strip())
        if 0 < ttl < 525_600:  # a year of minutes: anything larger is noise
            found.append(ttl * 60)
    except ValueError:
        pass
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period:
        try:
            frequency = max(1.0, float(str(feed.get("sy_updatefrequency", "1")).strip() or 1))
        except ValueError:
            frequency = 1.0
        found.append(period / frequency)
    return max(found) if found else None


def _parse_xml_feed(
    body: bytes, *, url: str, content_type: str | None, known: AbstractSet[str] = frozenset()
) -> ParsedFeed:
    # Plain well-formed UTF-8 feeds take the expat path (same result, a tenth of the time);
    # everything else, feedparser.
    fixed = _honest_content_type(body, content_type)
    fast = parse_fast(body, url=url, content_type=fixed, known=known)
    if fast is not None:
        return _from_fast(fast, url)
    return _parse_with_feedparser(body, url=url, content_type=content_type)


def _from_fast(fast: FastFeed, url: str) -> ParsedFeed:
    items: list[ParsedItem] = []
    for entry in fast.items:
        if entry.known:
            items.append(
                ParsedItem(
                    guid=entry.guid,
                    link=None,
                    title="",
                    html="",
                    published=_item_date(entry.published) if entry.published else None,
                    updated=_item_date(entry.updated) if entry.updated else None,
                    known=True,
                )
            )
            continue
        author = " ".join(entry.author.split())[:200] if entry.author else None
        item = ParsedItem(
            guid=_text(entry.guid),
            link=_text(entry.link),
            title=entry.title,
            html=entry.html,
            author=author or None,
            published=_item_date(entry.published) if entry.published else None,
            updated=_item_date(entry.updated) if entry.updated else None,
        )
        if item.title.strip() or item.html.strip() or item.link:
            items.append(item)
    meta = {"ttl": fast.ttl or "", "sy_updateperiod": fast.update_period or ""}
    if fast.update_frequency is not None:
        meta["sy_updatefrequency"] = fast.update_frequency
    return ParsedFeed(
        url=url,
        title=_text(fast.title),
        link=_text(fast.link),
        ttl_s=_ttl(meta),
        items=tuple(items),
        format=fast.version,
    )


def _parse_with_feedparser(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    headers = {"content-location": url}
    fixed = _honest_content_type(body, content_type)
    if fixed:
        headers["content-type"] = fixed
    try:
        # No sanitizing or URI rewriting inside content: it becomes plain text (bot.core.text)
        # and is never rendered as HTML, so that work would be thrown away.
        parsed = feedparser.parse(
            io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser's loose parser has crashed on odd input before
        raise FeedError(f"{url}: not a feed: the parser failed ({type(exc).__name__}: {exc})") from None
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    if not version and not entries:
        if _looks_like_html(body, content_type):
            raise FeedError(f"{url}: not a feed: got an HTML page", permanent=True)
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise FeedError(
            f"{url}: not a feed: no RSS, Atom or JSON Feed document found{detail}", permanent=True
        )
    meta = parsed.get("feed") or {}
    items: list[ParsedItem] = []
    for entry in entries:
        item = ParsedItem(
            guid=_text(entry.get("id")),
            link=_text(entry.get("link")),
            title=str(entry.get("title") or ""),
            html=_entry_html(entry),
            author=_entry_author(entry),
            # dict.get: FeedParserDict.get maps a missing date onto the other one, with a warning
            published=_struct_to_utc(dict.get(entry, "published_parsed")),
            updated=_struct_to_utc(dict.get(entry, "updated_parsed")),
        )
        if item.title.strip() or item.html.strip() or item.link:
            items.append(item)
    return ParsedFeed(
        url=url,
        title=_text(meta.get("title")),
        link=_text(meta.get("link")),
        ttl_s=_ttl(meta),
        items=tuple(items),
        format=version,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


# -- JSON Feed ------------------------------------------------------------------------------------


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    # The body decides: servers label XML feeds as JSON (and the reverse) often enough.
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return True
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    is_json_type = mime in ("application/feed+json", "application/json") or mime.endswith("+json")
    return is_json_type and head != b"<"


def _json_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_date(value)  # RFC 822 and the other forms feeds use
        return _struct_to_utc(parsed) if isinstance(parsed, time.struct_time) else None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _json_author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    names: list[str] = []
    if isinstance(authors, list):
        names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
    elif isinstance(obj.get("author"), dict) and obj["author"].get("name"):
        names = [str(obj["author"]["name"])]
    text = ", ".join(" ".join(n.split()) for n in names)
    return text[:200] or None


def _parse_json_feed(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FeedError(f"{url}: not a feed: JSON that is not UTF-8", permanent=True) from None
    except json.JSONDecodeError as exc:
        if _looks_like_html(body, content_type):
            raise FeedError(f"{url}: not a feed: got an HTML page", permanent=True) from None
        if not (content_type and "json" in content_type.lower()):
            return _parse_xml_feed(body, url=url, content_type=content_type)  # a "{" that was not JSON
        raise FeedError(
            f"{url}: not a feed: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})",
            permanent=True,
        ) from None
    except RecursionError:
        raise FeedError(f"{url}: not a feed: JSON nested too deeply", permanent=True) from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_PREFIX):
        raise FeedError(f"{url}: not a feed: JSON without a JSON Feed version", permanent=True)
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        raise FeedError(f"{url}: not a feed: JSON Feed without an items list", permanent=True)
    home = doc.get("home_page_url") if isinstance(doc.get("home_page_url"), str) else None
    items: list[ParsedItem] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            continue
        link = raw.get("url") or raw.get("external_url")
        html = raw.get("content_html") or raw.get("content_text") or raw.get("summary") or ""
        item = ParsedItem(
            guid=_text(raw.get("id")),
            link=_text(link) if isinstance(link, str) else None,
            title=str(raw.get("title") or ""),
            html=str(html),
            author=_json_author(raw) or _json_author(doc),
            published=_json_date(raw.get("date_published")),
            updated=_json_date(raw.get("date_modified")),
        )
        if item.title.strip() or item.html.strip() or item.link:
            items.append(item)
    title = doc.get("title")
    return ParsedFeed(
        url=url,
        title=_text(title) if isinstance(title, str) else None,
        link=_text(home),
        ttl_s=None,
        items=tuple(items),
        format="json" + version.removeprefix(JSON_FEED_PREFIX),
    )
