"""Fetch and parse one feed URL into articles, storing nothing (`infrawire feeds check`)."""

from __future__ import annotations

from bot.ingest.fetch import Fetcher
from bot.ingest.parse import parse_feed_async, to_article
from bot.models import Article


async def fetch_articles(
    fetcher: Fetcher, url: str, *, allow_private: bool = False, allow_file: bool = False
) -> tuple[str | None, list[Article]]:
    """The feed's title and its items as articles; FeedError when it cannot be fetched or parsed."""
    result = await fetcher.fetch(url, allow_private=allow_private, allow_file=allow_file)
    feed = await parse_feed_async(result.body, url=result.final_url, content_type=result.content_type)
    return feed.title, [to_article(item, feed, feed_url=url) for item in feed.items]
