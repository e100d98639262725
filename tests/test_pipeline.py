from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import close_fetcher, make_fetcher
from bot.config import Settings, parse_settings
from bot.models import Article
from bot.pipeline import Pipeline
from bot.store import Store
from bot.store.retention import prune
from bot.store.stories import StoryUpdate

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

EXPORT_A = (
    "US tightens export rules on Nvidia H20 AI chips to China",
    "The Commerce Department's Bureau of Industry and Security said on Tuesday that exports of Nvidia H20 "
    "accelerators and similar AI chips to China now need a license. Nvidia expects a $5.5 billion charge "
    "from the export controls on its data center GPUs.",
)
EXPORT_B = (
    "Commerce requires licenses for Nvidia H20 exports to China",
    "Nvidia said the US Commerce Department now requires a license to export its H20 AI chips to China, "
    "under new export controls from the Bureau of Industry and Security. The company expects a $5.5 billion "
    "charge; AMD said its MI308 accelerators are covered too.",
)
CAMPUS = (
    "Microsoft starts building a 1.2 GW AI data center campus in Texas",
    "Microsoft began construction of a 1.2 GW data center campus in Abilene, Texas, designed to hold about "
    "100,000 GPUs for AI training. A new 900 MW gas plant will power the site.",
)
BAKERY = ("Bakery wins pastry award", "A neighbourhood bakery won first prize for its croissants on Sunday.")


@dataclass
class Item:
    guid: str
    title: str
    text: str
    published: datetime
    link: str


def rss(title: str, items: list[Item]) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
    ]
    for item in items:
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f"<guid>{escape(item.guid)}</guid><pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{escape(item.text)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@dataclass
class FeedServer:
    """Loopback feeds: path -> (status, body); honours If-None-Match; counts requests."""

    bodies: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        status = self.statuses.get(name, 200)
        if status != 200:
            return web.Response(status=status, text="error")
        body = self.bodies[name]
        etag = f'"{abs(hash(body)):x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    def url(self, name: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/{name}"))


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    fs = FeedServer()
    app = web.Application()

    async def route(request: web.Request) -> web.StreamResponse:
        return await fs.handle(request)  # late-bound: a test may swap the handler

    app.router.add_get("/{name}", route)
    fs.server = TestServer(app, host="127.0.0.1")
    await fs.server.start_server()
    yield fs
    await fs.server.close()


def settings_for(tmp_path: Path, **poll: object) -> Settings:
    return parse_settings({"store": {"path": str(tmp_path / "t.db")}, "poll": poll})


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    opened: list[tuple[Store, object]] = []

    async def make(**poll: object) -> tuple[Store, Pipeline]:
        from bot.core.taxonomy import load_vocabulary

        settings = settings_for(tmp_path, **poll)
        store = await Store.open(settings.store.path)
        fetcher = make_fetcher(settings)
        opened.append((store, fetcher))
        return store, Pipeline(store, settings, load_vocabulary(), fetcher)

    yield make
    for store, fetcher in opened:
        await close_fetcher(fetcher)
        await store.close()


def item(n: int, pair: tuple[str, str], hours_ago: float, site: str = "a") -> Item:
    return Item(
        f"{site}-{n}", pair[0], pair[1], NOW - timedelta(hours=hours_ago), f"https://{site}.example/{n}"
    )


async def all_updates(store: Store) -> list[StoryUpdate]:
    """Every story update in order (routing may already have marked them routed)."""
    async with store.conn.execute("SELECT DISTINCT story_id FROM story_updates") as cur:
        ids = [row[0] for row in await cur.fetchall()]
    found = [u for story_id in ids for u in await store.stories.updates(story_id)]
    return sorted(found, key=lambda u: u.id)


