"""Robustness: feedparser's own test documents, served over loopback with the headers each one
names in its `Header:` lines, pushed through fetch + parse + to_article. Every outcome must be
articles or a FeedError value: no other exception, no hang."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.errors import FeedError
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import parse_feed_async, to_article

from .conftest import poll_settings

_REPO = Path(__file__).resolve().parents[2]
# Resolved, so that a ../shared reached through a symbolic link still contains its own files.
CORPUS = next(
    (
        p.resolve()
        for p in (_REPO.parent / "shared" / "feedparser-tests", Path("/work/shared/feedparser-tests"))
        if p.is_dir()
    ),
    None,
)
pytestmark = pytest.mark.skipif(CORPUS is None, reason="the feedparser test corpus (../shared) is absent")

_HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):\s*(.*?)\s*$", re.MULTILINE)
_ORIGINAL_HOST = "http://localhost:8097"


@dataclass(frozen=True, slots=True)
class Served:
    status: int
    headers: dict[str, str]


def describe(data: bytes, path: Path, base: str) -> Served:
    """The status and headers a corpus file asks to be served with."""
    head = data[: data.find(b"-->") + 3] if b"-->" in data[:4096] else b""
    status = 200
    headers: dict[str, str] = {}
    for name, raw in _HEADER.findall(head):
        key = name.decode("ascii")
        value = raw.decode("latin-1").replace(_ORIGINAL_HOST, base)
        if key.lower() == "status":
            status = int(value)
        else:
            headers[key] = value
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/xml"
    if path.suffix == ".gz":
        headers["Content-Encoding"] = "gzip"
    elif path.suffix == ".z":
        headers["Content-Encoding"] = "deflate"
    return Served(status, headers)


@pytest.fixture
async def corpus_server() -> AsyncIterator[TestServer]:
    assert CORPUS is not None
    base: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/-/return-304.xml":
            return web.Response(status=304)
        relative = request.path.removeprefix("/tests/")
        path = (CORPUS / relative).resolve()
        if not path.is_relative_to(CORPUS) or not path.is_file():
            return web.Response(status=404)
        data = path.read_bytes()
        served = describe(data, path, base[0])
        body = b"" if served.status in (204, 304) else data
        try:
            return web.Response(status=served.status, body=body, headers=served.headers)
        except ValueError:  # a header aiohttp refuses to send; serve the document plainly
            return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    base.append(f"http://127.0.0.1:{server.port}")
    yield server
    await server.close()


async def test_every_corpus_file_gives_articles_or_a_feed_error(corpus_server: TestServer) -> None:
    assert CORPUS is not None
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")
    assert len(files) > 2000
    outcomes: dict[Path, str] = {}
    crashes: list[str] = []
    limit = asyncio.Semaphore(16)
    settings = poll_settings(per_host_concurrency=16, global_concurrency=16, total_timeout_s=20)

    async with Fetcher(settings) as fetcher:

        async def one(path: Path) -> None:
            url = f"http://127.0.0.1:{corpus_server.port}/tests/{path.relative_to(CORPUS).as_posix()}"
            async with limit:
                try:
                    result = await fetcher.fetch(url, allow_private=True)
                    if result.not_modified:
                        outcomes[path] = "not_modified"
                        return
                    feed = await parse_feed_async(
                        result.body, url=result.final_url, content_type=result.content_type
                    )
                    articles = [to_article(item, feed) for item in feed.items]
                    assert all(a.id and isinstance(a.title, str) for a in articles)
                    outcomes[path] = "ok"
                except FeedError:
                    outcomes[path] = "feed_error"
                except Exception as exc:  # what this test exists to catch
                    crashes.append(f"{path.relative_to(CORPUS)}: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(p) for p in files))

    assert crashes == []
    assert len(outcomes) == len(files)
    wellformed = [p for p in files if "wellformed" in p.parts and "illformed" not in p.parts]
    parsed = sum(1 for p in wellformed if outcomes[p] == "ok")
    assert parsed >= 0.95 * len(wellformed), (
        f"only {parsed} of {len(wellformed)} well-formed documents parsed"
    )
