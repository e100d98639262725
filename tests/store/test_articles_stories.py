from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Article, Card, Entity, SourceRef, Story, Subscription, TimelineEvent, Triage
from bot.store import Store
from bot.store.retention import prune

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TRIAGE = Triage(
    relevant=True,
    relevance=0.9,
    topics=("chips", "export-controls"),
    entities=(Entity("Nvidia", "organization"), Entity("50,000 GPUs", "gpu_count", 50000.0, "gpus")),
    importance=80,
    explanation="names Nvidia; export rule",
)
CARD = Card(
    title="New export rule",
    what_changed="A rule changed.",
    why_it_matters="It limits shipments.",
    who_should_care=("policy",),
    what_to_do_next="Review exposure.",
    key_takeaways=("one",),
    future_implications=("two",),
    timeline=(TimelineEvent("2026-11-19", "Rule published"),),
    sources=(SourceRef("Outlet A", "https://a.example/1"),),
)


def article(n: int, *, feed_id: int | None = None, source: str = "Outlet A", **kw: Any) -> Article:
    base: dict[str, Any] = dict(
        id=f"a{n}",
        title=f"Title {n}",
        text=f"Body {n}",
        url=f"https://a.example/{n}",
        source=source,
        published=NOW - timedelta(hours=n),
        guid=f"g{n}",
        feed_id=feed_id,
        content_hash=f"h{n}",
    )
    base.update(kw)
    return Article(**base)


async def test_dedup_by_guid_url_and_content_hash(store: Store) -> None:
    feed = await store.feeds.add("https://a.example/feed", now=NOW)
    assert await store.articles.insert(article(1, feed_id=feed.id), fetched=NOW, triage=TRIAGE)
    assert not await store.articles.insert(article(1, feed_id=feed.id), fetched=NOW)  # same id
    find = store.articles.find_duplicate
    assert await find(feed_id=feed.id, guid="g1", url="https://x/other", content_hash="zz") == "a1"
    # A rewritten GUID and a new timestamp still match on the canonical URL...
    assert await find(feed_id=feed.id, guid="g1-new", url="https://a.example/1", content_hash="zz") == "a1"
    # ...and a changed URL with the same text matches on the content hash.
    assert (
        await find(feed_id=feed.id, guid="g1-new", url="https://a.example/1?v=2", content_hash="h1") == "a1"
    )
    assert await find(feed_id=feed.id, guid="g2", url="https://a.example/2", content_hash="h2") is None
    assert await store.articles.existing_ids(["a1", "a9"]) == {"a1"}
    assert await store.articles.existing_ids([f"x{i}" for i in range(1200)] + ["a1"]) == {"a1"}
    # A GUID is only unique within its feed.
    assert await find(feed_id=None, guid="g1", url=None, content_hash=None) is None


