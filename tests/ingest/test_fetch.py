from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot.errors import FeedError, UnsafeURLError
from bot.ingest.fetch import Fetcher, parse_cache_max_age, parse_retry_after

from .conftest import FeedServer, Handler, gzip_bomb_chunks, poll_settings, stream_chunks

RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Grid desk</title>'
    "<item><title>Substation approved for a new campus</title><link>https://grid.example/a</link></item>"
    "</channel></rss>"
)


async def test_200_then_304_with_etag_and_last_modified(feed_server: FeedServer, fetcher: Fetcher) -> None:
    etag, modified = '"v1"', "Wed, 21 Oct 2026 07:28:00 GMT"

    async def handler(request: web.Request) -> web.StreamResponse:
        if (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == modified
        ):
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=RSS.encode(),
            headers={
                "Content-Type": "application/rss+xml; charset=utf-8",
                "ETag": etag,
                "Last-Modified": modified,
            },
        )

    url = feed_server.add("/feed.xml", handler)
    first = await fetcher.fetch(url, allow_private=True)
    assert first.status == "ok" and first.http_status == 200 and not first.not_modified
    assert first.body == RSS.encode()
    assert (first.etag, first.last_modified) == (etag, modified)
    assert first.content_type == "application/rss+xml; charset=utf-8" and first.charset == "utf-8"

    second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified, allow_private=True)
    assert second.status == "not_modified" and second.http_status == 304 and second.body == b""
    assert (second.etag, second.last_modified) == (etag, modified)  # kept from the request when not repeated
    sent = feed_server.requests[-1].headers
    assert sent["If-None-Match"] == etag and sent["If-Modified-Since"] == modified

    by_date = await fetcher.fetch(url, last_modified=modified, allow_private=True)
    assert by_date.not_modified


async def test_sends_user_agent_and_accepts_compression(feed_server: FeedServer) -> None:
    url = feed_server.feed("/feed.xml", RSS)
    settings = poll_settings(user_agent="infrawire-test/1.0 (+https://example.org/bot)")
    async with Fetcher(settings) as fetcher:
        await fetcher.fetch(url, allow_private=True)
    headers = feed_server.requests[0].headers
    assert headers["User-Agent"] == "infrawire-test/1.0 (+https://example.org/bot)"
    assert "gzip" in headers["Accept-Encoding"] and "deflate" in headers["Accept-Encoding"]
    assert "application/rss+xml" in headers["Accept"]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        ("gzip", lambda b: b),  # labelled gzip but sent plain
    ],
)
async def test_decodes_compressed_bodies(
    feed_server: FeedServer, fetcher: Fetcher, encoding: str, encode
) -> None:
    url = feed_server.feed("/feed.xml", encode(RSS.encode()), **{"Content-Encoding": encoding})
    result = await fetcher.fetch(url, allow_private=True)
    assert result.body == RSS.encode()


async def test_corrupt_gzip_is_a_feed_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.feed(
        "/feed.xml", b"\x1f\x8b\x08\x00garbage-not-deflate", **{"Content-Encoding": "gzip"}
    )
    with pytest.raises(FeedError, match="corrupt gzip body"):
        await fetcher.fetch(url, allow_private=True)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_follows_redirects(feed_server: FeedServer, fetcher: Fetcher, status: int) -> None:
    target = feed_server.feed("/new.xml", RSS)
    start = feed_server.redirect("/old.xml", "/new.xml", status=status)
    result = await fetcher.fetch(start, allow_private=True)
    assert result.final_url == target and result.url == target
    assert result.body == RSS.encode()
    assert feed_server.paths() == ["/old.xml", "/new.xml"]