async def test_first_poll_stores_everything_but_alerts_only_recent_few(env, feeds: FeedServer) -> None:
    store, pipeline = await env(first_poll_max_alerts=1, max_age_hours=24)
    feeds.bodies["a"] = rss(
        "Outlet A",
        [item(1, EXPORT_A, 2), item(2, CAMPUS, 5), item(3, BAKERY, 3), item(4, CAMPUS, 300, "old")],
    )
    feed = await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True)
    report = await pipeline.poll_due(NOW)
    assert [f.status for f in report.feeds] == ["new"]
    assert report.new_articles == 3  # the old campus copy has the same text as item 2: a duplicate
    assert report.relevant == 2
    stored = await store.articles.recent(NOW - timedelta(days=30))
    alertable = {s.article.title for s in stored if s.alertable}
    assert alertable == {EXPORT_A[0]}  # newest relevant... at most one, within max_age
    # Only the alertable story is announced to routing.
    assert [u.kind for u in await all_updates(store)] == ["created"]
    after = await store.feeds.get(feed.id)
    assert after is not None and after.first_poll_done and after.title == "Outlet A" and after.etag
    assert after.next_check_at > NOW


async def test_conditional_get_and_rewritten_guids_make_no_duplicates(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 2), item(2, CAMPUS, 4)])
    feed = await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    await pipeline.poll_due(NOW)
    later = NOW + timedelta(days=1)
    report = await pipeline.poll_due(later)
    assert [f.status for f in report.feeds] == ["not_modified"]
    # The feed rewrites every GUID and timestamp (and adds tracking to a link): still nothing new.
    rewritten = [
        Item("x" + i.guid, i.title, i.text, i.published + timedelta(hours=7), i.link)
        for i in (item(1, EXPORT_A, 2), item(2, CAMPUS, 4))
    ]
    feeds.bodies["a"] = rss("Outlet A", rewritten)
    report = await pipeline.poll_due(later + timedelta(days=1))
    assert [f.status for f in report.feeds] == ["unchanged"] and report.new_articles == 0
    assert await store.articles.count() == 2
    assert feeds.hits["a"] == 3
    assert (await store.feeds.get(feed.id)) is not None


async def test_two_outlets_one_story_and_an_outlet_update(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 6)])
    feeds.bodies["b"] = rss("Outlet B", [item(1, EXPORT_B, 3, site="b")])
    for name in ("a", "b"):
        await store.feeds.add(feeds.url(name), now=NOW, allow_private=True, backfill=True)
    report = await pipeline.poll_due(NOW)
    assert report.relevant == 2
    assert len(report.stories_created) == 1 and report.stories_updated == []
    story = await store.stories.get(report.stories_created[0])
    assert story is not None and story.card is not None
    assert {s.name for s in story.sources} >= {"Outlet A", "Outlet B"}
    assert len(story.article_ids) == 2 and "export-controls" in story.topics
    kinds = [u.kind for u in await all_updates(store)]
    assert kinds[0] == "created" and kinds[1] == "outlet"


async def test_restart_restores_the_story_index(env, feeds: FeedServer, tmp_path: Path) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 6)])
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = await pipeline.poll_due(NOW)
    # A new process: a fresh store connection and pipeline over the same file.
    store2, pipeline2 = await env()
    feeds.bodies["b"] = rss("Outlet B", [item(1, EXPORT_B, 1, site="b")])
    await store2.feeds.add(feeds.url("b"), now=NOW, allow_private=True, backfill=True)
    second = await pipeline2.poll_due(NOW + timedelta(minutes=1))
    assert second.stories_created == [] and second.stories_updated == first.stories_created


