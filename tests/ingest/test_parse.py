from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest
from feedparser.datetimes import _parse_date

from bot.errors import FeedError
from bot.ingest import parse
from bot.ingest.parse import (
    FeedDocument,
    ParsedFeed,
    article_id,
    item_key,
    parse_feed,
    parse_feed_async,
    parse_feeds_async,
    to_article,
)

FEED_URL = "https://chips.example/feed.xml"

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Fab Notes</title>
  <link>https://chips.example/</link>
  <ttl>120</ttl>
  <item>
    <title>Foundry adds a second 2 nm line</title>
    <link>https://chips.example/2026/11/second-line?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">fab-notes-1001</guid>
    <pubDate>Sat, 21 Nov 2026 09:30:00 +0100</pubDate>
    <dc:creator>Ana Ruiz</dc:creator>
    <description>&lt;p&gt;The foundry said the &lt;b&gt;new line&lt;/b&gt; starts volume output
      next spring.&lt;/p&gt;</description>
  </item>
  <item>
    <title>Packaging capacity stays tight</title>
    <link>/2026/11/packaging?fbclid=xyz</link>
    <description>Advanced packaging slots are booked through next year.</description>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Grid Ledger</title>
  <link href="https://grid.example/"/>
  <id>urn:grid-ledger</id>
  <updated>2026-11-21T10:00:00Z</updated>
  <entry>
    <title type="html">Utility signs &lt;em&gt;1.2 GW&lt;/em&gt; deal for a data center campus</title>
    <link rel="alternate" href="https://grid.example/posts/campus-deal#section-2"/>
    <id>tag:grid.example,2026:campus-deal</id>
    <updated>2026-11-21T08:15:00-05:00</updated>
    <author><name>Lee Park</name></author>
    <content type="html">&lt;p&gt;The utility will supply power from 2028.&lt;/p&gt;
      &lt;p&gt;Second paragraph.&lt;/p&gt;</content>
  </entry>
</feed>
"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Cloud Capacity Weekly",
    "home_page_url": "https://cloud.example/",
    "authors": [{"name": "Desk"}],
    "items": [
        {
            "id": "ccw-77",
            "url": "https://cloud.example/gpu-regions?utm_campaign=weekly",
            "title": "New GPU region opens",
            "content_html": "<p>The provider opened a region with <b>H200</b> instances.</p>",
            "date_published": "2026-11-20T14:00:00+02:00",
            "authors": [{"name": "Sam Ito"}],
        },
        {"id": "ccw-78", "content_text": "A short note without a title or date."},
        "not an object",
    ],
}


def test_rss() -> None:
    feed = parse_feed(RSS.encode(), url=FEED_URL, content_type="application/rss+xml; charset=utf-8")
    assert feed.title == "Fab Notes" and feed.link == "https://chips.example/"
    assert feed.ttl_s == 7200 and feed.format == "rss20"
    assert len(feed.items) == 2 and feed.entries == feed.items
    first = to_article(feed.items[0], feed, feed_id=3)
    assert first.title == "Foundry adds a second 2 nm line"
    assert first.url == "https://chips.example/2026/11/second-line"
    assert first.guid == "fab-notes-1001"
    assert first.published == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert first.published.tzinfo is not None
    assert first.author == "Ana Ruiz"
    assert "new line" in first.text and "<b>" not in first.text
    assert first.source == "Fab Notes" and first.feed_id == 3
    assert first.id == article_id(FEED_URL, "fab-notes-1001")
    assert first.content_hash
    second = to_article(feed.items[1], feed)
    assert second.url == "https://chips.example/2026/11/packaging"  # relative, resolved, tracking dropped
    assert second.guid == second.url  # no guid: the canonical URL stands in
    assert second.published is None
    # What item_key says is what to_article gives, and giving it the key changes nothing.
    for item in feed.items:
        key = item_key(item, FEED_URL)
        article = to_article(item, feed)
        assert (key.id, key.guid, key.url) == (article.id, article.guid, article.url)
        assert to_article(item, feed, key=key) == article


def test_atom() -> None:
    feed = parse_feed(ATOM.encode(), url="https://grid.example/atom", content_type="application/atom+xml")
    assert feed.title == "Grid Ledger" and feed.format == "atom10"
    article = to_article(feed.items[0], feed)
    assert article.title == "Utility signs 1.2 GW deal for a data center campus"
    assert article.url == "https://grid.example/posts/campus-deal"
    assert article.guid == "tag:grid.example,2026:campus-deal"
    assert article.published == datetime(2026, 11, 21, 13, 15, tzinfo=UTC)
    assert article.author == "Lee Park"
    assert "supply power from 2028" in article.text and "Second paragraph" in article.text