async def test_batch_lookups_and_insert_many(store: Store) -> None:
    a = await store.feeds.add("https://a.example/feed", now=NOW)
    b = await store.feeds.add("https://b.example/feed", now=NOW)
    await store.articles.insert_many(
        [(article(1, feed_id=a.id), TRIAGE, True), (article(2, feed_id=b.id), None, False)], fetched=NOW
    )
    one, two = await store.articles.get("a1"), await store.articles.get("a2")
    assert one is not None and one.triage == TRIAGE and one.alertable and one.story_id is None
    assert two is not None and two.triage is None and not two.alertable
    # Like insert(): an id already stored is left as it is.
    await store.articles.insert_many([(article(1, feed_id=a.id, title="Changed"), None, False)], fetched=NOW)
    again = await store.articles.get("a1")
    assert again is not None and again.article.title == "Title 1" and again.triage == TRIAGE
    # A guid counts within its own feed only; URLs and hashes count across feeds.
    guids, urls = await store.articles.known_keys(
        [(a.id, "g1"), (b.id, "g1"), (b.id, "g2"), (a.id, "g9")],
        ["https://a.example/2", "https://a.example/9"],
    )
    assert guids == {(a.id, "g1"), (b.id, "g2")} and urls == {"https://a.example/2"}
    # Past one statement's worth of parameters.
    many = [(b.id, f"x{i}") for i in range(700)] + [(a.id, "g1")]
    assert (await store.articles.known_keys(many, [f"u{i}" for i in range(1200)]))[0] == {(a.id, "g1")}
    hashes = ["h1", "h3", *(f"z{i}" for i in range(600)), "h2"]
    assert await store.articles.known_hashes(hashes) == {"h1", "h2"}
    assert await store.articles.known_keys([], []) == (set(), set())
    # More rows than one INSERT statement takes, each stored once and whole.
    rows = [(article(n, feed_id=b.id), TRIAGE if n % 2 else None, n % 3 == 0) for n in range(100, 250)]
    await store.articles.insert_many(rows, fetched=NOW)
    stored = [await store.articles.get(f"a{n}") for n in range(100, 250)]
    assert [s.article.title if s else None for s in stored] == [f"Title {n}" for n in range(100, 250)]
    assert [(s.triage == TRIAGE, s.alertable) for s in stored if s] == [
        (n % 2 == 1, n % 3 == 0) for n in range(100, 250)
    ]
    await store.articles.insert_many([], fetched=NOW)  # nothing to do is not an error


async def test_triage_round_trip_recent_and_by_story(store: Store) -> None:
    await store.articles.insert(article(1), fetched=NOW, triage=TRIAGE, alertable=False)
    await store.articles.insert(article(2), fetched=NOW - timedelta(days=2))
    got = await store.articles.get("a1")
    assert got is not None and got.triage == TRIAGE and not got.alertable
    assert got.article.published == NOW - timedelta(hours=1)
    assert [s.article.id for s in await store.articles.recent(NOW - timedelta(days=1))] == ["a1"]
    assert [
        s.article.id for s in await store.articles.recent(NOW - timedelta(days=3), relevant_only=True)
    ] == ["a1"]
    story = Story(id="s1", title="T", first_seen=NOW, last_seen=NOW, importance=80)
    await store.stories.save(story, now=NOW)
    await store.articles.set_story("a2", "s1")
    await store.articles.set_story("a1", "s1")
    assert [s.article.id for s in await store.articles.by_story("s1")] == ["a1", "a2"]  # importance first


async def test_story_save_get_window_card_and_updates(store: Store) -> None:
    await store.articles.insert(article(1), fetched=NOW, triage=TRIAGE)
    await store.articles.insert(article(2, source="Outlet B"), fetched=NOW, triage=TRIAGE)
    story = Story(
        id="story-1",
        title="Rule",
        first_seen=NOW - timedelta(hours=2),
        last_seen=NOW,
        importance=85,
        topics=("export-controls",),
        entities=("Nvidia",),
        explanation="2 outlets",
        card=CARD,
    )
    await store.stories.save(story, now=NOW, signature={"k": [1, 2]}, main_entity="Nvidia")
    for aid in ("a1", "a2"):
        await store.articles.set_story(aid, "story-1")
    got = await store.stories.get("story-1")
    assert got is not None and got.card == CARD and got.topics == ("export-controls",)
    assert got.article_ids == ("a2", "a1")  # same importance: earliest published first
    assert [s.name for s in got.sources] == ["Outlet B", "Outlet A"]
    assert (await store.stories.find("story-")) is not None
    # Updating keeps first_seen and replaces the rest.
    await store.stories.save(
        Story(
            id="story-1", title="Rule v2", first_seen=NOW, last_seen=NOW + timedelta(hours=1), importance=90
        ),
        now=NOW,
        signature={"k": [3]},
    )
    again = await store.stories.get("story-1")
    assert again is not None and again.first_seen == NOW - timedelta(hours=2) and again.title == "Rule v2"
    assert again.card == CARD  # the card is kept until a new one is saved
    assert await store.stories.main_entity("story-1") == "Nvidia"

    low = Story(id="story-2", title="Minor", first_seen=NOW, last_seen=NOW, importance=20)
    await store.stories.save(low, now=NOW, relevant=False)
    window = await store.stories.window(NOW - timedelta(days=7), NOW + timedelta(days=1))
    assert [s.id for s in window] == ["story-1"]
    assert [s.id for s in await store.stories.window(NOW, NOW + timedelta(days=1), relevant_only=False)] == [
        "story-1",
        "story-2",
    ]

    first = await store.stories.add_update("story-1", "a1", "created", now=NOW)
    second = await store.stories.add_update("story-1", "a2", "outlet", now=NOW, detail="Outlet B")
    assert await store.stories.has_update("story-1", "created")
    assert [u.id for u in await store.stories.unrouted_updates()] == [first, second]
    await store.stories.mark_routed([first])
    assert [u.kind for u in await store.stories.unrouted_updates()] == ["outlet"]


