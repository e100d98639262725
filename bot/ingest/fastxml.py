"""A fast path for plain, well-formed RSS 2.0, RSS 1.0 and Atom 1.0 documents.

feedparser is the reference parser: it copes with every malformed feed on the web, at the price
of pure-Python SAX handlers (~4 ms for a ten-item feed). Most feeds are well-formed UTF-8 that
use a handful of standard elements; for those, expat (C, through ElementTree) and a walk over
the elements we read give the same ParsedFeed in a fraction of the time.

"The same" is the contract, because article ids come from what the parser returns: a feed that
switched parsers must not produce duplicates. Every rule below mirrors what feedparser does with
the elements we read (which element wins, how guids and links are resolved, its text fix-ups),
and a document that needs anything else returns None and goes to feedparser: another encoding,
a DOCTYPE, xml:base, markup inside a text element, nested titles, a second title or summary, an
Atom 0.3 or XHTML construct. tests/ingest/test_fastxml.py holds the two to each other over every
feed the project has and over feedparser's own test documents.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any
from urllib.parse import uses_relative

from feedparser.encodings import (
    EBCDIC_MARKER,
    RE_XML_PI_ENCODING,
    UTF16BE_MARKER,
    UTF16LE_MARKER,
    UTF32BE_MARKER,
    UTF32LE_MARKER,
    lazy_chardet_encoding,
    parse_content_type,
)
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin

# feedparser's own table: namespace URI (lower case) -> the prefix its handlers are named after
_PREFIXES: dict[str, str] = {
    uri.lower(): prefix.lower() for uri, prefix in _FeedParserMixin.namespaces.items()
}
_KNOWN_PREFIXES = frozenset(p for p in _PREFIXES.values() if p)
_ATOM10 = "http://www.w3.org/2005/atom"
_RSS10 = "http://purl.org/rss/1.0/"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}

# What feedparser maps onto the fields we read (its handler names, prefix:local)
_TITLES = frozenset({"title", "dc:title"})
_SUMMARIES = frozenset(
    {"description", "summary", "abstract", "dc:description", "itunes:summary", "media:description"}
)
_CONTENTS = frozenset({"content", "content:encoded"})
_AUTHORS = frozenset({"author", "dc:author", "dc:creator", "itunes:author", "managingeditor"})
_PUBLISHED = frozenset({"pubdate", "published", "issued", "dcterms:issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified"})
_IDS = frozenset({"guid", "id"})
_ENTRIES = frozenset({"item", "entry"})  # feedparser takes either in any format
# Elements that may turn up nested inside another and then change an entry through feedparser's
# context rules: an item holding any of these below its top level goes to feedparser.
_FIELDS = (
    _TITLES
    | _SUMMARIES
    | _CONTENTS
    | _AUTHORS
    | _PUBLISHED
    | _UPDATED
    | _IDS
    | {"media:title", "link", "item", "entry", "body", "xhtml:body", "fullitem", "source", "name", "email"}
)
# Entry element -> what it is to feedparser. "refused": inline XHTML bodies, which it serialises.
_KINDS: dict[str, str] = {
    **dict.fromkeys(_TITLES, "title"),
    "media:title": "media",
    **dict.fromkeys(_SUMMARIES, "summary"),
    "description": "html-summary",
    "content": "content",
    "content:encoded": "html-content",
    **dict.fromkeys(_AUTHORS, "author"),
    **dict.fromkeys(_PUBLISHED, "published"),
    **dict.fromkeys(_UPDATED, "updated"),
    **dict.fromkeys(_IDS, "id"),
    "link": "link",
    **dict.fromkeys(("body", "xhtml:body", "fullitem"), "refused"),
}
_ONCE = {  # kinds an entry may hold once, by group
    "title": "title",
    "media": "media",
    "summary": "summary",
    "html-summary": "summary",
    "content": "content",
    "html-content": "content",
    "author": "author",
}
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})
# What feedparser takes for a byte-order mark or the start of a document in another encoding.
_OTHER_ENCODING_STARTS = (
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF16_LE,
    EBCDIC_MARKER,
    UTF16BE_MARKER,
    UTF16LE_MARKER,
    UTF32BE_MARKER,
    UTF32LE_MARKER,
)
_ASCII_SUPERSETS = frozenset(
    {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252", "iso-8859-15"}
)
_XMLNS = re.compile(rb"""xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# feedparser's parse of an author string such as "ed@example.com (Ed Doe)"
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
_ENTITY_LIKE = re.compile(r"&([A-Za-z0-9_]+);")
# An absolute http(s) URL that urllib's split and unsplit reproduce exactly: lower-case scheme,
# a host right after the slashes, printable ASCII without ";" (params), brackets or backslashes.
_PLAIN_URL = re.compile(r"https?://(?![/?#])[!-:<-Z^-~]+\Z")
# A URI with a scheme as urllib reads one (tag:, urn:, mailto:), without what urlsplit would
# remove or read as a host: urljoin gives it back as is unless the scheme is one it resolves.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!//)[^\t\n\r]*\Z")
_BASE = re.compile(rb"base\s*=")  # xml:base (or feedparser's bare "base") moves the base URI

