"""A loopback aiohttp server whose routes each test sets, and a Fetcher configured for tests."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import PollSettings
from bot.ingest.fetch import Fetcher

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FeedServer:
    """Serves whatever handler is registered for a path; records every request it gets."""

    host: str = "127.0.0.1"
    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)
    server: TestServer | None = None

    def add(self, path: str, handler: Handler) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def feed(
        self, path: str, body: bytes | str, *, content_type: str = "application/rss+xml", **headers: str
    ) -> str:
        data = body.encode() if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=data, headers={"Content-Type": content_type, **headers})

        return self.add(path, handler)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        return self.add(path, handler)

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        handler = self.handlers.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such test route")
        return await handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.server = TestServer(app, host=self.host, port=0)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def other_server() -> AsyncIterator[FeedServer]:
    """A second loopback server on 127.0.0.2: the "internal" target in SSRF redirect tests."""
    server = FeedServer(host="127.0.0.2")
    await server.start()
    yield server
    await server.close()


def poll_settings(**overrides: object) -> PollSettings:
    values: dict[str, object] = {
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
        "total_timeout_s": 5,
        "max_body_bytes": 1_000_000,
    }
    values.update(overrides)
    return PollSettings.model_validate(values)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(poll_settings()) as f:
        yield f


# -- a gzip bomb, streamed ------------------------------------------------------------------------

_BLOCK = 1 << 20  # 1 MiB of zeros per deflate block


def gzip_bomb_chunks(total_bytes: int = 1 << 30) -> Iterator[bytes]:
    """A gzip stream of `total_bytes` zeros (1 GiB by default) from about 1 MB of compressed data,
    produced lazily: every full-flushed block of zeros compresses to the same bytes, so one block
    is computed and repeated; the CRC in the trailer is only computed if a reader gets that far."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(_BLOCK)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush()
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    blocks = total_bytes // _BLOCK
    for _ in range(blocks):
        yield block
    yield final
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    yield struct.pack("<II", crc, (blocks * _BLOCK) & 0xFFFFFFFF)


async def stream_chunks(request: web.Request, chunks: Iterator[bytes], **headers: str) -> web.StreamResponse:
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        for chunk in chunks:
            await response.write(chunk)
    except ConnectionError:
        pass  # the client hung up, as it should
    return response
