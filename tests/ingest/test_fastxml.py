"""The expat fast path against feedparser, the reference: wherever the fast path takes a document,
the ParsedFeed (and so every article id, link, title, text and date) must be the one feedparser
gives. Documents come from three places: feeds we wrote (demo and bench feeds), feedparser's own
test corpus (when ../shared is present), and a seeded generator that mixes the elements real
feeds use in random orders and encodings."""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from bench.poll import feed_body
from bot.errors import FeedError
from bot.ingest import parse
from bot.ingest.fastxml import parse_fast

from .test_feedparser_corpus import CORPUS, describe

REPO = Path(__file__).resolve().parents[2]
URL = "https://outlet.example/feeds/news.xml"


def both(body: bytes, content_type: str | None) -> tuple[parse.ParsedFeed, parse.ParsedFeed] | None:
    """(fast path result, feedparser's result) for one document; None when the fast path
    leaves it to feedparser."""
    fixed = parse._honest_content_type(body, content_type)
    fast = parse_fast(body, url=URL, content_type=fixed)
    if fast is None:
        return None
    reference = parse._parse_with_feedparser(body, url=URL, content_type=content_type)
    return parse._from_fast(fast, URL), reference


def assert_same(fast: parse.ParsedFeed, reference: parse.ParsedFeed, label: str) -> None:
    assert (fast.title, fast.link, fast.ttl_s, fast.format) == (
        reference.title,
        reference.link,
        reference.ttl_s,
        reference.format,
    ), label
    assert len(fast.items) == len(reference.items), label
    for mine, theirs in zip(fast.items, reference.items, strict=True):
        assert mine == theirs, label
        assert parse.to_article(mine, fast) == parse.to_article(theirs, reference), label


# -- feeds we wrote ---------------------------------------------------------------------------------


def test_demo_and_bench_feeds_take_the_fast_path_with_feedparsers_result() -> None:
    documents = [(p.name, p.read_bytes()) for p in sorted((REPO / "bot" / "data" / "demo").glob("*.xml"))]
    documents += [(f"bench {i}", feed_body(i, 2)) for i in range(5)]
    assert len(documents) >= 6
    for label, body in documents:
        pair = both(body, "application/rss+xml; charset=utf-8")
        assert pair is not None, f"{label} fell back to feedparser"
        fast, reference = pair
        assert reference.items, label
        assert_same(fast, reference, label)


def test_parse_feed_uses_the_fast_path_result() -> None:
    body = feed_body(3, 1)
    feed = parse.parse_feed(body, url=URL, content_type="application/rss+xml")
    fast = parse_fast(body, url=URL, content_type="application/rss+xml")
    assert fast is not None
    assert feed == parse._from_fast(fast, URL)
    assert len(feed.items) == 10


# -- documents the fast path must leave to feedparser ---------------------------------------------

_ITEM = "<item><title>T</title><link>https://a.example/1</link><description>D</description></item>"


@pytest.mark.parametrize(
    ("body", "content_type", "why"),
    [
        (
            b"<rss version='2.0'><channel><title>x</title>" + _ITEM.encode() + b"</channel>",
            None,
            "not well-formed",
        ),
        (
            "<?xml version='1.0' encoding='windows-1252'?><rss version='2.0'><channel>"
            "<title>caf\u00e9</title></channel></rss>".encode("cp1252"),
            "application/xml",
            "another encoding",
        ),
        (
            b"<rss version='2.0'><channel><title>x</title></channel></rss>",
            "text/xml; charset=iso-8859-2",
            "declared charset",
        ),
        (b"<!DOCTYPE rss><rss version='2.0'><channel></channel></rss>", None, "doctype"),
        (
            b"<rss version='2.0' xml:base='https://b.example/'><channel>"
            + _ITEM.encode()
            + b"</channel></rss>",
            None,
            "xml:base",
        ),
        (
            b"<rss version='2.0'><channel><item><title>T</title><description><p>inline</p>"
            b"</description></item></channel></rss>",
            None,
            "markup inside a text element",
        ),
        (
            b"<rss version='2.0'><channel><item><title>A</title><title>B</title></item></channel></rss>",
            None,
            "two titles",
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>T</title><content type='xhtml'>"
            b"<div xmlns='http://www.w3.org/1999/xhtml'>x</div></content></entry></feed>",
            None,
            "xhtml content",
        ),
        (b"<feed xmlns='http://purl.org/atom/ns#' version='0.3'><title>x</title></feed>", None, "Atom 0.3"),
        (
            b"<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content'><channel><item>"
            b"<title>T</title><content:encoded>x</content:encoded></item></channel></rss>",
            None,
            "a known prefix bound to an unknown namespace",
        ),
        (b"<html><body><p>not a feed</p></body></html>", "text/html", "not a feed"),
    ],
)
def test_left_to_feedparser(body: bytes, content_type: str | None, why: str) -> None:
    assert parse_fast(body, url=URL, content_type=content_type) is None, why