# C1 controls, the only characters feedparser's Windows-1252 table changes
_C1 = re.compile("[\x80-\x9f]")


class _Unsupported(Exception):
    """The document needs something this path does not model: feedparser takes it."""


@dataclass(frozen=True, slots=True)
class FastItem:
    guid: str | None
    link: str | None
    title: str
    html: str
    author: str | None
    published: str | None  # the text: parse.py reads dates as feedparser does
    updated: str | None
    known: bool = False  # only guid and dates were read: the caller has this item already


@dataclass(frozen=True, slots=True)
class FastFeed:
    title: str | None
    link: str | None
    ttl: str | None
    update_period: str | None
    update_frequency: str | None
    version: str
    items: tuple[FastItem, ...]


def parse_fast(
    body: bytes, *, url: str, content_type: str | None, known: AbstractSet[str] = frozenset()
) -> FastFeed | None:
    """The feed as feedparser would read it, or None when the document is outside this path.

    Entries whose guid (whitespace runs made single spaces) is in `known` are read no further
    than their guid and dates: a feed that changed usually repeats items its poller has."""
    if b"<!DOCTYPE" in body or b"<!doctype" in body or _BASE.search(body):
        return None
    if not _decodes_as_utf8(body, content_type):
        return None
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, ValueError, LookupError):
        return None  # not well-formed: feedparser's loose parser decides what it is
    try:
        return _Walker(body, url).feed(root, known)
    except _Unsupported:
        return None


def _decodes_as_utf8(body: bytes, content_type: str | None) -> bool:
    """Whether feedparser's encoding rules (RFC 3023, then its fallbacks) read `body` as text
    equal to its UTF-8 decoding. Mirrors feedparser.encodings.convert_to_utf8 for the cases that
    answer yes; anything else (a BOM other than UTF-8's, another declared charset on non-ASCII
    bytes) answers no."""
    data = body[3:] if body[:3] == codecs.BOM_UTF8 else body
    if data.startswith(_OTHER_ENCODING_STARTS):  # UTF-32 BOMs start like UTF-16's
        return False
    xml_encoding = _xml_encoding(data)
    mime, http_encoding = parse_content_type(content_type or "")
    if not content_type:  # parse.py then passes feedparser no Content-Type header at all
        declared = xml_encoding or "iso-8859-1"
    elif mime in ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity") or (
        mime.startswith("application/") and mime.endswith("+xml")
    ):
        declared = http_encoding or xml_encoding or "utf-8"
    elif mime.startswith("text/"):
        declared = http_encoding or "us-ascii"
    else:
        declared = xml_encoding or "utf-8"
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    # The first candidate that decodes wins in feedparser: the declared one, then the XML
    # declaration's, then chardet's guess when chardet is installed, then UTF-8.
    for candidate in (declared.lower(), xml_encoding):
        if not candidate:
            continue
        if candidate in _UTF8:
            return True
        if data.isascii() and candidate in _ASCII_SUPERSETS:
            return True
        try:
            data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        return False  # another codec reads these bytes: feedparser will use it
    return lazy_chardet_encoding is None