@pytest.mark.parametrize("content_type", ["application/feed+json", "application/json", None])
def test_json_feed(content_type: str | None) -> None:
    feed = parse_feed(
        json.dumps(JSON_FEED).encode(), url="https://cloud.example/feed.json", content_type=content_type
    )
    assert feed.title == "Cloud Capacity Weekly" and feed.format == "json1.1"
    assert len(feed.items) == 2
    first = to_article(feed.items[0], feed)
    assert first.url == "https://cloud.example/gpu-regions"
    assert first.guid == "ccw-77" and first.author == "Sam Ito"
    assert first.published == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert "H200" in first.text and "<b>" not in first.text
    second = to_article(feed.items[1], feed)
    assert second.title == "A short note without a title or date."  # from the text
    assert second.author == "Desk" and second.published is None


def test_articles_ids_are_stable_and_per_feed() -> None:
    feed = parse_feed(RSS.encode(), url=FEED_URL)
    again = parse_feed(RSS.encode(), url=FEED_URL)
    assert to_article(feed.items[0], feed).id == to_article(again.items[0], again).id
    other = parse_feed(RSS.encode(), url="https://mirror.example/feed.xml")
    assert to_article(other.items[0], other).id != to_article(feed.items[0], feed).id
    # The same story text under a rewritten guid keeps its content hash (dedup by content).
    assert to_article(other.items[0], other).content_hash == to_article(feed.items[0], feed).content_hash


def test_pipeline_style_call_with_overrides() -> None:
    feed = parse_feed(RSS.encode(), url=FEED_URL)
    article = to_article(feed.items[0], feed_id=9, source="Fab Notes (EU)", feed_url=FEED_URL)
    assert article.source == "Fab Notes (EU)" and article.feed_id == 9
    assert article.id == article_id(FEED_URL, "fab-notes-1001")


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><p>Hello</p></body></html>"
    for content_type in ("text/html; charset=utf-8", None, "application/rss+xml"):
        with pytest.raises(FeedError, match="not a feed: got an HTML page") as info:
            parse_feed(page, url=FEED_URL, content_type=content_type)
        assert info.value.permanent and FEED_URL in str(info.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"just some text", "no RSS, Atom or JSON Feed"),
        (b'{"hello": "world"}', "without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": 5}', "without an items list"),
        (b'{"version": "https://jsonfeed.org/version/1", ', "no RSS, Atom or JSON Feed"),
        (b"/etc/passwd", "no RSS, Atom or JSON Feed"),  # never opened as a path
    ],
)
def test_not_feeds(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as info:
        parse_feed(body, url=FEED_URL)
    assert info.value.permanent


def test_invalid_json_with_a_json_content_type() -> None:
    with pytest.raises(FeedError, match="invalid JSON at line 1"):
        parse_feed(b'{"version": ', url=FEED_URL, content_type="application/feed+json")


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>'
    ).encode()
    # Refused before any parser sees it: expanded, this title would be 10^9 copies of "lol".
    with pytest.raises(FeedError, match="entity expansion") as info:
        parse_feed(body, url=FEED_URL)
    assert info.value.permanent


def test_one_huge_entity_repeated_is_refused() -> None:
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY big "' + "A" * 100_000 + '">]>\n'
        '<rss version="2.0"><channel><title>' + "&big;" * 10_000 + "</title></channel></rss>"
    ).encode()
    with pytest.raises(FeedError, match="declares 1 entities"):
        parse_feed(body, url=FEED_URL)


def test_small_harmless_entities_still_parse() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY org "Example Foundry &amp; Co">]>\n'
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>&org; expands</title></item></channel></rss>"
    )
    feed = parse_feed(body, url=FEED_URL)
    assert len(feed.items) == 1


def test_external_entities_are_not_read() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>a &x; b</title></item></channel></rss>'
    )
    try:
        feed = parse_feed(body, url=FEED_URL)
    except FeedError:
        return
    with open("/etc/hostname", encoding="utf-8") as handle:
        hostname = handle.read().strip()
    assert all(hostname not in item.title for item in feed.items)


