from __future__ import annotations

import ipaddress

import aiohttp
import pytest

from bot.errors import FeedError, UnsafeURLError
from bot.ingest.fetch import Fetcher
from bot.ingest.ssrf import (
    AddressGuard,
    GuardedConnector,
    GuardedResolver,
    StaticResolver,
    check_url,
    resolve_and_check,
)

from .conftest import FeedServer, poll_settings

RSS = '<rss version="2.0"><channel><title>t</title><item><title>x</title></item></channel></rss>'


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/feed", "loopback"),
        ("http://10.0.0.1/feed", "private"),
        ("http://172.16.5.4/feed", "private"),
        ("http://192.168.1.1/feed", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::1]/feed", "loopback"),
        ("http://[fe80::1]/feed", "link-local"),
        ("http://[fd12:3456::1]/feed", "private"),
        ("http://[::ffff:127.0.0.1]/feed", "loopback"),
        ("http://[::ffff:169.254.169.254]/feed", "cloud metadata"),
        ("http://224.0.0.1/feed", "multicast"),
        ("http://0.0.0.0/feed", "unspecified"),
        ("http://127.1/feed", "loopback"),
        ("http://2130706433/feed", "loopback"),
        ("http://0x7f000001/feed", "loopback"),
        ("http://localhost:8080/feed", "names this machine"),
        ("http://feeds.localhost/feed", "names this machine"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata host"),
        ("ftp://example.com/feed", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("file:///etc/passwd", "only in the config file"),
        ("http:///feed", "no host"),
    ],
)
def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason) as info:
        check_url(url, allow_private=False, allow_file=False)
    assert url in str(info.value)
    assert info.value.permanent


@pytest.mark.parametrize(
    "url", ["https://example.com/feed.xml", "http://8.8.8.8/rss", "https://[2606:4700::1111]/"]
)
def test_check_url_allows_public(url: str) -> None:
    check_url(url, allow_private=False, allow_file=False)


def test_allow_private_opens_private_ranges_but_never_metadata() -> None:
    for url in ("http://127.0.0.1/", "http://10.0.0.1/", "http://[::1]/", "http://localhost/"):
        check_url(url, allow_private=True, allow_file=False)
    for url in ("http://169.254.169.254/", "http://metadata.google.internal/", "http://224.0.0.1/"):
        with pytest.raises(UnsafeURLError):
            check_url(url, allow_private=True, allow_file=False)
    check_url("file:///srv/feeds/local.xml", allow_private=True, allow_file=True)


async def test_resolve_and_check_refuses_a_name_resolving_to_loopback() -> None:
    with pytest.raises(UnsafeURLError, match="localhost"):
        await resolve_and_check("localhost", 80, allow_private=False)
    addresses = await resolve_and_check("localhost", 80, allow_private=True)
    assert addresses and all(ip.is_loopback for ip in addresses)


async def test_guarded_resolver_checks_resolved_addresses() -> None:
    inner = StaticResolver({"intranet.example": ["10.1.2.3"], "public.example": ["93.184.216.34"]})
    resolver = GuardedResolver(AddressGuard(allow_private=False), inner)
    with pytest.raises(UnsafeURLError, match=r"10\.1\.2\.3 is a private address"):
        await resolver.resolve("intranet.example", 80)
    ok = await resolver.resolve("public.example", 80)
    assert [r["host"] for r in ok] == ["93.184.216.34"]