def _xml_encoding(data: bytes) -> str:
    """The encoding the XML declaration names, as feedparser reads it; "" for none."""
    # feedparser's pattern matches within the first line and ends at a "?>": cut after the line's
    # last one, it matches the same, without backtracking over the rest of a one-line document.
    line_end = data.find(b"\n")
    pi_end = data.rfind(b"?>", 0, len(data) if line_end < 0 else line_end) + 2
    match = RE_XML_PI_ENCODING.match(data[:pi_end]) if pi_end > 1 else None
    return match.group(1).decode("utf-8", "replace").lower() if match else ""


def _fix(text: str) -> str:
    """feedparser's last touches on every text it keeps: UTF-8 that was read as Latin-1 is
    re-decoded, and C1 control characters become the Windows-1252 characters they stand for."""
    if text.isascii():
        return text  # both are no-ops on ASCII
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    # translate() looks every character up in the table: only worth it when one would change
    return text.translate(_cp1252) if _C1.search(text) else text


def _attrs(element: ET.Element) -> dict[str, str]:
    """feedparser's view of the attributes: names in lower case, rel and type values too."""
    if not element.attrib:
        return {}
    out: dict[str, str] = {}
    for key, value in element.attrib.items():
        name = key.lower()
        out[name] = value.lower() if name in ("rel", "type") else value
    return out


_content_type = _FeedParserMixin.map_content_type  # "html" -> "text/html", "xhtml" -> ..., lower case