CAFE_RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Caf\u00e9 Silicon</title>'
    "<item><title>Caf\u00e9 owners fund a fab</title>"
    "<description>R\u00e9sum\u00e9 of the deal</description></item>"
    "</channel></rss>"
)


def test_utf8_body_labelled_latin1() -> None:
    feed = parse_feed(CAFE_RSS.encode("utf-8"), url=FEED_URL, content_type="text/xml; charset=iso-8859-1")
    article = to_article(feed.items[0], feed)
    assert feed.title == "Caf\u00e9 Silicon"
    assert article.title == "Caf\u00e9 owners fund a fab"
    assert "R\u00e9sum\u00e9" in article.text


def test_latin1_body_labelled_utf8() -> None:
    feed = parse_feed(
        CAFE_RSS.encode("latin-1"), url=FEED_URL, content_type="application/rss+xml; charset=utf-8"
    )
    article = to_article(feed.items[0], feed)
    assert article.title == "Caf\u00e9 owners fund a fab"
    assert "R\u00e9sum\u00e9" in article.text


def test_declared_latin1_that_really_is_latin1() -> None:
    body = CAFE_RSS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="iso-8859-1"?>').encode(
        "latin-1"
    )
    feed = parse_feed(body, url=FEED_URL, content_type="text/xml; charset=iso-8859-1")
    assert to_article(feed.items[0], feed).title == "Caf\u00e9 owners fund a fab"


async def test_parse_feed_async() -> None:
    feed = await parse_feed_async(RSS.encode(), url=FEED_URL)
    assert isinstance(feed, ParsedFeed) and len(feed.items) == 2


def test_items_without_anything_are_skipped() -> None:
    body = b'<rss version="2.0"><channel><title>t</title><item></item><item><title>kept</title></item>'
    body += b"</channel></rss>"
    feed = parse_feed(body, url=FEED_URL)
    assert [i.title for i in feed.items] == ["kept"]


def test_titles_are_cleaned_but_never_dropped() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>Subscribe</title><link>https://x.example/1</link></item>"
        b"<item><title>Chips &lt; 5 nm ramp at \xc3\x83\xc2\xa9 pace</title><link>https://x.example/2</link></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(body, url=FEED_URL, content_type="application/rss+xml; charset=utf-8")
    titles = [to_article(item, feed).title for item in feed.items]
    assert titles[0] == "Subscribe"
    assert titles[1] == "Chips < 5 nm ramp at \u00e9 pace"  # mojibake repaired, "<" kept


def test_the_body_decides_between_json_and_xml() -> None:
    feed = parse_feed(RSS.encode(), url=FEED_URL, content_type="application/json")
    assert feed.format == "rss20" and len(feed.items) == 2
    doc = json.dumps(JSON_FEED).encode()
    assert parse_feed(doc, url=FEED_URL, content_type="application/rss+xml").format == "json1.1"


async def test_parse_feeds_async_keeps_each_documents_outcome_in_place() -> None:
    docs = [
        FeedDocument(RSS.encode(), FEED_URL),
        FeedDocument(b"<html><body>not a feed</body></html>", "https://b.example/", "text/html"),
        FeedDocument(b"", "https://c.example/feed"),
        FeedDocument(RSS.encode(), "https://d.example/feed", "application/rss+xml"),
    ]
    first, html, empty, last = await parse_feeds_async(docs)
    assert isinstance(first, ParsedFeed) and first == parse_feed(RSS.encode(), url=FEED_URL)
    assert isinstance(html, FeedError) and "https://b.example/" in str(html)
    assert isinstance(empty, FeedError) and "empty" in str(empty)
    assert isinstance(last, ParsedFeed) and last.url == "https://d.example/feed"
    assert await parse_feeds_async([]) == []