async def test_failures_back_off_then_disable_with_reason(env, feeds: FeedServer) -> None:
    store, pipeline = await env(max_consecutive_errors=2, interval_s=600, max_interval_s=86400)
    feeds.statuses["down"] = 500
    feed = await store.feeds.add(feeds.url("down"), now=NOW, allow_private=True)
    report = await pipeline.poll_due(NOW)
    assert [f.status for f in report.feeds] == ["error"]
    failed = await store.feeds.get(feed.id)
    assert failed is not None and failed.error_count == 1 and failed.enabled
    assert failed.next_check_at >= NOW + timedelta(seconds=0.75 * 600)  # backed off, not due at once
    assert await pipeline.poll_due(NOW + timedelta(seconds=1)) == type(report)()  # nothing due
    report = await pipeline.poll_due(failed.next_check_at)
    assert [f.status for f in report.feeds] == ["disabled"]
    gone = await store.feeds.get(feed.id)
    assert gone is not None and not gone.enabled and gone.disabled_reason is not None
    assert "2 consecutive failures" in gone.disabled_reason and "500" in gone.disabled_reason
    assert await store.feeds.due(NOW + timedelta(days=30)) == []


async def test_one_broken_feed_does_not_stop_the_others(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    feeds.statuses["down"] = 404
    feeds.bodies["a"] = rss("Outlet A", [item(1, CAMPUS, 1)])
    feeds.bodies["junk"] = b"<html><body>not a feed</body></html>"
    for name in ("down", "a", "junk"):
        await store.feeds.add(feeds.url(name), now=NOW, allow_private=True, backfill=True)
    report = await pipeline.poll_due(NOW)
    statuses = {f.url.rsplit("/", 1)[1]: f.status for f in report.feeds}
    assert statuses["a"] == "new" and statuses["down"] in ("error", "disabled")
    assert statuses["junk"] in ("error", "disabled", "unchanged")
    assert report.relevant == 1


async def test_next_check_is_set_before_the_fetch(env, feeds: FeedServer, tmp_path: Path) -> None:
    store, pipeline = await env(interval_s=900)
    seen: list[str] = []
    original = feeds.handle

    async def spy(request: web.Request) -> web.StreamResponse:
        # While the request is in flight, another reader of the file already sees the new schedule.
        with sqlite3.connect(tmp_path / "t.db") as conn:
            seen.append(conn.execute("SELECT next_check_at FROM feeds").fetchone()[0])
        return await original(request)

    feeds.handle = spy  # type: ignore[method-assign]
    feeds.statuses["a"] = 503
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True)
    await pipeline.poll_due(NOW)
    assert len(seen) == 1 and datetime.fromisoformat(seen[0]) > NOW


async def test_new_and_updated_stories_are_routed_to_subscriptions(env, feeds: FeedServer) -> None:
    from bot.models import Subscription

    store, pipeline = await env()
    sub = await store.subscriptions.save(
        Subscription(id=0, platform="console", channel="c1", min_importance=0), now=NOW
    )
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 6)])
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = await pipeline.poll_due(NOW)
    assert first.deliveries == 1
    [alert] = await store.deliveries.for_subscription(sub.id)
    assert alert.kind == "alert" and alert.story_id == first.stories_created[0]
    # Another outlet adds figures (AMD's MI308): one follow-up for the same story, not a new alert.
    feeds.bodies["b"] = rss("Outlet B", [item(1, EXPORT_B, 1, site="b")])
    await store.feeds.add(feeds.url("b"), now=NOW, allow_private=True, backfill=True)
    second = await pipeline.poll_due(NOW + timedelta(minutes=5))
    assert second.stories_updated == first.stories_created
    kinds = [d.kind for d in await store.deliveries.for_subscription(sub.id)]
    assert kinds.count("alert") == 1 and kinds.count("followup") <= 1


async def test_a_chat_feed_that_points_at_a_private_address_is_disabled_at_once(
    env, feeds: FeedServer
) -> None:
    store, pipeline = await env(max_consecutive_errors=5)
    feeds.bodies["a"] = rss("Outlet A", [item(1, CAMPUS, 1)])
    feed = await store.feeds.add(feeds.url("a"), now=NOW, added_by="slack:U1")  # no allow_private
    report = await pipeline.poll_due(NOW)
    assert [f.status for f in report.feeds] == ["disabled"]
    assert feeds.hits.get("a", 0) == 0  # refused before any request was sent
    gone = await store.feeds.get(feed.id)
    assert gone is not None and gone.disabled_reason is not None and "127.0.0.1" in gone.disabled_reason
    assert await store.articles.count() == 0