class _Walker:
    def __init__(self, body: bytes, url: str) -> None:
        self._body = body
        self._base = url
        self._names: dict[str, str | None] = {}
        self._declared: dict[str, set[str]] | None = None

    # -- names --------------------------------------------------------------------------------

    def name(self, tag: Any) -> str | None:
        """feedparser's name for an element ("title", "dc:creator"); None for an element in a
        namespace it does not know (it keeps those under their own keys, which we never read)."""
        if not isinstance(tag, str):
            return None  # a comment or processing instruction
        try:
            return self._names[tag]
        except KeyError:
            pass
        if tag[0] != "{":
            name: str | None = tag.lower()
        else:
            uri, local = tag[1:].split("}", 1)
            lower = uri.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            prefix = _PREFIXES.get(lower)
            if prefix is None:
                prefix = self._unknown_namespace(uri)
            name = None if prefix is None else f"{prefix}:{local.lower()}" if prefix else local.lower()
        self._names[tag] = name
        return name

    def _unknown_namespace(self, uri: str) -> str | None:
        # feedparser names such an element after the prefix the document declared for it: as a
        # plain element under a default namespace, as "prefix:local" otherwise, and that name
        # reaches one of its handlers when the prefix happens to be one it knows.
        if self._declared is None:
            self._declared = {}
            for match in _XMLNS.finditer(self._body):
                value = match.group(2) if match.group(2) is not None else match.group(3) or b""
                prefix = (match.group(1) or b"").decode("ascii", "replace").lower()
                self._declared.setdefault(value.decode("utf-8", "replace"), set()).add(prefix)
        prefixes = self._declared.get(uri, set())
        if prefixes == {""}:
            return ""
        if "" in prefixes or prefixes & _KNOWN_PREFIXES or not prefixes:
            raise _Unsupported(f"namespace {uri}")
        return None

    # -- values --------------------------------------------------------------------------------

    def text(self, element: ET.Element, *, resolve: bool = False) -> str:
        """What feedparser keeps of a text element: stripped, resolved against the document's
        URL when it is a link, then its fix-ups."""
        if len(element):
            raise _Unsupported("markup inside a text element")
        value = (element.text or "").strip()
        if resolve and value:
            value = self.resolve(value)
        return _fix(value)

    def resolve(self, uri: str) -> str:
        if _PLAIN_URL.match(uri) and not uri.endswith(("?", "#")) and "?#" not in uri:
            return uri  # absolute already, and urljoin's parse and unparse would give it back as is
        scheme = _SCHEME.match(uri)
        if scheme and scheme.group(1).lower() not in uses_relative:
            return uri  # an Atom id such as tag:outlet.example,2026:1
        return str(_urljoin(self._base, uri))

    def guid(self, element: ET.Element) -> tuple[str, bool]:
        """A guid or id, and whether it is a permalink: it is unless it says otherwise (an Atom id
        always is), and then feedparser resolves it and uses it as the link while no link element
        came first."""
        permalink = not element.attrib or _attrs(element).get("ispermalink", "true") == "true"
        return self.text(element, resolve=permalink), permalink

    def link(self, element: ET.Element, *, in_entry: bool) -> str | None:
        """The link a link element sets (possibly empty); None when it sets none: an Atom link
        to something other than the page itself."""
        attrs = _attrs(element)
        href = _href(attrs)
        if href is not None:
            return self.resolve(href) if _is_alternate(attrs) else None
        value = self.text(element, resolve=True)
        if in_entry:
            value = value.replace("&amp;", "&")  # feedparser undoes double escaping in entries only
        return _ENTITY_LIKE.sub(r"&\g<1>", value) if "&" in value else value

    # -- document -------------------------------------------------------------------------------

    def feed(self, root: ET.Element, known: AbstractSet[str] = frozenset()) -> FastFeed:
        root_name = self.name(root.tag)
        if root_name == "rss":
            version = _RSS_VERSIONS.get(root.get("version", ""), "")
            if not version:
                version = "rss20" if root.get("version", "").startswith("2.") else "rss"
            channels = [c for c in root if self.name(c.tag) == "channel"]
            if len(channels) != 1 or any(self.name(c.tag) in _ENTRIES for c in root):
                raise _Unsupported("rss layout")
            channel = channels[0]
            entries = [c for c in channel if self.name(c.tag) in _ENTRIES]
        elif root_name == "rdf:rdf":
            channels = [c for c in root if self.name(c.tag) == "channel"]
            if len(channels) != 1:
                raise _Unsupported("rdf layout")
            channel = channels[0]
            namespace = channel.tag[1:].split("}", 1)[0].lower() if channel.tag[0] == "{" else ""
            version = {_RSS10: "rss10", _RSS090: "rss090"}.get(namespace, "")
            if not version:
                raise _Unsupported("rdf without RSS 1.0")
            entries = [c for c in root if self.name(c.tag) in _ENTRIES]
            if any(self.name(c.tag) in _ENTRIES for c in channel):
                raise _Unsupported("rdf items inside the channel")
        elif root_name == "feed" and root.tag.lower() == "{" + _ATOM10 + "}feed":
            version, channel = "atom10", root
            entries = [c for c in root if self.name(c.tag) in _ENTRIES]
        else:
            raise _Unsupported("root element")
        if "href" in _attrs(channel) or "lastmod" in _attrs(channel):
            raise _Unsupported("CDF attributes")
        title, link, ttl, period, frequency = self._channel(channel)
        return FastFeed(
            title=title,
            link=link,
            ttl=ttl,
            update_period=period,
            update_frequency=frequency,
            version=version,
            items=tuple((known and self._known_entry(e, known)) or self._entry(e) for e in entries),
        )

    def _channel(self, channel: ET.Element) -> tuple[str | None, ...]:
        title: str | None = None
        titles = 0
        link: str | None = None
        ttl = period = frequency = None
        for child in channel:
            name = self.name(child.tag)
            if name is None:
                continue
            if name in _TITLES or name == "media:title":
                titles += 1
                self._check_text_type(child, "text/plain")
                title = self.text(child)
            elif name == "link":
                found = self.link(child, in_entry=False)
                link = link if found is None else found
            elif name in _IDS:
                value, permalink = self.guid(child)
                if permalink and link is None:
                    link = value
            elif name == "ttl":
                ttl = self.text(child)
            elif name == "sy:updateperiod":
                period = self.text(child)
            elif name == "sy:updatefrequency":
                frequency = self.text(child)
        if titles > 1:
            raise _Unsupported("several feed titles")
        return title, link, ttl, period, frequency

    def _check_text_type(self, element: ET.Element, default: str) -> None:
        """Only text and escaped HTML: feedparser decodes other types (base64) or serialises
        them (XHTML)."""
        if not element.attrib:
            return
        attrs = _attrs(element)
        if "mode" in attrs:
            raise _Unsupported("Atom 0.3 content mode")
        kind = _content_type(attrs.get("type", default))
        if kind not in _TEXT_TYPES:
            raise _Unsupported(f"content type {kind}")

    def _known_entry(self, entry: ET.Element, known: AbstractSet[str]) -> FastItem | None:
        """An entry whose guid is in `known`, with only its guid and dates read (as _entry reads
        them: the last id wins); None when the entry is not known and must be read in full."""
        guid: str | None = entry.get(_RDF_ABOUT) or None
        published = updated = None
        for child in entry:
            kind = _KINDS.get(self.name(child.tag))  # type: ignore[arg-type]
            if kind == "id":
                guid = self.guid(child)[0]
            elif kind == "published":
                published = self.text(child)
            elif kind == "updated":
                updated = self.text(child)
        if not guid:
            return None
        guid = " ".join(guid.split())  # as parse.py's _text gives it to the caller
        if guid not in known:
            return None
        return FastItem(guid, None, "", "", None, published, updated, known=True)

    def _entry(self, entry: ET.Element) -> FastItem:
        if entry.attrib:
            attrs = _attrs(entry)
            if "href" in attrs or "lastmod" in attrs:
                raise _Unsupported("CDF attributes")
        guid: str | None = entry.get(_RDF_ABOUT) or None
        link: str | None = None
        title: str | None = None
        summary: str | None = None
        content: str | None = None
        author: str | None = None
        published = updated = None
        seen: set[str] = set()  # one of each: with two, which one wins depends on order
        for child in entry:
            kind = _KINDS.get(self.name(child.tag))  # type: ignore[arg-type]
            if len(child) and kind != "author":
                self._check_nested(child)
            if kind is None:
                continue
            if kind in _ONCE:
                group = _ONCE[kind]
                if group in seen:
                    raise _Unsupported(f"an entry with two {group} elements")
                seen.add(group)
            if kind == "author":
                author = self._author(child)
            elif kind == "title" or kind == "media":
                self._check_text_type(child, "text/plain")
                title = self.text(child)
            elif kind == "summary" or kind == "html-summary":
                self._check_text_type(child, "text/html" if kind == "html-summary" else "text/plain")
                summary = self.text(child)
            elif kind == "content" or kind == "html-content":
                self._check_text_type(child, "text/html" if kind == "html-content" else "text/plain")
                content = self.text(child)
            elif kind == "id":
                guid, permalink = self.guid(child)
                if permalink and link is None:
                    link = guid
            elif kind == "link":
                found = self.link(child, in_entry=True)
                link = link if found is None else found
            elif kind == "published":
                published = self.text(child)
            elif kind == "updated":
                updated = self.text(child)
            else:
                raise _Unsupported(kind)
        if "media" in seen and "title" in seen:
            raise _Unsupported("media:title beside a title")  # which wins depends on order
        if summary is None:
            summary = content or ""  # feedparser copies text or HTML content into the summary
        body = content if content is not None and len(content) > len(summary) else summary
        return FastItem(
            guid=guid,
            link=link,
            title=title or "",
            html=body,
            author=author,
            published=published,
            updated=updated,
        )

    def _check_nested(self, element: ET.Element) -> None:
        for inner in element.iter():
            if inner is element:
                continue
            if self.name(inner.tag) in _FIELDS:
                raise _Unsupported("a nested entry field")

    def _author(self, element: ET.Element) -> str | None:
        if len(element):
            # An Atom person: feedparser keeps its name, else its email.
            name = email = None
            for part in element:
                part_name = self.name(part.tag)
                if part_name == "name":
                    name = self.text(part)
                elif part_name == "email":
                    email = self.text(part)
                elif part_name == "uri" or part_name is None:
                    if len(part):
                        raise _Unsupported("markup inside an author")
                else:
                    raise _Unsupported(f"{part_name} inside an author")
            if (element.text or "").strip():
                raise _Unsupported("text beside an author's name")
            return name or email or None
        value = self.text(element)
        if not value:
            return None
        # feedparser splits "email (Name)" and "Name <email>" and keeps the name; with no name
        # left it keeps the whole string.
        author = value
        found = _EMAIL.search(author)
        if found:
            author = author.replace(found.group(0), "").replace("()", "").replace("<>", "")
            author = author.replace("&lt;&gt;", "").strip()
            if author and author[0] == "(":
                author = author[1:]
            if author and author[-1] == ")":
                author = author[:-1]
            author = author.strip()
        return author or value


def _href(attrs: dict[str, str]) -> str | None:
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        return href
    return attrs.get("href")


def _is_alternate(attrs: dict[str, str]) -> bool:
    rel = attrs.get("rel", "alternate")
    kind = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html")
    return rel == "alternate" and _content_type(kind) in _HTML_TYPES