def _date_texts() -> list[str]:
    rfc822 = itertools.product(
        ["Sat,", "sat,", "Saturday,", ""],
        ["21", "1", "32"],
        ["Nov", "nOV", "November"],
        ["2026", "26", "0001", "9999", "0000"],
        ["09:30:00", "09:30", "23:59:60", ""],
        ["GMT", "gmt", "UT", "UTC", "Z", "EST", "pdt", "CET", "A", "+0100", "-0530", "+01:00", "+9999",
         "-0000", "GMTA", "GMT+1", "Etc/GMT", ""],
    )  # fmt: skip
    w3dtf = itertools.product(
        ["2026", "0001", "9999", "26"],
        ["-11", "-13", "-02"],
        ["-21", "-29", "-31", ""],
        ["T", "t", " "],
        ["09:30:00", "09:30:00.123", "09:30:00.1234567890", "24:00:00", "09:30"],
        ["Z", "z", "+01:00", "-05:00", "+0100", "-99:99", " UTC", ""],
    )
    odd = [
        "",
        " ",
        "not a date",
        "Sat, 21 Nov 2026 09:30:00 GMT extra",
        "Sat,21 Nov 2026 09:30:00 GMT",
        "Sat, 21-Nov-2026 09:30:00 GMT",
        "Sat Nov 21 09:30:00 2026",
        "Sat, \u0662\u0661 Nov 2026 09:30:00 GMT",  # Arabic-Indic digits
        "Sat, 21 Nov 2026 09:30:00\u00a0GMT",
        "\u017fat, 21 Nov 2026 09:30:00 GMT",  # a long s, which folds to "s"
        "2026-11-21t09:30:59.99999999999999999z",  # a float that rounds to 60 seconds
        "2026-11-21T09:30:00\u0396",
        "20261121T093000Z",
        "2026-W47-6",
        "2026-325",
        "2026-11",
        "2026",
    ]
    return [" ".join(filter(None, p)) for p in rfc822] + ["".join(p) for p in w3dtf] + odd


def test_item_dates_are_read_as_feedparser_reads_them() -> None:
    # The shortcut for common forms must give feedparser's answer wherever it answers, and leave
    # every other text to it.
    taken = 0
    for text in _date_texts():
        expected = parse._struct_to_utc(_parse_date(text))
        shortcut = parse._common_date(text)
        if shortcut is not None:
            taken += 1
            assert (shortcut, shortcut.tzinfo) == (expected, expected and expected.tzinfo), text
        assert parse._item_date(text) == expected, text
    assert taken > 500


KNOWN_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fab Notes</title>
  <item><title>New line</title><link>https://chips.example/new</link><guid>fab-3</guid>
    <pubDate>Sat, 21 Nov 2026 11:00:00 GMT</pubDate><description>Third report.</description></item>
  <item><title>Old line</title><link>https://chips.example/old</link>
    <guid isPermaLink="false">  fab-2 </guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>
    <description>Second report.</description></item>
  <item><title>First line</title><link>https://chips.example/first</link>
    <guid>https://chips.example/first</guid><description>First report.</description></item>
  <item><title>No guid</title><link>https://chips.example/no-guid</link></item>
</channel></rss>"""


def test_items_the_caller_knows_are_read_no_further_than_guid_and_dates() -> None:
    # A poller passes the guids of a feed's last body: those items come back as stubs (guid and
    # dates, which schedule the feed), the others exactly as a full parse gives them.
    full = parse_feed(KNOWN_RSS.encode(), url=FEED_URL)
    known = frozenset({"fab-2", "https://chips.example/first", "\0https://chips.example/no-guid"})
    lazy = parse_feed(KNOWN_RSS.encode(), url=FEED_URL, known=known)
    assert len(lazy.items) == len(full.items) == 4
    assert lazy.items[0] == full.items[0] and not lazy.items[0].known  # not known: read in full
    old = lazy.items[1]
    assert old.known and old.guid == "fab-2" and old.title == "" and old.html == ""
    assert old.published == full.items[1].published == datetime(2026, 11, 20, 10, tzinfo=UTC)
    first = lazy.items[2]
    assert first.known and first.guid == full.items[2].guid and first.published is None
    # Without a guid there is nothing cheap to recognise it by: read in full.
    assert lazy.items[3] == full.items[3] and not lazy.items[3].known
    assert (lazy.title, lazy.ttl_s, lazy.format) == (full.title, full.ttl_s, full.format)


async def test_parse_feeds_async_passes_each_documents_known_items() -> None:
    # A permalink guid is known by what the parse makes of it (resolved against the feed's URL).
    newest = parse_feed(KNOWN_RSS.encode(), url=FEED_URL).items[0].guid
    assert newest == "https://chips.example/fab-3"
    docs = [
        FeedDocument(KNOWN_RSS.encode(), FEED_URL, known=frozenset({newest})),
        FeedDocument(KNOWN_RSS.encode(), FEED_URL),
    ]
    lazy, full = await parse_feeds_async(docs)
    assert isinstance(lazy, ParsedFeed) and isinstance(full, ParsedFeed)
    assert [i.known for i in lazy.items] == [True, False, False, False]
    assert lazy.items[1:] == full.items[1:] and not any(i.known for i in full.items)