async def test_feedparser_corpus_through_the_whole_poll_path(env, tmp_path: Path) -> None:
    """Every feedparser test document as a feed of its own, in one poll: no crash, no hang, each
    feed ends ok, not modified, or failing with a reason; the store stays consistent."""
    corpus_tests = pytest.importorskip("tests.ingest.test_feedparser_corpus")
    corpus = corpus_tests.CORPUS
    if corpus is None:
        pytest.skip("the feedparser test corpus (../shared) is absent")
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "LICENSE")
    base: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        path = (corpus / request.path.removeprefix("/tests/")).resolve()
        if not path.is_relative_to(corpus) or not path.is_file():
            return web.Response(status=404)
        data = path.read_bytes()
        served = corpus_tests.describe(data, path, base[0])
        body = b"" if served.status in (204, 304) else data
        try:
            return web.Response(status=served.status, body=body, headers=served.headers)
        except ValueError:
            return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base.append(f"http://127.0.0.1:{server.port}")
    try:
        store, pipeline = await env(
            per_host_concurrency=16, global_concurrency=16, total_timeout_s=20, max_redirects=5
        )
        for path in files:
            url = f"{base[0]}/tests/{path.relative_to(corpus).as_posix()}"
            await store.feeds.add(url, now=NOW, allow_private=True, backfill=True)
        report = await pipeline.poll_due(NOW, limit=len(files))
    finally:
        await server.close()
    assert len(report.feeds) == len(files)
    crashed = [f"{f.url}: {f.error}" for f in report.feeds if f.error and "internal error" in f.error]
    assert crashed == []
    ok = sum(1 for f in report.feeds if f.status in ("new", "unchanged", "not_modified"))
    assert ok > len(files) // 2
    assert await store.articles.count() == report.new_articles


EARNINGS = (
    "Nvidia reports record quarterly revenue on data center GPU demand",
    "Nvidia reported record quarterly revenue of $57 billion, driven by data center GPU sales to cloud "
    "providers. The company guided above estimates for the next quarter.",
)


async def test_a_later_story_about_the_same_entity_carries_the_earlier_one_in_its_timeline(
    env, feeds: FeedServer
) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 24 * 6)])
    before = NOW - timedelta(days=5)
    feed = await store.feeds.add(feeds.url("a"), now=before, allow_private=True, backfill=True)
    first = await pipeline.poll_due(before)
    [earlier_id] = first.stories_created
    earlier = await store.stories.get(earlier_id)
    assert earlier is not None and await store.stories.main_entity(earlier_id) == "Nvidia"
    feeds.bodies["a"] = rss("Outlet A", [item(1, EXPORT_A, 24 * 6), item(2, EARNINGS, 1)])
    await store.feeds.enable(feed.id, now=NOW)  # due now
    second = await pipeline.poll_due(NOW)
    [later_id] = second.stories_created
    later = await store.stories.get(later_id)
    assert later is not None and later.card is not None and later_id != earlier_id
    dates = {(t.date, t.event) for t in later.card.timeline}
    assert (earlier.first_seen.date().isoformat(), earlier.title) in dates


async def test_a_failure_while_storing_loses_nothing_the_feed_is_fetched_again(
    env, feeds: FeedServer
) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, CAMPUS, 2), item(2, EXPORT_A, 1)])
    feed = await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    # The database refuses one of the items mid-poll (think: disk full), so the poll fails part way.
    await store.conn.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title LIKE 'US tightens%'"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        await pipeline.poll_due(NOW)
    failed = await store.feeds.get(feed.id)
    assert failed is not None and failed.etag is None  # validators not advanced: nothing is skipped
    await store.conn.execute("DROP TRIGGER refuse")
    report = await pipeline.poll_due(failed.next_check_at)
    assert [f.status for f in report.feeds] == ["new"] and feeds.hits["a"] == 2
    titles = {s.article.title for s in await store.articles.recent(NOW - timedelta(days=1))}
    assert titles == {CAMPUS[0], EXPORT_A[0]}
    done = await store.feeds.get(feed.id)
    assert done is not None and done.etag is not None


