from __future__ import annotations

import pytest

from bot.ingest.urls import canonical_url, host_of


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://News.Example.COM/a/b?utm_source=rss&utm_medium=feed&id=7#comments",
            "https://news.example.com/a/b?id=7",
        ),
        (
            "https://example.com/x?fbclid=abc&gclid=1&mc_cid=2&mc_eid=3&ref=hn&cmpid=9",
            "https://example.com/x",
        ),
        ("https://example.com/x?b=2&a=1&utm_campaign=z", "https://example.com/x?a=1&b=2"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/x?q=a+b&empty=", "https://example.com/x?empty=&q=a+b"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_same_page_from_different_newsletters_compares_equal() -> None:
    a = canonical_url("https://example.com/story?id=5&utm_source=newsletter&mc_eid=xyz")
    b = canonical_url("https://EXAMPLE.com/story?utm_source=rss&id=5#top")
    assert a == b


def test_relative_links_resolve_against_the_feed() -> None:
    assert (
        canonical_url("/posts/1?ref=rss", base="https://blog.example/feed.xml")
        == "https://blog.example/posts/1"
    )


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "mailto:a@b.c", "not a url", "ftp://x/y"])
def test_non_web_urls_have_no_canonical_form(url: str) -> None:
    assert canonical_url(url) is None


def test_host_of() -> None:
    assert host_of("https://www.Example.com/feed") == "example.com"
    assert host_of("nothing") is None
