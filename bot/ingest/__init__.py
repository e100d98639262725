"""Feeds in: fetch (conditional GET, limits, SSRF guard), parse (RSS, Atom, JSON Feed), schedule.

    async with Fetcher(settings.poll) as fetcher:
        result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
        if not result.not_modified:
            feed = await parse_feed_async(result.body, url=result.final_url,
                                          content_type=result.content_type)
            articles = [to_article(item, feed) for item in feed.items]

Modules: ssrf (URL and address guard), fetch (Fetcher, FetchResult), parse (ParsedFeed,
to_article), schedule (pure next-check and backoff arithmetic), urls (canonical URLs),
poll (fetch + parse of one URL, for `infrawire feeds check`).
"""
