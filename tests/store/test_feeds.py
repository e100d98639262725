from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.store import Store
from bot.store.feeds import Success

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def test_add_get_list_remove(store: Store) -> None:
    feed = await store.feeds.add("https://example.com/feed.xml", now=NOW, title="Example", added_by="U1")
    assert feed.id > 0 and feed.title == "Example" and feed.added_by == "U1"
    assert feed.next_check_at == NOW and feed.enabled and not feed.first_poll_done
    other = await store.feeds.add("https://example.org/atom", now=NOW, allow_private=True, backfill=True)
    assert other.allow_private and other.backfill
    assert [f.url for f in await store.feeds.list()] == [feed.url, other.url]
    assert await store.feeds.remove(feed.id)
    assert not await store.feeds.remove(feed.id)
    assert await store.feeds.get(feed.id) is None


async def test_duplicate_url_is_a_clear_error_and_keeps_the_original(store: Store) -> None:
    feed = await store.feeds.add("https://example.com/feed.xml", now=NOW, title="First")
    with pytest.raises(InputError, match=r"already exists: https://example.com/feed.xml \(id \d+\)"):
        await store.feeds.add("https://example.com/feed.xml", now=NOW, title="Second")
    kept = await store.feeds.get(feed.id)
    assert kept is not None and kept.title == "First"


async def test_due_respects_schedule_and_disabled(store: Store) -> None:
    a = await store.feeds.add("https://a.example/feed", now=NOW)
    b = await store.feeds.add("https://b.example/feed", now=NOW)
    await store.feeds.mark_checking(a.id, now=NOW, next_check_at=NOW + timedelta(minutes=15))
    assert [f.id for f in await store.feeds.due(NOW)] == [b.id]
    assert [f.id for f in await store.feeds.due(NOW + timedelta(minutes=15))] == [b.id, a.id]
    await store.feeds.disable(b.id, "gone")
    assert [f.id for f in await store.feeds.due(NOW + timedelta(hours=1))] == [a.id]
    assert len(await store.feeds.due(NOW + timedelta(hours=1), limit=0)) == 0


async def test_success_then_failures_disable_after_n_and_keep_reason(store: Store) -> None:
    feed = await store.feeds.add("https://a.example/feed", now=NOW)
    later = NOW + timedelta(minutes=15)
    await store.feeds.record_success(
        feed.id,
        now=NOW,
        next_check_at=later,
        etag='"v1"',
        last_modified="Fri, 20 Nov 2026 11:00:00 GMT",
        title="Feed A",
        new_items=3,
        update_interval_s=3600.0,
    )
    ok = await store.feeds.get(feed.id)
    assert ok is not None
    assert (ok.etag, ok.title, ok.first_poll_done, ok.last_new_item_at) == ('"v1"', "Feed A", True, NOW)
    assert ok.update_interval_s == 3600.0
    for i in range(1, 3):
        failed = await store.feeds.record_failure(
            feed.id, error=f"HTTP 500 #{i}", now=NOW, next_check_at=later, max_errors=3
        )
        assert failed.error_count == i and failed.enabled
    failed = await store.feeds.record_failure(
        feed.id, error="HTTP 500 #3", now=NOW, next_check_at=later, max_errors=3
    )
    assert not failed.enabled
    assert failed.disabled_reason is not None and "3 consecutive failures" in failed.disabled_reason
    assert "HTTP 500 #3" in failed.disabled_reason
    # The etag from the last success is still there for the next conditional GET.
    assert failed.etag == '"v1"'
    assert await store.feeds.enable(feed.id, now=later)
    back = await store.feeds.get(feed.id)
    assert back is not None and back.enabled and back.error_count == 0 and back.next_check_at == later


async def test_permanent_failure_disables_at_once(store: Store) -> None:
    feed = await store.feeds.add("https://a.example/feed", now=NOW)
    failed = await store.feeds.record_failure(
        feed.id, error="HTTP 410 Gone", now=NOW, next_check_at=NOW, max_errors=10, permanent=True
    )
    assert failed.disabled_reason == "permanent error: HTTP 410 Gone"


async def test_not_modified_resets_errors(store: Store) -> None:
    feed = await store.feeds.add("https://a.example/feed", now=NOW)
    await store.feeds.record_failure(feed.id, error="timeout", now=NOW, next_check_at=NOW, max_errors=5)
    await store.feeds.record_not_modified(feed.id, now=NOW, next_check_at=NOW + timedelta(hours=1))
    after = await store.feeds.get(feed.id)
    assert after is not None and after.error_count == 0 and after.last_error is None
    assert after.next_check_at == NOW + timedelta(hours=1)


