from __future__ import annotations

import pytest

from bot.errors import FeedError, UnsafeURLError
from bot.ingest.fetch import Fetcher
from bot.ingest.poll import fetch_articles

from .conftest import FeedServer

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Rack Density Report</title>
  <id>urn:rack-density</id>
  <updated>2026-11-21T10:00:00Z</updated>
  <entry>
    <title>Liquid cooling retrofit finished at a colocation site</title>
    <link href="/posts/retrofit?utm_medium=email"/>
    <id>urn:rack-density:retrofit</id>
    <updated>2026-11-21T09:00:00Z</updated>
    <summary>The operator finished moving two halls to direct liquid cooling.</summary>
  </entry>
</feed>
"""


async def test_fetch_articles_fetches_and_normalises(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.feed("/atom.xml", ATOM, content_type="application/atom+xml")
    title, articles = await fetch_articles(fetcher, url, allow_private=True)
    assert title == "Rack Density Report"
    assert len(articles) == 1
    article = articles[0]
    assert article.url == feed_server.url("/posts/retrofit")
    assert article.source == "Rack Density Report"
    assert article.text.startswith("The operator finished")


async def test_fetch_articles_reports_problems_as_feed_errors(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    page = feed_server.feed("/page", "<html><body>Welcome</body></html>", content_type="text/html")
    with pytest.raises(FeedError, match="got an HTML page"):
        await fetch_articles(fetcher, page, allow_private=True)
    with pytest.raises(UnsafeURLError):
        await fetch_articles(fetcher, page)  # loopback, not opted in