async def test_a_repoll_normalises_only_the_items_the_store_does_not_hold(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    old = [item(1, EXPORT_A, 6), item(2, CAMPUS, 5), item(3, BAKERY, 4)]
    feeds.bodies["a"] = rss("Outlet A", old)
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = await pipeline.poll_due(NOW)
    assert (first.feeds[0].normalised, first.feeds[0].new_articles) == (3, 3)
    # One new item on top of the three known ones: only that one is cleaned up and hashed.
    feeds.bodies["a"] = rss("Outlet A", [item(4, EXPORT_B, 1), *old])
    second = (await pipeline.poll_due(NOW + timedelta(days=1))).feeds[0]
    assert (second.items, second.normalised, second.new_articles) == (4, 1, 1)
    stored = {s.article.title for s in await store.articles.recent(NOW - timedelta(days=30))}
    assert stored == {EXPORT_A[0], CAMPUS[0], BAKERY[0], EXPORT_B[0]}
    # New GUIDs on known links: recognised by the canonical URL, still before normalising.
    feeds.bodies["a"] = rss(
        "Outlet A", [Item("y" + i.guid, i.title, i.text, i.published, i.link) for i in old]
    )
    third = (await pipeline.poll_due(NOW + timedelta(days=2))).feeds[0]
    assert (third.normalised, third.new_articles) == (0, 0)
    # New GUIDs and new links, same text: normalised, then refused by the content hash.
    moved = [Item("z" + i.guid, i.title, i.text, i.published, i.link + "-moved") for i in old]
    feeds.bodies["a"] = rss("Outlet A", moved)
    fourth = (await pipeline.poll_due(NOW + timedelta(days=3))).feeds[0]
    assert (fourth.normalised, fourth.new_articles) == (3, 0)
    assert await store.articles.count() == 4


async def test_a_feeds_ttl_holds_after_304s_and_after_a_restart(env, feeds: FeedServer) -> None:
    store, pipeline = await env(jitter=0)
    # Items an hour apart: the feed's own pace would allow a check every half hour.
    body = rss("Outlet A", [item(1, EXPORT_A, 1), item(2, CAMPUS, 2), item(3, BAKERY, 3)])
    feeds.bodies["a"] = body.replace(b"</title>", b"</title><ttl>120</ttl>", 1)
    added = await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True)
    assert [f.status for f in (await pipeline.poll_due(NOW)).feeds] == ["new"]
    first = await store.feeds.get(added.id)
    assert first is not None and first.ttl_s == 7200 and first.next_check_at == NOW + timedelta(hours=2)
    # A 304 carries no body; the feed's two hours still hold.
    report = await pipeline.poll_due(first.next_check_at)
    assert [f.status for f in report.feeds] == ["not_modified"]
    second = await store.feeds.get(added.id)
    assert second is not None and second.next_check_at == first.next_check_at + timedelta(hours=2)
    # So they do for a new process, which has not seen the body.
    restarted = Pipeline(store, pipeline.settings, pipeline.vocab, pipeline.fetcher)
    report = await restarted.poll_due(second.next_check_at)
    assert [f.status for f in report.feeds] == ["not_modified"]
    third = await store.feeds.get(added.id)
    assert third is not None and third.next_check_at == second.next_check_at + timedelta(hours=2)