async def test_redirect_loop_is_detected(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    with pytest.raises(FeedError, match="redirect loop") as info:
        await fetcher.fetch(feed_server.url("/a"), allow_private=True)
    assert feed_server.url("/a") in str(info.value)
    assert feed_server.paths() == ["/a", "/b"]


async def test_five_redirects_are_followed_and_six_are_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    for i in range(6):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}")
    feed_server.feed("/r6", RSS)
    ok = await fetcher.fetch(feed_server.url("/r1"), allow_private=True)  # r1 -> ... -> r6: 5 redirects
    assert ok.final_url == feed_server.url("/r6")
    with pytest.raises(FeedError, match="more than 5 redirects"):
        await fetcher.fetch(feed_server.url("/r0"), allow_private=True)  # 6 redirects


async def test_redirect_without_location(feed_server: FeedServer, fetcher: Fetcher) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302)

    url = feed_server.add("/feed.xml", handler)
    with pytest.raises(FeedError, match="without a Location"):
        await fetcher.fetch(url, allow_private=True)


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (410, True), (500, False), (403, False)])
async def test_error_statuses(
    feed_server: FeedServer, fetcher: Fetcher, status: int, permanent: bool
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text="nope")

    url = feed_server.add("/feed.xml", handler)
    with pytest.raises(FeedError) as info:
        await fetcher.fetch(url, allow_private=True)
    assert info.value.permanent is permanent
    assert url in str(info.value) and f"HTTP {status}" in str(info.value)
    assert info.value.retry_after is None


async def test_429_with_retry_after_seconds(feed_server: FeedServer, fetcher: Fetcher) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "120"})

    url = feed_server.add("/feed.xml", handler)
    with pytest.raises(FeedError, match="retry after 120 s") as info:
        await fetcher.fetch(url, allow_private=True)
    assert info.value.retry_after == 120 and not info.value.permanent


async def test_503_with_retry_after_date(feed_server: FeedServer, fetcher: Fetcher) -> None:
    date = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {
            "Date": format_datetime(date, usegmt=True),
            "Retry-After": format_datetime(date + timedelta(minutes=30), usegmt=True),
        }
        return web.Response(status=503, headers=headers)

    url = feed_server.add("/feed.xml", handler)
    with pytest.raises(FeedError) as info:
        await fetcher.fetch(url, allow_private=True)
    assert info.value.retry_after == 1800


def test_retry_after_and_cache_headers_parse() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Thu, 01 Jan 2026 00:02:00 GMT", now=now) == 120
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_cache_max_age("public, max-age=600") == 600
    assert parse_cache_max_age("max-age=60, s-maxage=900") == 900
    assert parse_cache_max_age("no-cache") == 0
    assert (
        parse_cache_max_age(
            None, expires="Thu, 01 Jan 2026 01:00:00 GMT", date="Thu, 01 Jan 2026 00:00:00 GMT"
        )
        == 3600
    )
    assert parse_cache_max_age("private") is None