def test_a_document_the_fast_path_refuses_still_parses() -> None:
    body = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>x</title>"
        b"<item><title>Fab &nbsp; update</title><link>https://a.example/1</link></item></channel></rss>"
    )
    assert parse_fast(body, url=URL, content_type="application/rss+xml") is None  # undefined entity
    feed = parse.parse_feed(body, url=URL, content_type="application/rss+xml")
    assert [i.link for i in feed.items] == ["https://a.example/1"]


# -- feedparser's own test corpus ----------------------------------------------------------------


@pytest.mark.skipif(CORPUS is None, reason="the feedparser test corpus (../shared) is absent")
def test_feedparser_corpus_documents_agree() -> None:
    assert CORPUS is not None
    taken = 0
    for path in sorted(CORPUS.rglob("*.xml")):
        body = path.read_bytes()
        served = describe(body, path, "http://127.0.0.1:1")
        content_type = next((v for k, v in served.headers.items() if k.lower() == "content-type"), None)
        try:
            parse._refuse_entity_expansion(body, URL)
        except FeedError:
            continue
        pair = both(body, content_type)
        if pair is None:
            continue
        taken += 1
        assert_same(*pair, str(path.relative_to(CORPUS)))
    assert taken >= 500  # the path must cover most well-formed documents, not a handful


# -- generated documents --------------------------------------------------------------------------

_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
    "atom": "http://www.w3.org/2005/Atom",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "x": "https://unknown.example/ns",
}
_WORDS = [
    "Foundry",
    "adds",
    "2 nm",
    "capacity",
    "AT&T",
    "<b>bold</b>",
    "caf\u00e9",
    "\u00c3\u00a9",  # UTF-8 read as Latin-1: feedparser re-decodes it
    "\u0080",  # a C1 control: feedparser maps it to the euro sign
    "\u6570\u636e\u4e2d\u5fc3",
    "GPU\u2019s",
    "  spaced  ",
    "&amp;",
    "]]>",
]
_DATES = [
    "Sat, 21 Nov 2026 09:30:00 +0100",
    "2026-11-21T09:30:00Z",
    "21 Nov 2026",
    "not a date",
    "",
]
_LINKS = [
    "https://outlet.example/a?utm_source=rss&b=1",
    "/relative/path",
    "relative",
    "",
    "https://outlet.example/\u00e9t\u00e9",
    "javascript:alert(1)",
    "https://outlet.example/q?a=1&amp;b=2",  # escaped twice, as many feeds do
    "https://outlet.example/q?a=1&b;=2",
]


def _text(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(0, 5))
    return " ".join(words)


def _element(rng: random.Random, tag: str, value: str, attrs: str = "") -> str:
    if rng.random() < 0.3 and "]]>" not in value:
        return f"<{tag}{attrs}><![CDATA[{value}]]></{tag}>"
    return f"<{tag}{attrs}>{escape(value)}</{tag}>"