class RecordingIndex:
    def __init__(self) -> None:
        self.restored: dict[str, dict[str, Any]] = {}

    def restore(self, story_id: str, state: dict[str, Any]) -> None:
        self.restored[story_id] = state


async def test_restore_index_loads_recent_signatures(store: Store) -> None:
    old = Story(
        id="old",
        title="Old",
        first_seen=NOW - timedelta(days=9),
        last_seen=NOW - timedelta(days=9),
        importance=50,
    )
    new = Story(id="new", title="New", first_seen=NOW, last_seen=NOW, importance=50)
    await store.stories.save(old, now=NOW, signature={"x": 1})
    await store.stories.save(new, now=NOW, signature={"terms": ["nvidia", "h20"]})
    index = RecordingIndex()
    assert await store.stories.restore_index(index, since=NOW - timedelta(days=4)) == 1
    assert index.restored == {"new": {"terms": ["nvidia", "h20"]}}


async def test_history_lists_earlier_stories_of_the_same_entity(store: Store) -> None:
    for i, day in enumerate((10, 5, 1)):
        s = Story(
            id=f"s{i}",
            title=f"Nvidia event {i}",
            first_seen=NOW - timedelta(days=day),
            last_seen=NOW - timedelta(days=day),
            importance=60,
        )
        await store.stories.save(s, now=NOW, main_entity="Nvidia")
    other = Story(id="amd", title="AMD", first_seen=NOW - timedelta(days=2), last_seen=NOW, importance=60)
    await store.stories.save(other, now=NOW, main_entity="AMD")
    events = await store.stories.history("Nvidia", before=NOW - timedelta(days=1), exclude="s2")
    assert events == [
        TimelineEvent((NOW - timedelta(days=10)).date().isoformat(), "Nvidia event 0"),
        TimelineEvent((NOW - timedelta(days=5)).date().isoformat(), "Nvidia event 1"),
    ]


async def test_retention_keeps_what_stories_and_pending_deliveries_need(store: Store) -> None:
    old = NOW - timedelta(days=40)
    await store.stories.save(
        Story(id="live", title="L", first_seen=old, last_seen=NOW - timedelta(days=1), importance=50), now=NOW
    )
    await store.stories.save(
        Story(id="dead", title="D", first_seen=old, last_seen=old, importance=50), now=NOW
    )
    await store.stories.save(
        Story(id="queued", title="Q", first_seen=old, last_seen=old, importance=50), now=NOW
    )
    await store.articles.insert(article(1), fetched=old, story_id="live")
    await store.articles.insert(article(2), fetched=old, story_id="dead")
    await store.articles.insert(article(3), fetched=old)
    await store.articles.insert(article(4), fetched=old, story_id="queued")
    await store.articles.insert(article(5), fetched=NOW)
    await store.stories.save(
        Story(id="held", title="H", first_seen=old, last_seen=old, importance=50), now=NOW
    )
    await store.articles.insert(article(6), fetched=old, story_id="held")
    sub = await store.subscriptions.save(Subscription(id=0, platform="console", channel="c"), now=NOW)
    await store.deliveries.add(sub.id, "queued", "alert", now=NOW)
    await store.deliveries.add(sub.id, "held", "digest_item", now=NOW, status="held")
    await store.deliveries.add(sub.id, "dead", "alert", now=NOW, status="sent")
    assert await prune(store.conn, now=NOW, days=30) == 2
    remaining = {s.article.id for s in await store.articles.recent(NOW - timedelta(days=365))}
    assert remaining == {"a1", "a4", "a5", "a6"}


