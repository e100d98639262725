from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.messages import Receipt
from bot.models import Subscription
from bot.store import Store
from bot.store.channels import DeliveryRepository, SubscriptionRepository, search_story_titles
from bot.store.db import connect
from tests.fixtures.channels import NOW, make_story, save_story


def sub(channel: str = "C1", **kw: object) -> Subscription:
    return Subscription(id=0, platform="test", channel=channel, **kw)  # type: ignore[arg-type]


async def test_store_exposes_the_channel_repositories(store: Store) -> None:
    assert isinstance(store.subscriptions, SubscriptionRepository)
    assert isinstance(store.deliveries, DeliveryRepository)


async def test_bare_connection_works_too(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "bare.db")
    try:
        subs = SubscriptionRepository(conn)
        saved = await subs.save(sub(), now=NOW)
        assert (await subs.get(saved.id)) == saved
    finally:
        await conn.close()


async def test_subscription_round_trip_and_upsert(store: Store) -> None:
    first = await store.subscriptions.save(
        sub(
            topics=("chips", "energy"),
            entities=("Nvidia",),
            include=("HBM",),
            exclude=("rumor",),
            min_importance=70,
            mode="both",
            digest="weekly",
            digest_time="08:30",
            timezone="Europe/Berlin",
            max_alerts_per_hour=3,
            quiet_hours=("22:00", "07:00"),
            created_by="u1",
        ),
        now=NOW,
    )
    assert first.topics == ("chips", "energy")
    assert first.quiet_hours == ("22:00", "07:00")
    assert first.created_at == NOW
    await store.subscriptions.pause(first.id, "channel gone: archived")
    assert (await store.subscriptions.paused())[0].paused_reason == "channel gone: archived"
    # Saving again updates in place (same id), keeps created_at, clears the pause.
    later = NOW + timedelta(days=1)
    second = await store.subscriptions.save(
        Subscription(id=0, platform="test", channel="C1", min_importance=40, created_at=None), now=later
    )
    assert second.id == first.id
    assert second.min_importance == 40 and second.topics == ()
    assert second.created_at == NOW
    assert second.paused_reason is None
    assert await store.subscriptions.remove("test", "C1")
    assert not await store.subscriptions.remove("test", "C1")
    assert await store.subscriptions.list() == []


async def test_delivery_insert_is_idempotent(store: Store) -> None:
    s = await store.subscriptions.save(sub(), now=NOW)
    await save_story(store, make_story("s1", "Story one"))
    first = await store.deliveries.add(s.id, "s1", "alert", now=NOW, payload={"why": "x"})
    again = await store.deliveries.add(s.id, "s1", "alert", now=NOW, payload={"why": "y"})
    assert first is not None and again is None
    row = await store.deliveries.get(first)
    assert row is not None and row.payload == {"why": "x"} and row.status == "pending"
    assert await store.deliveries.alerted_subscriptions("s1") == {s.id}


async def test_claim_takes_due_rows_once_and_retakes_after_the_lease(store: Store) -> None:
    s = await store.subscriptions.save(sub(), now=NOW)
    due = await store.deliveries.add(s.id, "s1", "alert", now=NOW)
    assert due is not None
    await store.deliveries.add(s.id, "s2", "alert", now=NOW, next_attempt_at=NOW + timedelta(hours=1))
    lease = timedelta(seconds=60)
    claimed = await store.deliveries.claim(NOW, lease=lease, platforms=["test"])
    assert [d.id for d in claimed] == [due]
    assert claimed[0].status == "sending" and claimed[0].attempts == 1
    # Claimed: nobody else gets it while the lease runs...
    assert await store.deliveries.claim(NOW + timedelta(seconds=30), lease=lease, platforms=["test"]) == []
    # ...and after it ran out (the worker died) it is taken again.
    retaken = await store.deliveries.claim(NOW + timedelta(seconds=61), lease=lease, platforms=["test"])
    assert [d.id for d in retaken] == [due] and retaken[0].attempts == 2
    await store.deliveries.mark_sent(due, Receipt("m1", "t1"), now=NOW)
    row = await store.deliveries.get(due)
    assert row is not None and (row.status, row.message_id, row.thread_id) == ("sent", "m1", "t1")
    # Other platforms and paused subscriptions are not claimed.
    assert await store.deliveries.claim(NOW + timedelta(hours=2), lease=lease, platforms=["slack"]) == []
    await store.subscriptions.pause(s.id, "forbidden")
    assert await store.deliveries.claim(NOW + timedelta(hours=2), lease=lease, platforms=["test"]) == []


async def test_concurrent_claims_never_share_a_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    a, b = await Store.open(path), await Store.open(path)
    try:
        s = await a.subscriptions.save(sub(), now=NOW)
        for i in range(40):
            await a.deliveries.add(s.id, f"s{i}", "alert", now=NOW)
        lease = timedelta(minutes=5)
        got_a, got_b = await asyncio.gather(
            a.deliveries.claim(NOW, lease=lease, platforms=["test"], limit=25),
            b.deliveries.claim(NOW, lease=lease, platforms=["test"], limit=25),
        )
        ids_a, ids_b = {d.id for d in got_a}, {d.id for d in got_b}
        assert not ids_a & ids_b
        assert len(ids_a | ids_b) == 40
    finally:
        await a.close()
        await b.close()


async def test_retry_gives_back_an_attempt_only_when_asked(store: Store) -> None:
    s = await store.subscriptions.save(sub(), now=NOW)
    did = await store.deliveries.add(s.id, "s1", "alert", now=NOW)
    assert did is not None
    lease = timedelta(minutes=1)
    await store.deliveries.claim(NOW, lease=lease, platforms=["test"])
    await store.deliveries.retry(did, at=NOW, error="rate limited", count_attempt=False)
    row = await store.deliveries.get(did)
    assert row is not None and row.attempts == 0 and row.status == "pending"
    await store.deliveries.claim(NOW, lease=lease, platforms=["test"])
    await store.deliveries.retry(did, at=NOW + timedelta(seconds=10), error="503")
    row = await store.deliveries.get(did)
    assert row is not None and row.attempts == 1 and row.last_error == "503"


async def test_counts_faults_and_title_search(store: Store) -> None:
    s = await store.subscriptions.save(sub(), now=NOW)
    await save_story(store, make_story("abc123", "Grid operator delays 100% campus hookup"))
    await store.deliveries.add(s.id, "abc123", "alert", now=NOW)
    await store.deliveries.add(s.id, "x", "digest_item", now=NOW, status="held")
    assert await store.deliveries.counts() == {"pending": 1}
    await store.deliveries.record_adapter_fault("slack", "invalid_auth", now=NOW)
    faults = await store.deliveries.adapter_faults()
    assert [(f.platform, f.reason, f.at) for f in faults] == [("slack", "invalid_auth", NOW)]
    await store.deliveries.clear_adapter_fault("slack")
    assert await store.deliveries.adapter_faults() == []
    assert await search_story_titles(store.conn, "100%") == [
        ("abc123", "Grid operator delays 100% campus hookup")
    ]
    assert await search_story_titles(store.conn, "grid OPERATOR") != []
    assert await search_story_titles(store.conn, "nothing like this") == []
