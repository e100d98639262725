"""Polling cost, as ratios against baselines measured in the same run.

    python -m bench.poll [--feeds 1000] [--changing 0.05] [--rounds 9] [--concurrency 16]
                         [--latency MS]

A loopback aiohttp server (in its own process, so it does not share the client's event loop)
serves `--feeds` small RSS documents (10 items each) with ETags, in three sets of URLs; before
each measured cycle a fraction of one set (`--changing`, 5% by default) changes. Per round it
measures:

1. all new: one full conditional cycle through Fetcher (SSRF guard, limits, bounded body
   reading), then, as the pipeline does once every request is answered, parse_feeds_async of
   the changed bodies (one worker-thread job) and to_article of every item (another), all of
   them new (the worst case);
2. one new (the realistic case, on the second set of URLs): a changed feed gains one item and
   repeats nine it had. The pipeline's path: Fetcher, parse_feeds_async, then
   bot.pipeline.unknown_articles_many against a real SQLite store holding every earlier item
   (the whole cycle's lookups share three or four queries), so only the new item is
   normalised, and insert_many stores the new items;
3. Pipeline.poll_due (the real poll, on a third set of URLs and its own store): like case 2,
   plus each feed's schedule and validators written to the store and each new item triaged
   (these feeds carry local news, so no story building: bench/core.py measures that);
4. fetch only: the conditional Fetcher cycle without parsing;
5. bare conditional: a plain aiohttp GET loop with If-None-Match and the same concurrency,
   no parsing (the floor for the same HTTP work);
6. bare unconditional: a plain aiohttp GET loop downloading every body (what polling without
   ETags costs).

It prints the cycle-time ratios against the bare conditional loop, the bytes transferred by
the conditional cycle against the unconditional one (counted by the server: status line,
headers and body), and peak memory.

By default the server answers at loopback speed, so a cycle costs only CPU time and every
microsecond the poller spends beyond HTTP shows in the ratios: the worst case. `--latency MS`
delays each response as a server across the internet would; the cycle is then bound by waiting
for answers (`make bench` runs both).

Where the time goes beyond the bare loop: the Fetcher itself costs about what the bare loop
costs per request (it hands aiohttp each feed's URL already parsed, checks a connection's peer
once rather than per request, and keeps the read limit with one watch over the requests in
flight instead of aiohttp's sock_read, which made and cancelled two timers per request).
Parsing a 10-item RSS document costs ~0.2 ms on the expat fast path (bot/ingest/fastxml.py;
feedparser, which takes every document the fast path does not, needs ~4 ms), and to_article
~0.1 ms per item (HTML to text, mojibake repair, hashing). Parsing waits until the cycle's
requests are done: a worker thread parsing while the event loop still has requests in flight
makes the loop wait for the GIL at every socket call, which cost more than the parsing itself.
In the Pipeline case, a 1,000-feed poll also claims its due feeds (one UPDATE ... RETURNING of
the twelve columns a poll uses, which moves each one's next check on before the fetch, for
crash safety: ~8 ms), writes each 304's real next check while the changed bodies are parsed
(~5 ms, about half of it in SQLite, off the GIL), skips the items of each changed feed's last
body without a query (the parser reads no more of them than their guids and dates), and
triages the new items with their story features (~0.3 ms each).
The store copies its write-ahead log back into
the database file on a worker thread after the poll (as bot.app opens it), and the objects
alive after set-up are frozen out of the garbage collector's full passes (as bot.app does):
without that, a poll spent ~15 ms in the collector instead of ~5.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from bot.app import freeze_startup_objects
from bot.config import PollSettings, Settings
from bot.core.taxonomy import load_vocabulary
from bot.ingest.fetch import Fetcher
from bot.ingest.parse import FeedDocument, ParsedFeed, parse_feeds_async, to_article
from bot.pipeline import Pipeline, unknown_articles_many
from bot.store import Store
from bot.store.feeds import Feed

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

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


# Local news for the Pipeline case: triaged like any item, but not AI infrastructure, so the
# case measures polling (fetch, parse, dedup, feed state, triage) and not story building, which
# bench/core.py measures. (Random mixes of the sentences above would all read as one event and
# pile into a handful of ever-growing stories, which no real feed set does.)
LOCAL_SUBJECTS = ("The bakery", "A football club", "The library", "A theatre", "The farmers' market")
LOCAL_ACTIONS = (
    "opened on Sundays",
    "won its derby",
    "extended its hours",
    "announced a summer festival",
    "repainted its front",
)


def feed_body(
    index: int, version: int, items: int = 10, *, sliding: bool = False, local: bool = False
) -> bytes:
    """Feed `index` at `version`: all items new at each version, or (sliding) the newest
    `items` of a series that gains one item per version, the older ones byte-identical."""
    entries = []
    subjects, actions = (LOCAL_SUBJECTS, LOCAL_ACTIONS) if local else (SUBJECTS, ACTIONS)
    for n in range(items):
        serial = version + items - 1 - n if sliding else version * items + n
        rng = random.Random(index * 1_000_003 + serial * 7_919 + (1 if sliding else 0))
        title = f"{rng.choice(subjects)} {rng.choice(actions)} (update {serial})"
        text = " ".join(f"{rng.choice(subjects)} {rng.choice(actions)}." for _ in range(4))
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://outlet{index}.example/news/{serial}?utm_source=rss</link>"
            f'<guid isPermaLink="false">outlet{index}-{serial}</guid>'
            f"<pubDate>Sat, 21 Nov 2026 {serial % 24:02d}:00:00 GMT</pubDate>"
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
class _FeedSet:
    sliding: bool
    local: bool
    versions: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def etag(self, index: int) -> str:
        return f'"{index}-{self.versions[index]}"'


@dataclass
class _ServerState:
    feeds: int
    sets: dict[str, _FeedSet] = field(default_factory=dict)
    bytes_sent: int = 0
    responses: dict[int, int] = field(default_factory=dict)


def _response_size(status: int, headers: dict[str, str], body: bytes) -> int:
    # Status line, headers as sent on the wire, blank line, body.
    size = len(f"HTTP/1.1 {status} X\r\n") + 2 + len(body)
    return size + sum(len(k) + len(v) + 4 for k, v in headers.items())


async def _serve(conn: Connection, feeds: int, changing: float, seed: int, latency_s: float = 0.0) -> None:
    state = _ServerState(feeds)
    for name, sliding, local in (("feed", False, False), ("slide", True, False), ("pipe", True, True)):
        state.sets[name] = _FeedSet(
            sliding, local, [0] * feeds, [feed_body(i, 0, sliding=sliding, local=local) for i in range(feeds)]
        )
    rng = random.Random(seed)

    async def feed(request: web.Request) -> web.StreamResponse:
        if latency_s:
            await asyncio.sleep(latency_s)  # a server across the internet, not on loopback
        index = int(request.match_info["index"])
        fs = state.sets[request.match_info["set"]]
        etag = fs.etag(index)
        base = {"ETag": etag, "Date": "Sun, 22 Nov 2026 12:00:00 GMT", "Server": "bench"}
        if request.headers.get("If-None-Match") == etag:
            status, headers, body = 304, base, b""
        else:
            status = 200
            headers = {**base, "Content-Type": "application/rss+xml; charset=utf-8"}
            body = fs.bodies[index]
            headers["Content-Length"] = str(len(body))
        state.bytes_sent += _response_size(status, headers, body)
        state.responses[status] = state.responses.get(status, 0) + 1
        return web.Response(status=status, headers=headers, body=body)

    async def change(request: web.Request) -> web.StreamResponse:
        fs = state.sets[request.query.get("set", "feed")]
        for index in rng.sample(range(feeds), max(1, round(feeds * changing))):
            fs.versions[index] += 1
            fs.bodies[index] = feed_body(index, fs.versions[index], sliding=fs.sliding, local=fs.local)
        return web.json_response({})

    async def stats(request: web.Request) -> web.StreamResponse:
        out = {"bytes": state.bytes_sent, "responses": state.responses}
        state.bytes_sent, state.responses = 0, {}
        return web.json_response(out)

    app = web.Application()
    app.router.add_get("/{set:feed|slide|pipe}/{index}.xml", feed)
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


def _server_main(conn: Connection, feeds: int, changing: float, seed: int, latency_s: float = 0.0) -> None:
    asyncio.run(_serve(conn, feeds, changing, seed, latency_s))


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
        self.slide_urls = [f"{base}/slide/{i}.xml" for i in range(feeds)]
        self.pipe_urls = [f"{base}/pipe/{i}.xml" for i in range(feeds)]
        self.concurrency = concurrency
        self.etags: dict[str, str | None] = dict.fromkeys(self.urls + self.slide_urls)
        self.control = aiohttp.ClientSession()
        self.store: Store | None = None
        self.feeds: dict[str, Feed] = {}
        self.pipeline: Pipeline | None = None
        self.pipeline_now = NOW
        self.pipeline_relevant = 0

    async def change(self, feed_set: str = "feed") -> None:
        async with self.control.post(f"{self.base}/_change", params={"set": feed_set}) as resp:
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
        """As the pipeline polls: every request concurrently, then the changed bodies parsed in
        one worker-thread job and their items normalised in another."""

        async def one(url: str) -> FeedDocument | None:
            result = await fetcher.fetch(url, etag=self.etags[url], allow_private=True)
            if result.not_modified:
                return None
            self.etags[url] = result.etag
            return FeedDocument(result.body, result.final_url, result.content_type)

        async def work() -> int:
            docs = [d for d in await asyncio.gather(*(one(u) for u in self.urls)) if d is not None]
            if not parse:
                return 0
            feeds = [f for f in await parse_feeds_async(docs) if isinstance(f, ParsedFeed)]
            articles = await asyncio.to_thread(lambda: [to_article(i, f) for f in feeds for i in f.items])
            return len(articles)

        return await self._measure(work)

    async def open_store(self, path: str) -> None:
        """A real store with one feed row per sliding URL (the pipeline's known-item lookups)."""
        self.store = await Store.open(path)
        for url in self.slide_urls:
            self.feeds[url] = await self.store.feeds.add(url, now=NOW, allow_private=True)
        await self.store.conn.commit()

    async def one_new(self, fetcher: Fetcher) -> Cycle:
        """The pipeline's path for the sliding feeds: concurrent fetch, one parse job, then the
        known items skipped and the new ones normalised and stored, in batch for all feeds."""
        store = self.store
        assert store is not None

        async def one(url: str) -> tuple[str, FeedDocument] | None:
            result = await fetcher.fetch(url, etag=self.etags[url], allow_private=True)
            if result.not_modified:
                return None
            self.etags[url] = result.etag
            return url, FeedDocument(result.body, result.final_url, result.content_type)

        async def work() -> int:
            changed = [d for d in await asyncio.gather(*(one(u) for u in self.slide_urls)) if d is not None]
            parsed = await parse_feeds_async([doc for _, doc in changed])
            batch = [
                (self.feeds[url], feed)
                for (url, _), feed in zip(changed, parsed, strict=True)
                if isinstance(feed, ParsedFeed)
            ]
            unknown = await unknown_articles_many(store.articles, batch)
            fresh = [article for articles, _ in unknown.values() for article in articles]
            await store.articles.insert_many(((a, None, True) for a in fresh), fetched=NOW)
            await store.conn.commit()
            return sum(count for _, count in unknown.values())

        return await self._measure(work)

    async def open_pipeline(self, path: str, fetcher: Fetcher, poll: PollSettings) -> None:
        """The real Pipeline over its own store, one feed row per "pipe" URL."""
        store = await Store.open(path, background_checkpoints=True)  # as bot.app opens it
        for url in self.pipe_urls:
            await store.feeds.add(url, now=NOW, allow_private=True)
        # The bench's clock jumps a day per poll while its items keep their dates: a long
        # retention keeps them news (the pipeline passes over items older than retention).
        settings = Settings.model_validate({"poll": poll.model_dump(), "store": {"retention_days": 3650}})
        self.pipeline = Pipeline(store, settings, load_vocabulary(), fetcher, rng=random.Random(0))
        freeze_startup_objects()  # as bot.app does once the bot is set up

    async def poll_pipeline(self) -> Cycle:
        """One Pipeline.poll_due of every feed: fetch, parse, skip known items, the feeds' state
        in the store, and each new item through the core (triage, story, card) into the store."""
        pipeline = self.pipeline
        assert pipeline is not None
        # Every feed due: a day on (the longest interval the schedule may choose) and a minute.
        # (run() checks that each poll triaged every new item.)
        self.pipeline_now += timedelta(days=1, minutes=1)

        async def work() -> int:
            report = await pipeline.poll_due(self.pipeline_now, limit=len(self.pipe_urls))
            self.pipeline_relevant += report.relevant
            return report.new_articles

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
        if self.store is not None:
            await self.store.close()
        if self.pipeline is not None:
            await self.pipeline.store.close()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def run(
    feeds: int, changing: float, rounds: int, concurrency: int, base: str, latency_ms: float = 0.0
) -> None:
    settings = PollSettings.model_validate(
        {"global_concurrency": concurrency, "per_host_concurrency": concurrency}
    )
    bench = Bench(base, feeds, concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    bare_session = aiohttp.ClientSession(connector=connector)
    rows: dict[str, list[Cycle]] = {
        "infrawire": [],
        "one_new": [],
        "pipeline": [],
        "infrawire_fetch": [],
        "bare_conditional": [],
        "bare_unconditional": [],
    }
    tmp = tempfile.TemporaryDirectory(prefix="infrawire-bench-")
    try:
        async with Fetcher(settings) as fetcher:
            prime = await bench.infrawire(fetcher, parse=False)  # the first poll: every ETag learnt
            await bench.bare(bare_session, conditional=False)  # warm the bare client's connections
            print(f"first (unconditional) fetch of every feed: {prime.seconds:.2f} s, {prime.bytes:,} bytes")
            await bench.open_store(f"{tmp.name}/bench.db")
            stored = await bench.one_new(fetcher)  # the sliding feeds' first poll: every item stored
            items = stored.parsed_articles
            print(f"first poll of the sliding feeds into the store: {stored.seconds:.2f} s, {items:,} items")
            await bench.open_pipeline(f"{tmp.name}/pipeline.db", fetcher, settings)
            first = await bench.poll_pipeline()
            print(f"first Pipeline poll of its feeds: {first.seconds:.2f} s, {first.parsed_articles:,} items")
            names = list(rows)
            changed = max(1, round(feeds * changing))  # as the server picks them
            for round_no in range(rounds):
                # Rotate the order so no variant always runs right after the same one.
                for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
                    await bench.change({"one_new": "slide", "pipeline": "pipe"}.get(name, "feed"))
                    if name == "infrawire":
                        cycle = await bench.infrawire(fetcher)
                    elif name == "one_new":
                        cycle = await bench.one_new(fetcher)
                    elif name == "pipeline":
                        cycle = await bench.poll_pipeline()
                        if cycle.parsed_articles != changed:
                            raise SystemExit(
                                f"bench.poll: a Pipeline poll triaged {cycle.parsed_articles} new items,"
                                f" not the {changed} its changed feeds gained"
                            )
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
        tmp.cleanup()

    def median(name: str, attr: str) -> float:
        return statistics.median(float(getattr(c, attr)) for c in rows[name])

    def paired(name: str) -> float:
        # Each round's ratio to the bare loop of the same round (run next to it), then the median:
        # steadier than a ratio of medians when other work on the machine comes and goes.
        pairs = zip(rows[name], rows["bare_conditional"], strict=True)
        return statistics.median(c.seconds / b.seconds for c, b in pairs)

    t_iw, t_one, t_pipe, t_fetch, t_cond, t_uncond = (median(n, "seconds") for n in rows)
    b_iw, b_uncond = median("infrawire", "bytes"), median("bare_unconditional", "bytes")
    last = rows["infrawire"][-1]
    print(f"feeds: {feeds}, changing per cycle: {last.responses.get('200', 0)}, concurrency: {concurrency}")
    if latency_ms:
        print(f"server latency: {latency_ms:g} ms per response")
    print(f"rounds: {rounds} (medians below)")
    parsed = last.parsed_articles
    one = rows["one_new"][-1].parsed_articles
    print(f"  all new: fetch + parse + to_article of all:  {t_iw:.3f} s  ({parsed} articles normalised)")
    print(f"  one new: fetch + parse + skip known + new:   {t_one:.3f} s  ({one} articles normalised)")
    pipe = rows["pipeline"][-1].parsed_articles
    print(f"  Pipeline.poll_due, one new per change:       {t_pipe:.3f} s  ({pipe} articles triaged)")
    print(f"  infrawire fetch only (no parse):             {t_fetch:.3f} s")
    print(f"  bare aiohttp conditional GET loop:           {t_cond:.3f} s")
    print(f"  bare aiohttp unconditional GET loop:         {t_uncond:.3f} s")
    print("ratios to the bare conditional loop (of medians; median of per-round ratios):")
    print(f"  fetch only:           {t_fetch / t_cond:.2f}; {paired('infrawire_fetch'):.2f}")
    print(f"  one new:              {t_one / t_cond:.2f}; {paired('one_new'):.2f}")
    print(f"  Pipeline.poll_due:    {t_pipe / t_cond:.2f}; {paired('pipeline'):.2f}")
    print(f"  all new:              {t_iw / t_cond:.2f}; {paired('infrawire'):.2f}")
    print(f"ratio all new / bare unconditional:                {t_iw / t_uncond:.2f}")
    print(f"bytes, conditional cycle:   {b_iw:,.0f}")
    print(f"bytes, unconditional cycle: {b_uncond:,.0f}")
    print(f"bytes saved vs unconditional polling: {100 * (1 - b_iw / b_uncond):.1f}%")
    relevant = bench.pipeline_relevant
    print(f"Pipeline case: {relevant} of its new items were relevant (story building: bench/core.py)")
    heap = heap_peak / 1e6
    print(f"peak memory: {_peak_rss_mb():.0f} MB RSS (client process), {heap:.1f} MB Python heap in a cycle")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--changing", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay each feed response by MS milliseconds, as a server across the internet would"
        " (0: loopback speed, where only CPU time counts: the worst case for the ratios)",
    )
    args = parser.parse_args(argv)
    if args.latency < 0:
        parser.error("--latency must be at least 0")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_server_main,
        args=(child, args.feeds, args.changing, args.seed, args.latency / 1000),
        daemon=True,
    )
    server.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the bench server did not start")
        port = parent.recv()
        base = f"http://127.0.0.1:{port}"
        asyncio.run(run(args.feeds, args.changing, args.rounds, args.concurrency, base, args.latency))
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