def _rss_item(rng: random.Random) -> str:
    parts: list[str] = []
    choices = [
        lambda: _element(rng, "title", _text(rng)),
        lambda: _element(rng, rng.choice(["title", "dc:title", "media:title"]), _text(rng)),
        lambda: _element(rng, "link", rng.choice(_LINKS)),
        lambda: _element(
            rng,
            "guid",
            rng.choice([*_LINKS, "item-42", "urn:uuid:1234"]),
            rng.choice(["", ' isPermaLink="false"', ' isPermaLink="true"']),
        ),
        lambda: _element(
            rng, rng.choice(["description", "content:encoded", "dc:description"]), _text(rng) * 3
        ),
        lambda: _element(
            rng,
            rng.choice(["author", "dc:creator"]),
            rng.choice(["Ana Ruiz", "ana@x.example (Ana Ruiz)", "ana@x.example", "Ana <ana@x.example>", ""]),
        ),
        lambda: _element(rng, rng.choice(["pubDate", "dc:date", "pubdate"]), rng.choice(_DATES)),
        lambda: _element(rng, "category", _text(rng)),
        lambda: _element(rng, "comments", rng.choice(_LINKS)),
        lambda: f'<enclosure url={quoteattr(rng.choice(_LINKS))} type="audio/mpeg" length="1"/>',
        lambda: (
            f"<atom:link href={quoteattr(rng.choice(_LINKS))}"
            + rng.choice(["", ' rel="alternate"', ' rel="self"', ' rel="enclosure"', ' type="text/html"'])
            + "/>"
        ),
        lambda: _element(rng, "slash:comments", "3"),
        lambda: _element(rng, "x:extra", _text(rng)),
        lambda: (
            '<media:content url="https://cdn.example/a.jpg"><media:credit>x</media:credit></media:content>'
        ),
        lambda: _element(rng, "source", "Wire", ' url="https://wire.example/rss"'),
        lambda: "<category>c<image><title>nested</title><link>https://img.example/</link></image></category>",
        lambda: "<x:wrap><guid>nested-guid</guid></x:wrap>",
    ]
    for _ in range(rng.randint(0, 9)):
        parts.append(rng.choice(choices)())
    return "<item>" + "".join(parts) + "</item>"


def _rss(rng: random.Random) -> str:
    declarations = " ".join(f'xmlns:{p}="{u}"' for p, u in _NAMESPACES.items())
    head = [
        _element(rng, "title", _text(rng)),
        _element(rng, "link", rng.choice(_LINKS)),
        _element(rng, "ttl", rng.choice(["60", "0", "abc", "100000000"])),
        _element(rng, "sy:updatePeriod", rng.choice(["hourly", "daily", "never"])),
        _element(rng, "sy:updateFrequency", rng.choice(["2", "x", ""])),
        '<atom:link href="https://outlet.example/feeds/news.xml" rel="self" type="application/rss+xml"/>',
    ]
    head = rng.sample(head, k=rng.randint(0, len(head)))
    items = "".join(_rss_item(rng) for _ in range(rng.randint(0, 4)))
    version = rng.choice(["2.0", "0.92", "2.01", ""])
    return f'<rss version="{version}" {declarations}><channel>{"".join(head)}{items}</channel></rss>'


def _atom_entry(rng: random.Random) -> str:
    choices = [
        lambda: _element(rng, "title", _text(rng), rng.choice(["", ' type="html"', ' type="text"'])),
        lambda: _element(rng, "id", rng.choice([*_LINKS, "tag:outlet.example,2026:1", "urn:uuid:9"])),
        lambda: (
            f"<link href={quoteattr(rng.choice(_LINKS))}"
            + rng.choice(
                [
                    "",
                    ' rel="alternate"',
                    ' rel="self"',
                    ' rel="related"',
                    ' rel="alternate" type="text/html"',
                    ' type="application/pdf"',
                ]
            )
            + "/>"
        ),
        lambda: _element(
            rng,
            rng.choice(["summary", "content"]),
            _text(rng) * 2,
            rng.choice(["", ' type="html"', ' type="text"']),
        ),
        lambda: _element(rng, rng.choice(["published", "updated"]), rng.choice(_DATES)),
        lambda: (
            "<author>"
            + rng.choice(
                [
                    "<name>Li Wei</name>",
                    "<name>Li Wei</name><email>li@x.example</email>",
                    "<email>li@x.example</email>",
                    "<uri>https://x.example/li</uri>",
                    "",
                ]
            )
            + "</author>"
        ),
        lambda: '<category term="chips"/>',
    ]
    return "<entry>" + "".join(rng.choice(choices)() for _ in range(rng.randint(0, 8))) + "</entry>"