async def test_cache_headers_reach_the_result(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.feed("/feed.xml", RSS, **{"Cache-Control": "public, max-age=1800"})
    result = await fetcher.fetch(url, allow_private=True)
    assert result.cache_max_age == 1800


async def test_a_server_that_never_answers_times_out(feed_server: FeedServer) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(text="too late")

    url = feed_server.add("/feed.xml", handler)
    async with Fetcher(poll_settings(read_timeout_s=0.3, total_timeout_s=10)) as fetcher:
        with pytest.raises(FeedError, match=r"timed out \(no data for 0\.3 s: the read limit\)") as info:
            await fetcher.fetch(url, allow_private=True)
        release.set()
        # The fetcher is still usable, and the timed-out task was not left marked as cancelled.
        assert (await fetcher.fetch(feed_server.feed("/ok.xml", RSS), allow_private=True)).status == "ok"
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
    assert url in str(info.value) and not info.value.permanent


async def test_a_body_that_stops_halfway_hits_the_read_limit(feed_server: FeedServer) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = 2 * len(RSS)
        await response.prepare(request)
        await response.write(RSS.encode())
        await release.wait()  # the other half never comes
        return response

    url = feed_server.add("/feed.xml", handler)
    async with Fetcher(poll_settings(read_timeout_s=0.3, total_timeout_s=10)) as fetcher:
        with pytest.raises(FeedError, match="the read limit"):
            await fetcher.fetch(url, allow_private=True)
    release.set()


async def test_a_steady_drip_longer_than_the_read_limit_is_read_to_the_end(feed_server: FeedServer) -> None:
    """The read limit is the longest silence, not the time the whole body takes."""
    body = RSS.encode()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = len(body)
        await response.prepare(request)
        for start in range(0, len(body), len(body) // 10 + 1):  # ten pieces, 0.1 s apart: 1 s in all
            await response.write(body[start : start + len(body) // 10 + 1])
            await asyncio.sleep(0.1)
        return response

    url = feed_server.add("/feed.xml", handler)
    async with Fetcher(poll_settings(read_timeout_s=0.4, total_timeout_s=10)) as fetcher:
        result = await fetcher.fetch(url, allow_private=True)
    assert result.status == "ok" and result.body == body


async def test_a_fetch_cancelled_from_outside_stays_cancelled(feed_server: FeedServer) -> None:
    """Shutting down cancels fetches in flight: that must not turn into a feed error."""
    release, arrived = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await release.wait()
        return web.Response(text=RSS)

    url = feed_server.add("/feed.xml", handler)
    async with Fetcher(poll_settings(read_timeout_s=5, total_timeout_s=10)) as fetcher:
        fetch = asyncio.create_task(fetcher.fetch(url, allow_private=True))
        await arrived.wait()
        fetch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fetch
    release.set()


async def test_a_dripping_body_hits_the_total_timeout(feed_server: FeedServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        try:
            for _ in range(600):  # one byte every 50 ms: never idle long enough for the read timeout
                await response.write(b" ")
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        return response

    url = feed_server.add("/feed.xml", handler)
    async with Fetcher(poll_settings(read_timeout_s=2, total_timeout_s=0.5)) as fetcher:
        with pytest.raises(FeedError, match="total time limit"):
            await fetcher.fetch(url, allow_private=True)


async def test_declared_oversized_body_is_refused(feed_server: FeedServer) -> None:
    url = feed_server.feed("/big.xml", b"x" * 5000)
    async with Fetcher(poll_settings(max_body_bytes=4096)) as fetcher:
        with pytest.raises(FeedError, match="larger than the 4,096-byte limit"):
            await fetcher.fetch(url, allow_private=True)


async def test_streamed_oversized_body_is_stopped(feed_server: FeedServer) -> None:
    sent = 0

    def chunks():
        nonlocal sent
        for _ in range(10_000):  # up to 160 MB, no Content-Length
            sent += 16_384
            yield b"y" * 16_384

    async def handler(request: web.Request) -> web.StreamResponse:
        return await stream_chunks(request, chunks(), **{"Content-Type": "application/rss+xml"})

    url = feed_server.add("/big.xml", handler)
    async with Fetcher(poll_settings(max_body_bytes=100_000)) as fetcher:
        with pytest.raises(FeedError, match="stopped reading"):
            await fetcher.fetch(url, allow_private=True)
    assert sent < 10_000 * 16_384  # the server was not read to the end


async def test_gzip_bomb_is_stopped_at_the_cap_without_inflating_it(feed_server: FeedServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
        return await stream_chunks(request, gzip_bomb_chunks(), **headers)

    url = feed_server.add("/bomb.xml", handler)
    cap = 1_000_000
    async with Fetcher(poll_settings(max_body_bytes=cap)) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(FeedError, match="after decompression"):
                await fetcher.fetch(url, allow_private=True)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * cap  # 1 GiB decompressed would be a thousand times more


def test_gzip_bomb_fixture_is_a_real_gzip_stream() -> None:
    data = b"".join(gzip_bomb_chunks(4 << 20))
    assert gzip.decompress(data) == bytes(4 << 20)


async def test_connection_refused_is_a_temporary_error(fetcher: Fetcher) -> None:
    server = FeedServer()
    await server.start()
    url = server.url("/feed.xml")
    await server.close()
    with pytest.raises(FeedError, match="cannot connect") as info:
        await fetcher.fetch(url, allow_private=True)
    assert not info.value.permanent


async def test_file_urls_only_when_allowed(tmp_path: Path, fetcher: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(RSS, encoding="utf-8")
    url = path.as_uri()
    with pytest.raises(UnsafeURLError, match="file:// URLs are allowed only in the config file"):
        await fetcher.fetch(url)
    result = await fetcher.fetch(url, allow_file=True)
    assert result.status == "ok" and result.body == RSS.encode() and result.last_modified
    again = await fetcher.fetch(url, allow_file=True, last_modified=result.last_modified)
    assert again.not_modified
    with pytest.raises(FeedError, match="no such file") as info:
        await fetcher.fetch((tmp_path / "missing.xml").as_uri(), allow_file=True)
    assert info.value.permanent


async def test_304_without_a_conditional_request_is_an_error(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=304)

    url = feed_server.add("/feed.xml", handler)
    with pytest.raises(FeedError, match="not conditional"):
        await fetcher.fetch(url, allow_private=True)


class _Overlap:
    """A handler that answers after `delay` seconds and records the most requests it had in flight."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.active = 0
        self.most = 0

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.active += 1
        self.most = max(self.most, self.active)
        await asyncio.sleep(self.delay)
        self.active -= 1
        return web.Response(body=RSS.encode())


async def test_per_host_concurrency_is_respected(feed_server: FeedServer) -> None:
    handler = _Overlap(0.02)
    for i in range(8):
        feed_server.add(f"/f{i}.xml", handler)
    async with Fetcher(poll_settings(per_host_concurrency=2, global_concurrency=16)) as fetcher:
        await asyncio.gather(
            *(fetcher.fetch(feed_server.url(f"/f{i}.xml"), allow_private=True) for i in range(8))
        )
    assert handler.most == 2


async def test_global_limit_alone_when_the_host_limit_is_no_lower(feed_server: FeedServer) -> None:
    # Only the global slots limit here; time spent queued for one is not part of the time limit.
    handler = _Overlap(0.05)
    for i in range(12):
        feed_server.add(f"/g{i}.xml", handler)
    settings = poll_settings(per_host_concurrency=4, global_concurrency=2, total_timeout_s=0.4)
    async with Fetcher(settings) as fetcher:
        results = await asyncio.gather(
            *(fetcher.fetch(feed_server.url(f"/g{i}.xml"), allow_private=True) for i in range(12))
        )
    assert handler.most == 2  # six rounds of 50 ms queued: longer than the limit, which each fetch keeps
    assert all(r.status == "ok" for r in results)


async def test_the_total_time_limit_spans_a_redirect_chain(feed_server: FeedServer) -> None:
    # Each hop alone is well within the limit; the chain is not.
    def hop(number: int) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(0.2)
            return web.Response(status=302, headers={"Location": feed_server.url(f"/hop/{number + 1}")})

        return handler

    for number in range(5):
        feed_server.add(f"/hop/{number}", hop(number))
    async with Fetcher(poll_settings(read_timeout_s=2, total_timeout_s=0.5)) as fetcher:
        with pytest.raises(FeedError, match="total time limit"):
            await fetcher.fetch(feed_server.url("/hop/0"), allow_private=True)


async def test_feeds_queued_behind_a_busy_host_leave_global_slots_to_others(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(body=RSS.encode())

    for i in range(3):
        feed_server.add(f"/busy{i}.xml", slow)
    quick = other_server.feed("/quick.xml", RSS)
    async with Fetcher(poll_settings(per_host_concurrency=1, global_concurrency=2)) as fetcher:
        busy = [
            asyncio.create_task(fetcher.fetch(feed_server.url(f"/busy{i}.xml"), allow_private=True))
            for i in range(3)
        ]
        await asyncio.sleep(0)  # let them queue first
        try:
            # One busy fetch holds a global slot; the two queued behind it must not hold the other.
            result = await asyncio.wait_for(fetcher.fetch(quick, allow_private=True), timeout=10)
        finally:
            release.set()
        assert result.status == "ok"
        assert all(r.status == "ok" for r in await asyncio.gather(*busy))