async def test_items_of_the_last_body_stay_known_after_retention_pruned_them(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    old = [item(1, BAKERY, 6), item(2, CAMPUS, 5)]
    feeds.bodies["a"] = rss("Outlet A", old)
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = (await pipeline.poll_due(NOW)).feeds[0]
    assert first.new_articles == 2
    # Retention runs while the feed still lists both items: the store forgets them.
    assert await prune(store.conn, now=NOW + timedelta(days=200), days=90) == 2
    assert await store.articles.count() == 0
    # The feed gains an item. The two it listed last time were stored then, so they are not
    # news again (the store alone could no longer tell).
    feeds.bodies["a"] = rss("Outlet A", [item(3, EXPORT_A, 1), *old])
    second = (await pipeline.poll_due(NOW + timedelta(days=1))).feeds[0]
    assert (second.items, second.normalised, second.new_articles) == (3, 1, 1)
    assert [s.article.title for s in await store.articles.recent(NOW - timedelta(days=1))] == [EXPORT_A[0]]


async def test_a_new_feed_that_gets_a_removed_feeds_id_starts_afresh(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    feeds.bodies["a"] = rss("Outlet A", [item(1, BAKERY, 6), item(2, CAMPUS, 5)])
    gone = await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    assert (await pipeline.poll_due(NOW)).feeds[0].new_articles == 2
    # SQLite hands a removed feed's id to the next feed added. This one uses the same guids
    # for its own items: they are new to it.
    await store.feeds.remove(gone.id)
    feeds.bodies["b"] = feeds.bodies["c"] = rss(
        "Outlet B",
        [
            Item("a-1", *EXPORT_A, NOW, "https://b.example/1"),
            Item("a-2", *EXPORT_B, NOW, "https://b.example/2"),
        ],
    )
    second = await store.feeds.add(feeds.url("b"), now=NOW, allow_private=True, backfill=True)
    assert second.id == gone.id
    report = (await pipeline.poll_due(NOW + timedelta(hours=1))).feeds[0]
    assert (report.items, report.new_articles) == (2, 2)
    # And the same bytes from a third URL under that id are parsed, not taken for the last body
    # (their items are known by their links).
    await store.feeds.remove(second.id)
    third = await store.feeds.add(feeds.url("c"), now=NOW, allow_private=True, backfill=True)
    assert third.id == gone.id
    report = (await pipeline.poll_due(NOW + timedelta(hours=2))).feeds[0]
    assert (report.same_body, report.items, report.new_articles) == (False, 2, 0)
    assert await store.articles.count() == 4


async def test_after_a_restart_items_older_than_retention_are_not_news(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    then = NOW - timedelta(days=120)
    old = [
        Item("a-1", BAKERY[0], BAKERY[1], then - timedelta(hours=3), "https://a.example/1"),
        Item("a-2", CAMPUS[0], CAMPUS[1], then - timedelta(hours=2), "https://a.example/2"),
    ]
    feeds.bodies["a"] = rss("Outlet A", old)
    await store.feeds.add(feeds.url("a"), now=then, allow_private=True, backfill=True)
    assert (await pipeline.poll_due(then)).feeds[0].new_articles == 2
    assert await prune(store.conn, now=NOW, days=90) == 2
    # A new process (nothing in memory) polls the slow feed, which gained one item.
    restarted = Pipeline(store, pipeline.settings, pipeline.vocab, pipeline.fetcher)
    feeds.bodies["a"] = rss("Outlet A", [item(3, EXPORT_A, 1), *old])
    report = (await restarted.poll_due(NOW)).feeds[0]
    assert (report.items, report.normalised, report.new_articles) == (3, 1, 1)
    assert await store.articles.count() == 1


async def test_the_same_body_without_validators_is_not_parsed_again(env, feeds: FeedServer) -> None:
    store, pipeline = await env()
    served: dict[str, int] = {}

    async def no_validators(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        served[name] = served.get(name, 0) + 1
        assert "If-None-Match" not in request.headers and "If-Modified-Since" not in request.headers
        return web.Response(body=feeds.bodies[name], headers={"Content-Type": "application/rss+xml"})

    feeds.handle = no_validators  # type: ignore[method-assign]
    old = [item(1, EXPORT_A, 6), item(2, CAMPUS, 5)]
    feeds.bodies["a"] = rss("Outlet A", old)
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = (await pipeline.poll_due(NOW)).feeds[0]
    assert (first.status, first.same_body, first.items, first.new_articles) == ("new", False, 2, 2)
    # Fetched again (200, no validators to send), the same bytes: not parsed, nothing new.
    again = (await pipeline.poll_due(NOW + timedelta(days=1))).feeds[0]
    assert (again.status, again.same_body, again.items, again.new_articles) == ("unchanged", True, 0, 0)
    assert served["a"] == 2
    after = await store.feeds.get(first.feed_id)
    assert after is not None and after.next_check_at > NOW + timedelta(days=1)
    # A changed body is parsed and its new item stored.
    feeds.bodies["a"] = rss("Outlet A", [item(3, EXPORT_B, 1), *old])
    changed = (await pipeline.poll_due(NOW + timedelta(days=2))).feeds[0]
    assert (changed.same_body, changed.items, changed.new_articles) == (False, 3, 1)
    assert await store.articles.count() == 3


async def test_items_without_guids_are_known_by_their_canonical_link(env, feeds: FeedServer) -> None:
    store, pipeline = await env()

    def no_guids(items: list[Item]) -> bytes:
        body = rss("Outlet A", items).decode()
        for i in items:
            body = body.replace(f"<guid>{escape(i.guid)}</guid>", "")
        assert "<guid>" not in body
        return body.encode()

    old = [item(1, EXPORT_A, 6), item(2, CAMPUS, 5)]
    feeds.bodies["a"] = no_guids(old)
    await store.feeds.add(feeds.url("a"), now=NOW, allow_private=True, backfill=True)
    first = (await pipeline.poll_due(NOW)).feeds[0]
    assert (first.normalised, first.new_articles) == (2, 2)
    # The links gain tracking parameters; one item is new.
    tracked = [Item(i.guid, i.title, i.text, i.published, i.link + "?utm_source=rss") for i in old]
    feeds.bodies["a"] = no_guids([item(3, EXPORT_B, 1), *tracked])
    second = (await pipeline.poll_due(NOW + timedelta(days=1))).feeds[0]
    assert (second.items, second.normalised, second.new_articles) == (3, 1, 1)
    assert await store.articles.count() == 3


async def test_an_item_carried_by_two_feeds_is_one_article_in_one_poll_and_later(
    env, feeds: FeedServer
) -> None:
    store, pipeline = await env()
    shared = Item("wire-1", *CAMPUS, NOW - timedelta(hours=1), "https://wire.example/campus?utm_source=a")
    feeds.bodies["a"] = rss("Outlet A", [shared, item(2, BAKERY, 2)])
    feeds.bodies["b"] = rss(
        "Outlet B", [Item("b-77", *CAMPUS, shared.published, "https://wire.example/campus")]
    )
    for name in ("a", "b"):
        await store.feeds.add(feeds.url(name), now=NOW, allow_private=True, backfill=True)
    report = await pipeline.poll_due(NOW)
    assert report.new_articles == 2 and report.relevant == 1  # the campus once, the bakery once
    assert await store.articles.count() == 2
    # A third feed picks the same wire item up a day later, under its own guid and link tracking.
    feeds.bodies["c"] = rss(
        "Outlet C", [Item("c-5", *CAMPUS, shared.published, "https://wire.example/campus?ref=c")]
    )
    await store.feeds.add(feeds.url("c"), now=NOW, allow_private=True, backfill=True)
    later = await pipeline.poll_due(NOW + timedelta(days=1))
    assert later.new_articles == 0 and await store.articles.count() == 2
    assert {f.url.rsplit("/", 1)[1]: f.status for f in later.feeds}["c"] == "unchanged"


async def test_a_report_that_bridges_two_stories_merges_them_in_the_store(env, feeds: FeedServer) -> None:
    # The holdout7 set's three reports of one groundwater vote: the local paper's account and the
    # wire's found two stories; a trade analysis carrying both halves arrives a day later.
    from bot.inputs import load_inputs
    from tests.core.test_story_quality import FIXTURES

    articles = load_inputs([str(FIXTURES / "holdout7" / "articles.jsonl")]).articles
    by_id = {a.id: a for a in articles}
    paper, wire, analysis = (by_id[i].title for i in ("h7-13275b7324", "h7-fa7c7ddb3d", "h7-7d97a3c782"))

    def as_items(*, leave_out: str | None = None) -> list[Item]:
        kept = [a for a in articles if a.title != leave_out]
        return [Item(a.id, a.title, a.text, a.published or NOW, a.url or "") for a in kept]

    async def story_of() -> dict[str, str | None]:
        stored = await store.articles.recent(datetime(2026, 1, 1, tzinfo=UTC))
        return {s.article.title: s.story_id for s in stored}

    store, pipeline = await env()
    now = datetime(2026, 8, 12, 12, 0, tzinfo=UTC)
    feeds.bodies["news"] = rss("News", as_items(leave_out=analysis))
    await store.feeds.add(feeds.url("news"), now=now, allow_private=True, backfill=True)
    await pipeline.poll_due(now)
    founded = await story_of()
    assert founded[paper] and founded[wire] and founded[paper] != founded[wire]

    feeds.bodies["news"] = rss("News", as_items())
    report = await pipeline.poll_due(now + timedelta(days=1, hours=6))
    assert report.new_articles == 1
    after = await story_of()
    merged_into = after[analysis]
    assert merged_into is not None and after[paper] == after[wire] == merged_into
    gone = founded[wire] if founded[paper] == merged_into else founded[paper]
    assert gone is not None and report.stories_merged == {gone: merged_into}
    assert await store.stories.get(gone) is None
    story = await store.stories.get(merged_into)
    assert story is not None and len(story.article_ids) == 3
    assert gone not in {u.story_id for u in await all_updates(store)}


async def test_an_article_that_reports_a_relevant_story_joins_it(env, feeds: FeedServer) -> None:
    # holdout5: a French regional paper's piece on the Tertre plant (jobs and euros, no
    # AI-infrastructure words) arrives after a trade report of the same expansion.
    from bot.core.taxonomy import load_vocabulary
    from bot.core.triage import triage
    from bot.inputs import load_inputs
    from tests.core.test_story_quality import FIXTURES

    by_id = {a.id: a for a in load_inputs([str(FIXTURES / "holdout5" / "articles.jsonl")]).articles}
    trade, local = by_id["h5-93e89d03a4"], by_id["h5-5bd803daf1"]
    assert not triage(local, load_vocabulary()).relevant

    def as_item(a: Article) -> Item:
        return Item(a.id, a.title, a.text, a.published or NOW, a.url or "")

    store, pipeline = await env()
    when = max(a.published or NOW for a in (trade, local)) + timedelta(hours=1)
    feeds.bodies["trade"] = rss("Trade", [as_item(trade)])
    await store.feeds.add(feeds.url("trade"), now=when, allow_private=True, backfill=True)
    first = await pipeline.poll_due(when)
    assert first.relevant == 1 and len(first.stories_created) == 1
    feeds.bodies["local"] = rss("Local", [as_item(local)])
    await store.feeds.add(feeds.url("local"), now=when, allow_private=True, backfill=True)
    second = await pipeline.poll_due(when + timedelta(minutes=10))
    assert second.relevant == 1 and second.stories_updated == first.stories_created
    stored = {s.article.title: s for s in await store.articles.recent(when - timedelta(days=1))}
    joined = stored[local.title]
    assert joined.story_id == first.stories_created[0]
    assert joined.triage is not None and joined.triage.relevant
    assert "same event as the story" in joined.triage.explanation
    story = await store.stories.get(first.stories_created[0])
    assert story is not None and len(story.article_ids) == 2