async def test_claim_due_reschedules_and_returns_what_due_would_pick(store: Store) -> None:
    feeds = [await store.feeds.add(f"https://c{i}.example/feed", now=NOW) for i in range(5)]
    await store.feeds.mark_checking(feeds[0].id, now=NOW, next_check_at=NOW + timedelta(hours=1))
    await store.feeds.mark_checking(feeds[1].id, now=NOW, next_check_at=NOW - timedelta(minutes=5))
    await store.feeds.disable(feeds[2].id, "gone")
    later = NOW + timedelta(minutes=1)
    lease = later + timedelta(minutes=15)
    expected = [f.id for f in await store.feeds.due(later, limit=2)]
    assert expected == [feeds[1].id, feeds[3].id]  # the most overdue first, within the limit
    claimed = await store.feeds.claim_due(later, until=lease, limit=2)
    assert sorted(f.id for f in claimed) == sorted(expected) == [f.id for f in claimed]
    rows = [await store.feeds.get(f.id) for f in claimed]
    assert {(f.next_check_at, f.last_checked_at) for f in rows if f} == {(lease, later)}
    assert claimed[0].url == feeds[1].url and (claimed[0].etag, claimed[0].error_count) == (None, 0)
    # Claimed feeds are no longer due; the rest are claimed by the next call.
    assert [f.id for f in await store.feeds.claim_due(later, until=lease)] == [feeds[4].id]
    assert await store.feeds.claim_due(later, until=lease) == []
    kept = await store.feeds.get(feeds[0].id)
    assert kept is not None and kept.next_check_at == NOW + timedelta(hours=1) and kept.last_checked_at == NOW


async def test_many_feeds_rescheduled_in_batches_each_to_its_own_time(store: Store) -> None:
    # More feeds than one statement takes (400), each with a different next check.
    feeds = [await store.feeds.add(f"https://f{i}.example/feed", now=NOW) for i in range(450)]
    untouched = await store.feeds.add("https://other.example/feed", now=NOW)
    await store.feeds.record_failure(feeds[7].id, error="timeout", now=NOW, next_check_at=NOW, max_errors=5)
    later = NOW + timedelta(minutes=5)
    await store.feeds.mark_checking_many(
        [(f.id, NOW + timedelta(minutes=i + 1)) for i, f in enumerate(feeds)], now=later
    )
    after = {f.id: f for f in await store.feeds.list()}
    assert [after[f.id].next_check_at for f in feeds] == [NOW + timedelta(minutes=i + 1) for i in range(450)]
    assert {after[f.id].last_checked_at for f in feeds} == {later}
    assert after[feeds[7].id].error_count == 1  # rescheduling is not a success
    assert after[untouched.id].next_check_at == NOW and after[untouched.id].last_checked_at is None
    await store.feeds.record_not_modified_many(
        [(f.id, NOW + timedelta(hours=i + 1)) for i, f in enumerate(feeds[:10])], now=later
    )
    after = {f.id: f for f in await store.feeds.list()}
    assert [after[f.id].next_check_at for f in feeds[:11]] == [
        *(NOW + timedelta(hours=i + 1) for i in range(10)),
        NOW + timedelta(minutes=11),
    ]
    assert after[feeds[7].id].error_count == 0 and after[feeds[7].id].last_error is None
    assert after[feeds[7].id].last_success_at == later and after[feeds[10].id].last_success_at is None
    await store.feeds.mark_checking_many([], now=later)  # nothing to do is not an error