async def test_merging_stories_moves_articles_updates_and_alerts(store: Store) -> None:
    for story_id in ("keep", "gone"):
        await store.stories.save(
            Story(id=story_id, title=story_id, first_seen=NOW, last_seen=NOW, importance=60), now=NOW
        )
    await store.articles.insert(article(1), fetched=NOW, story_id="keep")
    await store.articles.insert(article(2), fetched=NOW, story_id="gone")
    await store.stories.add_update("keep", "a1", "created", now=NOW)
    await store.stories.add_update("gone", "a2", "created", now=NOW)
    both = await store.subscriptions.save(Subscription(id=0, platform="console", channel="both"), now=NOW)
    one = await store.subscriptions.save(Subscription(id=0, platform="console", channel="one"), now=NOW)
    await store.deliveries.add(both.id, "keep", "alert", now=NOW, status="sent")
    await store.deliveries.add(both.id, "gone", "alert", now=NOW)  # still waiting: a duplicate now
    await store.deliveries.add(one.id, "gone", "alert", now=NOW, status="sent")

    await store.stories.merge(["gone"], into="keep")

    assert await store.stories.get("gone") is None
    kept = await store.stories.get("keep")
    assert kept is not None and set(kept.article_ids) == {"a1", "a2"}
    assert [u.article_id for u in await store.stories.updates("keep")] == ["a1", "a2"]
    # The channel alerted only to the folded story follows the merged one in that alert's thread.
    moved = await store.deliveries.alert(one.id, "keep")
    assert moved is not None and moved.status == "sent"
    # The channel that had both keeps its own alert; the folded copy is not sent as well.
    assert (await store.deliveries.alert(both.id, "keep")).status == "sent"  # type: ignore[union-attr]
    left = await store.deliveries.alert(both.id, "gone")
    assert left is not None and left.status == "dropped"
    assert "merged into story keep" in (left.last_error or "")
    await store.stories.merge(["keep"], into="keep")  # merging a story into itself changes nothing
    assert await store.stories.get("keep") is not None


async def test_a_merged_story_id_keeps_finding_its_story_through_later_merges(store: Store) -> None:
    for story_id in ("first", "second", "third"):
        await store.stories.save(
            Story(id=story_id, title=story_id, first_seen=NOW, last_seen=NOW, importance=60), now=NOW
        )
    await store.stories.merge(["first"], into="second")
    assert await store.stories.merged_into("first") == "second"
    await store.stories.merge(["second"], into="third")
    for old in ("first", "second", "thir", "firs"):
        found = await store.stories.find(old)
        assert found is not None and found.id == "third", old
    assert await store.stories.merged_into("first") == "third"
    assert await store.stories.get("first") is None  # get() is the row itself; current() follows merges
    assert (await store.stories.current("first")).id == "third"  # type: ignore[union-attr]
    assert await store.stories.find("nothing") is None
    # When the surviving story goes (retention), the ids folded into it go with it.
    await store.conn.execute("DELETE FROM stories WHERE id = 'third'")
    assert await store.stories.merged_into("first") is None and await store.stories.find("first") is None
