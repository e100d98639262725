"""Polling cost, as ratios against baselines measured in the same run.

    python -m bench.poll [--feeds 1000] [--changing 0.05] [--rounds 5] [--concurrency 16]

A loopback aiohttp server (in its own process, so it does not share the client's event loop)
serves `--feeds` small RSS documents with ETags; before each measured cycle a fraction of them
(`--changing`, 5% by default) change. Per round it measures, on the same feeds and changes:

1. infrawire: one full conditional cycle through Fetcher (SSRF guard, limits, bounded body
   reading), plus parse_feed + to_article for the feeds that changed;
2. bare conditional: a plain aiohttp GET loop with If-None-Match and the same concurrency,
   no parsing (the floor for the same HTTP work);
3. bare unconditional: a plain aiohttp GET loop downloading every body (what polling without
   ETags costs).

It prints the cycle-time ratios, the bytes transferred by the conditional cycle against the
unconditional one (counted by the server: status line, headers and body), and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from bot.config import PollSettings
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import parse_feed_async, to_article

SUBJECTS = (
    "A hyperscaler",
    "The regional utility",
    "A chip designer",
    "The foundry",
    "A cloud GPU provider",
    "The export regulator",
    "A memory maker",
    "The data center developer",
)
ACTIONS = (
    "confirmed a new accelerator cluster",
    "filed for a 300 MW grid connection",
    "raised its capital spending plan",
    "delayed a packaging line by a quarter",
    "opened a new region with rented GPUs",
    "tightened license rules for advanced chips",
    "signed a long-term power purchase agreement",
    "announced a second fabrication site",
)


def feed_body(index: int, version: int, items: int = 10) -> bytes:
    rng = random.Random(index * 1_000_003 + version)
    entries = []
    for n in range(items):
        serial = version * items + n
        title = f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} (update {serial})"
        text = " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)}." for _ in range(4))
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://outlet{index}.example/news/{serial}?utm_source=rss</link>"
            f'<guid isPermaLink="false">outlet{index}-{serial}</guid>'
            f"<pubDate>Sat, 21 Nov 2026 {n:02d}:00:00 GMT</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {index}</title><link>https://outlet{index}.example/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


# -- the server (child process) -------------------------------------------------------------------


@dataclass
class _ServerState:
    feeds: int
    versions: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    bytes_sent: int = 0
    responses: dict[int, int] = field(default_factory=dict)

    def etag(self, index: int) -> str:
        return f'"{index}-{self.versions[index]}"'


def _response_size(status: int, headers: dict[str, str], body: bytes) -> int:
    # Status line, headers as sent on the wire, blank line, body.
    size = len(f"HTTP/1.1 {status} X\r\n") + 2 + len(body)
    return size + sum(len(k) + len(v) + 4 for k, v in headers.items())


async def _serve(conn: Connection, feeds: int, changing: float, seed: int) -> None:
    state = _ServerState(feeds)
    state.versions = [0] * feeds
    state.bodies = [feed_body(i, 0) for i in range(feeds)]
    rng = random.Random(seed)

    async def feed(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        etag = state.etag(index)
        base = {"ETag": etag, "Date": "Sun, 22 Nov 2026 12:00:00 GMT", "Server": "bench"}
        if request.headers.get("If-None-Match") == etag:
            status, headers, body = 304, base, b""
        else:
            status = 200
            headers = {**base, "Content-Type": "application/rss+xml; charset=utf-8"}
            body = state.bodies[index]
            headers["Content-Length"] = str(len(body))
        state.bytes_sent += _response_size(status, headers, body)
        state.responses[status] = state.responses.get(status, 0) + 1
        return web.Response(status=status, headers=headers, body=body)

    async def change(request: web.Request) -> web.StreamResponse:
        for index in rng.sample(range(feeds), max(1, round(feeds * changing))):
            state.versions[index] += 1
            state.bodies[index] = feed_body(index, state.versions[index])
        return web.json_response({})

    async def stats(request: web.Request) -> web.StreamResponse:
        out = {"bytes": state.bytes_sent, "responses": state.responses}
        state.bytes_sent, state.responses = 0, {}
        return web.json_response(out)

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_post("/_change", change)
    app.router.add_post("/_stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    conn.send(port)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # until the parent says stop
    await runner.cleanup()


def _server_main(conn: Connection, feeds: int, changing: float, seed: int) -> None:
    asyncio.run(_serve(conn, feeds, changing, seed))


# -- the client side ------------------------------------------------------------------------------


@dataclass
class Cycle:
    seconds: float
    bytes: int
    responses: dict[str, int]
    parsed_articles: int = 0


class Bench:
    def __init__(self, base: str, feeds: int, concurrency: int):
        self.base = base
        self.urls = [f"{base}/feed/{i}.xml" for i in range(feeds)]
        self.concurrency = concurrency
        self.etags: dict[str, str | None] = dict.fromkeys(self.urls)
        self.control = aiohttp.ClientSession()

    async def change(self) -> None:
        async with self.control.post(f"{self.base}/_change") as resp:
            await resp.read()

    async def stats(self) -> dict[str, Any]:
        async with self.control.post(f"{self.base}/_stats") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def _measure(self, work: Callable[[], Awaitable[int]]) -> Cycle:
        await self.stats()  # reset the server's counters
        started = time.perf_counter()
        articles = await work()
        seconds = time.perf_counter() - started
        stats = await self.stats()
        return Cycle(seconds, int(stats["bytes"]), dict(stats["responses"]), articles)

    async def infrawire(self, fetcher: Fetcher, *, parse: bool = True) -> Cycle:
        async def one(url: str) -> int:
            result = await fetcher.fetch(url, etag=self.etags[url], allow_private=True)
            if result.not_modified:
                return 0
            self.etags[url] = result.etag
            if not parse:
                return 0
            feed = await parse_feed_async(result.body, url=result.final_url, content_type=result.content_type)
            return len([to_article(item, feed) for item in feed.items])

        async def work() -> int:
            return sum(await asyncio.gather(*(one(u) for u in self.urls)))

        return await self._measure(work)

    async def bare(self, session: aiohttp.ClientSession, *, conditional: bool) -> Cycle:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(url: str) -> None:
            headers = {}
            etag = self.etags[url]
            if conditional and etag:
                headers["If-None-Match"] = etag
            async with limit, session.get(url, headers=headers) as resp:
                await resp.read()
                if resp.status == 200:
                    self.etags[url] = resp.headers.get("ETag")

        async def work() -> int:
            await asyncio.gather(*(one(u) for u in self.urls))
            return 0

        return await self._measure(work)

    async def close(self) -> None:
        await self.control.close()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def run(feeds: int, rounds: int, concurrency: int, base: str) -> None:
    settings = PollSettings.model_validate(
        {"global_concurrency": concurrency, "per_host_concurrency": concurrency}
    )
    bench = Bench(base, feeds, concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    bare_session = aiohttp.ClientSession(connector=connector)
    rows: dict[str, list[Cycle]] = {
        "infrawire": [],
        "infrawire_fetch": [],
        "bare_conditional": [],
        "bare_unconditional": [],
    }
    try:
        async with Fetcher(settings) as fetcher:
            prime = await bench.infrawire(fetcher, parse=False)  # the first poll: every ETag learnt
            await bench.bare(bare_session, conditional=False)  # warm the bare client's connections
            print(f"first (unconditional) fetch of every feed: {prime.seconds:.2f} s, {prime.bytes:,} bytes")
            names = list(rows)
            for round_no in range(rounds):
                # Rotate the order so no variant always runs right after the same one.
                for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
                    await bench.change()
                    if name == "infrawire":
                        cycle = await bench.infrawire(fetcher)
                    elif name == "infrawire_fetch":
                        cycle = await bench.infrawire(fetcher, parse=False)
                    else:
                        cycle = await bench.bare(bare_session, conditional=name == "bare_conditional")
                    rows[name].append(cycle)
            # Python-heap peak of one more infrawire cycle (traced separately: tracing slows it).
            await bench.change()
            tracemalloc.start()
            await bench.infrawire(fetcher)
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        await bare_session.close()
        await bench.close()

    def median(name: str, attr: str) -> float:
        return statistics.median(float(getattr(c, attr)) for c in rows[name])

    t_iw, t_fetch, t_cond, t_uncond = (median(n, "seconds") for n in rows)
    b_iw, b_uncond = median("infrawire", "bytes"), median("bare_unconditional", "bytes")
    last = rows["infrawire"][-1]
    print(f"feeds: {feeds}, changing per cycle: {last.responses.get('200', 0)}, concurrency: {concurrency}")
    print(f"rounds: {rounds} (medians below)")
    parsed = last.parsed_articles
    print(f"  infrawire cycle (fetch + parse of changed):  {t_iw:.3f} s  ({parsed} articles parsed)")
    print(f"  infrawire fetch only (no parse):             {t_fetch:.3f} s")
    print(f"  bare aiohttp conditional GET loop:           {t_cond:.3f} s")
    print(f"  bare aiohttp unconditional GET loop:         {t_uncond:.3f} s")
    print(f"ratio infrawire fetch only / bare conditional:     {t_fetch / t_cond:.2f}")
    print(f"ratio infrawire fetch + parse / bare conditional:  {t_iw / t_cond:.2f}")
    print(f"ratio infrawire fetch + parse / bare unconditional: {t_iw / t_uncond:.2f}")
    print(f"bytes, conditional cycle:   {b_iw:,.0f}")
    print(f"bytes, unconditional cycle: {b_uncond:,.0f}")
    print(f"bytes saved vs unconditional polling: {100 * (1 - b_iw / b_uncond):.1f}%")
    heap = heap_peak / 1e6
    print(f"peak memory: {_peak_rss_mb():.0f} MB RSS (client process), {heap:.1f} MB Python heap in a cycle")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--changing", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_server_main, args=(child, args.feeds, args.changing, args.seed), daemon=True
    )
    server.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the bench server did not start")
        port = parent.recv()
        asyncio.run(run(args.feeds, args.rounds, args.concurrency, f"http://127.0.0.1:{port}"))
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