def _atom(rng: random.Random) -> str:
    head = [
        _element(rng, "title", _text(rng)),
        f"<link href={quoteattr(rng.choice(_LINKS))}/>",
        '<link rel="self" href="https://outlet.example/atom.xml"/>',
        _element(rng, "id", "tag:outlet.example,2026:feed"),
    ]
    head = rng.sample(head, k=rng.randint(0, len(head)))
    entries = "".join(_atom_entry(rng) for _ in range(rng.randint(0, 4)))
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{"".join(head)}{entries}</feed>'


def _rdf(rng: random.Random) -> str:
    items = "".join(
        f"<item rdf:about={quoteattr(rng.choice(_LINKS))}>"
        + _element(rng, "title", _text(rng))
        + _element(rng, "link", rng.choice(_LINKS))
        + _element(rng, rng.choice(["description", "dc:date"]), rng.choice([*_DATES, _text(rng)]))
        + "</item>"
        for _ in range(rng.randint(0, 3))
    )
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://outlet.example/">'
        + _element(rng, "title", _text(rng))
        + f"</channel>{items}</rdf:RDF>"
    )


@pytest.mark.parametrize("seed", range(8))
def test_generated_documents_agree(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for n in range(150):
        document = rng.choice([_rss, _rss, _atom, _rdf])(rng)
        declaration = rng.choice(["", '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>'])
        body = (declaration + document).encode("utf-8")
        if rng.random() < 0.1:
            body = b"\xef\xbb\xbf" + body
        content_type = rng.choice(
            [
                None,
                "",
                "application/rss+xml",
                "application/xml; charset=UTF-8",
                "text/xml",
                "text/xml; charset=utf-8",
                "application/octet-stream",
            ]
        )
        pair = both(body, content_type)
        if pair is None:
            continue
        taken += 1
        assert_same(*pair, f"seed {seed} document {n}: {content_type}\n{body.decode('utf-8', 'replace')}")
    assert taken >= 40


@pytest.mark.parametrize(
    "uri",
    [
        "https://outlet.example/a/b?x=1&y=2#top",
        "http://outlet.example",
        "https://outlet.example/a?",
        "https://outlet.example/a#",
        "https://outlet.example/a?#f",
        "https://outlet.example/a;params",
        "https://outlet.example/a;",
        "HTTPS://outlet.example/a",
        "https:///outlet.example/a",
        "https://[::1]/a",
        "https://outlet.example/a b",
        "https://outlet.example/\u00e9",
        "https://outlet.example/a\\b",
        "https://user:pw@outlet.example:8443/a/../b",
        "http://other.example/x",
        "ftp://files.example/x",
        "/relative",
        "relative?q",
        "//cdn.example/x",
        "https://?q",
        "tag:outlet.example,2026:1",
        "urn:uuid:9",
        "URN:x",
        "mailto:desk@outlet.example",
        "javascript:alert(1)",
        "svn+ssh:x",  # a scheme urljoin resolves
        "https:relative",
        "tag://outlet.example/x",
        "tag:/\t/[::1",
        "tag:a\nb",
        "x,y:z",
        "1tag:x",
    ],
)
def test_resolve_matches_feedparsers_urljoin(uri: str) -> None:
    from feedparser.urls import _urljoin

    from bot.ingest.fastxml import _Walker

    assert _Walker(b"", URL).resolve(uri) == _urljoin(URL, uri)


def test_the_xml_declarations_encoding_is_read_as_feedparsers_pattern_reads_it() -> None:
    from feedparser.encodings import RE_XML_PI_ENCODING

    from bot.ingest.fastxml import _xml_encoding

    pieces = [b"<?xml ", b"?>", b"encoding=", b"'", b'"', b"\n", b"utf-8", b"<rss>", b"?", b">"]
    rng = random.Random(0)
    for _ in range(20_000):
        data = b"<?" + b"".join(rng.choices(pieces, k=rng.randint(0, 12)))
        match = RE_XML_PI_ENCODING.match(data)
        assert _xml_encoding(data) == (match.group(1).decode().lower() if match else ""), data