async def test_fetch_refuses_loopback_literals_before_connecting(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.feed("/feed.xml", RSS)
    with pytest.raises(UnsafeURLError, match="loopback"):
        await fetcher.fetch(url)
    assert feed_server.requests == []
    assert (await fetcher.fetch(url, allow_private=True)).status == "ok"  # the same URL, opted out


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/feed", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"]
)
async def test_fetch_refuses_internal_addresses(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(UnsafeURLError):
        await fetcher.fetch(url)


async def test_fetch_refuses_a_name_that_resolves_to_loopback(feed_server: FeedServer) -> None:
    """The check is on the resolved IP at connect time: the name itself looks harmless."""
    assert feed_server.server is not None
    port = feed_server.server.port
    feed_server.feed("/feed.xml", RSS)
    resolver = StaticResolver({"news.example.test": ["127.0.0.1"]})
    url = f"http://news.example.test:{port}/feed.xml"
    check_url(url, allow_private=False, allow_file=False)  # nothing to see in the URL
    async with Fetcher(poll_settings(), resolver=resolver) as fetcher:
        with pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1 is a loopback address"):
            await fetcher.fetch(url)
        assert feed_server.requests == []
        assert (await fetcher.fetch(url, allow_private=True)).status == "ok"  # the resolver does work


async def test_redirect_from_an_allowed_server_to_loopback_is_refused(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    """127.0.0.1 stands in for a public server (exempted); 127.0.0.2 is the internal target."""
    other_server.feed("/secret", RSS)
    assert other_server.server is not None
    internal_port = other_server.server.port
    feed_server.feed("/feed.xml", RSS)
    feed_server.redirect("/to-literal", other_server.url("/secret"))
    feed_server.redirect("/to-name", f"http://intranet.example.test:{internal_port}/secret")
    feed_server.redirect("/to-localhost", f"http://localhost:{internal_port}/secret")
    feed_server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    feed_server.redirect("/to-allowed", "/feed.xml")
    resolver = StaticResolver({"intranet.example.test": ["127.0.0.2"]})
    async with Fetcher(poll_settings(), resolver=resolver, exempt_networks=["127.0.0.1/32"]) as fetcher:
        ok = await fetcher.fetch(feed_server.url("/to-allowed"))  # redirects work in this setup
        assert ok.final_url == feed_server.url("/feed.xml")
        for path, reason in [
            ("/to-literal", r"127\.0\.0\.2 is a loopback address"),
            ("/to-name", r"127\.0\.0\.2 is a loopback address"),
            ("/to-localhost", "names this machine"),
            ("/to-metadata", "cloud metadata"),
        ]:
            with pytest.raises(UnsafeURLError, match=reason):
                await fetcher.fetch(feed_server.url(path))
        # The same redirect is followed for a config feed that opted out: the guard made the difference.
        opted = await fetcher.fetch(feed_server.url("/to-literal"), allow_private=True)
    assert opted.final_url == other_server.url("/secret")
    assert other_server.paths() == ["/secret"]  # only the opted-out fetch reached it


async def test_file_redirect_is_refused_even_for_config_feeds(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.redirect("/feed.xml", "file:///etc/passwd")
    with pytest.raises(UnsafeURLError, match="file://"):
        await fetcher.fetch(feed_server.url("/feed.xml"), allow_private=True, allow_file=True)


def test_unsafe_url_error_is_a_permanent_feed_error() -> None:
    error = UnsafeURLError("refusing x")
    assert isinstance(error, FeedError) and error.permanent


def test_exemptions_are_explicit() -> None:
    guard = AddressGuard(exempt=(ipaddress.ip_network("127.0.0.1/32"),))
    assert guard.ip_problem(ipaddress.ip_address("127.0.0.1")) is None
    assert guard.ip_problem(ipaddress.ip_address("127.0.0.2")) == "a loopback address"
    assert AddressGuard().ip_problem(ipaddress.ip_address("127.0.0.1")) == "a loopback address"



async def test_a_connection_to_a_refused_peer_is_closed_even_when_the_resolver_let_it_through(
    feed_server: FeedServer,
) -> None:
    """GuardedConnector checks the address connected to, behind whatever resolved it (here a
    resolver with no guard at all); a connection that passed is checked once, not per request."""
    feed_server.feed("/feed.xml", RSS)
    assert feed_server.server is not None
    url = f"http://news.example.test:{feed_server.server.port}/feed.xml"
    unguarded = StaticResolver({"news.example.test": ["127.0.0.1"]})
    strict = GuardedConnector(AddressGuard(allow_private=False), resolver=unguarded)
    async with aiohttp.ClientSession(connector=strict) as session:
        for _ in range(2):  # refused every time: a refusal is not remembered
            with pytest.raises(UnsafeURLError, match=r"news\.example\.test.*127\.0\.0\.1 is a loopback"):
                await session.get(url)
    assert feed_server.requests == []  # closed before any request was sent

    lenient = GuardedConnector(AddressGuard(allow_private=True), resolver=unguarded, limit=1)
    async with aiohttp.ClientSession(connector=lenient) as session:
        for _ in range(3):
            async with session.get(url) as resp:
                assert resp.status == 200 and await resp.read() == RSS.encode()
        assert len(lenient._passed) == 1  # one kept-alive connection, checked once
    assert len(feed_server.requests) == 3