async def test_record_success_many(store: Store) -> None:
    feeds = [await store.feeds.add(f"https://f{i}.example/feed", now=NOW) for i in range(3)]
    await store.feeds.record_failure(feeds[0].id, error="timeout", now=NOW, next_check_at=NOW, max_errors=5)
    later = NOW + timedelta(minutes=5)
    await store.feeds.record_success_many(
        [
            Success(feeds[0].id, later + timedelta(minutes=30), etag='"e0"', title="Zero", new_items=2),
            Success(feeds[1].id, later + timedelta(hours=2), last_modified="Fri, 20 Nov 2026 11:00:00 GMT",
                    update_interval_s=3600.0),
        ],
        now=later,
    )  # fmt: skip
    zero, one, two = [await store.feeds.get(f.id) for f in feeds]
    assert zero is not None and one is not None and two is not None
    assert zero.etag == '"e0"' and zero.title == "Zero" and zero.error_count == 0 and zero.last_error is None
    assert zero.next_check_at == later + timedelta(minutes=30) and zero.last_new_item_at == later
    assert zero.first_poll_done and zero.last_success_at == later
    assert one.last_modified == "Fri, 20 Nov 2026 11:00:00 GMT" and one.update_interval_s == 3600.0
    assert one.last_new_item_at is None  # no new items: the last one's time stays
    assert not two.first_poll_done and two.last_success_at is None  # not in the batch
    await store.feeds.record_success_many([], now=later)  # nothing to do is not an error
    # Past one statement's worth of feeds: each gets its own values; a title once set stays.
    more = [await store.feeds.add(f"https://m{i}.example/feed", now=NOW, title=f"M{i}") for i in range(230)]
    successes = [
        Success(f.id, later + timedelta(minutes=i), etag=f'"{i}"', title="Other") for i, f in enumerate(more)
    ]
    await store.feeds.record_success_many(successes, now=later)
    after = {f.id: f for f in await store.feeds.list()}
    assert [(after[f.id].etag, after[f.id].title, after[f.id].next_check_at) for f in more] == [
        (f'"{i}"', f"M{i}", later + timedelta(minutes=i)) for i in range(230)
    ]


async def test_state_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = await Store.open(path)
    feed = await first.feeds.add("https://a.example/feed", now=NOW)
    await first.feeds.record_success(
        feed.id,
        now=NOW,
        next_check_at=NOW + timedelta(minutes=20),
        etag='W/"abc"',
        last_modified="Fri, 20 Nov 2026 11:00:00 GMT",
        title="A",
    )
    await first.feeds.record_failure(
        feed.id, error="HTTP 503", now=NOW, next_check_at=NOW + timedelta(minutes=40), max_errors=5
    )
    await first.close()
    second = await Store.open(path)
    try:
        again = await second.feeds.get(feed.id)
        assert again is not None
        assert again.etag == 'W/"abc"' and again.last_modified == "Fri, 20 Nov 2026 11:00:00 GMT"
        assert again.error_count == 1 and again.last_error == "HTTP 503"
        assert again.next_check_at == NOW + timedelta(minutes=40) and again.first_poll_done
    finally:
        await second.close()


async def test_ensure_keeps_polling_state(store: Store) -> None:
    feed = await store.feeds.ensure("https://a.example/feed", now=NOW, title="A")
    await store.feeds.record_success(feed.id, now=NOW, next_check_at=NOW + timedelta(hours=1), etag="e1")
    again = await store.feeds.ensure("https://a.example/feed", now=NOW, allow_private=True)
    assert again.id == feed.id and again.etag == "e1" and again.allow_private and again.title == "A"
    assert await store.feeds.counts() == {"ok": 1, "failing": 0, "disabled": 0}


async def test_background_checkpoints_copy_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "bg.db"
    store = await Store.open(path, background_checkpoints=True)
    try:
        async with store.conn.execute("PRAGMA wal_autocheckpoint") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 0  # writes never checkpoint by themselves
        for i in range(300):
            await store.feeds.add(f"https://bg{i}.example/feed", now=NOW)
        snapshot = tmp_path / "before.db"
        snapshot.write_bytes(path.read_bytes())  # the database file alone, without its log
        store.checkpoint_soon()
        store.checkpoint_soon()  # one already running covers this call
        await store.wait_checkpoint()
        copied = tmp_path / "after.db"
        copied.write_bytes(path.read_bytes())
    finally:
        await store.close()

    def feeds_in(file: Path) -> int:
        conn = sqlite3.connect(file)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM feeds").fetchone()[0])
        except sqlite3.OperationalError:  # the tables themselves still only in the log
            return 0
        finally:
            conn.close()

    assert feeds_in(snapshot) < 300 and feeds_in(copied) == 300


async def test_checkpoint_soon_is_a_no_op_for_an_ordinary_store(store: Store) -> None:
    async with store.conn.execute("PRAGMA wal_autocheckpoint") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] > 0
    store.checkpoint_soon()
    await store.wait_checkpoint()
