from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.testing import RecordingAdapter
from bot.config import DispatchSettings
from bot.digests import enqueue_digest
from bot.dispatch import Dispatcher
from bot.messages import CardMessage, ChannelGone, Fatal, Forbidden, RateLimited, Receipt, Transient
from bot.models import Subscription
from bot.routing import route_pending
from bot.store import Store
from tests.fixtures.channels import NOW, channel_store, make_story, save_story  # noqa: F401

SETTINGS = DispatchSettings.model_validate(
    {"max_attempts": 3, "backoff_base_s": 10, "backoff_cap_s": 25, "interval_s": 5}
)


async def subscribe(store: Store, channel: str = "C1", platform: str = "test", **kw: Any) -> Subscription:
    return await store.subscriptions.save(
        Subscription(id=0, platform=platform, channel=channel, **kw),
        now=NOW,
    )


async def one_alert(store: Store, story_id: str = "s1", **kw: Any) -> Subscription:
    sub = await subscribe(store, **kw)
    await save_story(store, make_story(story_id, f"Story {story_id}", importance=80))
    await route_pending(store, NOW)
    return sub


async def test_sends_a_card_and_records_the_receipt(store: Store) -> None:
    sub = await one_alert(store)
    adapter = RecordingAdapter()
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 1
    [sent] = adapter.sent
    assert sent.channel.channel == "C1" and sent.thread is None
    assert isinstance(sent.message, CardMessage)
    assert sent.message.card.title == "Story s1" and sent.message.importance == 80
    assert sent.message.why_posted.startswith("all topics; importance 80 >= 50")
    [row] = await store.deliveries.for_subscription(sub.id)
    assert (row.status, row.message_id, row.thread_id, row.attempts) == ("sent", "test-1", "test-1", 1)
    # Idempotent: nothing is sent twice, by this dispatcher or a new one.
    assert await dispatcher.run_once(NOW + timedelta(hours=1)) == 0
    assert await Dispatcher(store, {"test": adapter}, SETTINGS).run_once(NOW + timedelta(hours=2)) == 0
    assert len(adapter.sent) == 1


async def test_follow_up_goes_in_the_alert_thread_after_the_alert(store: Store) -> None:
    await one_alert(store)
    await store.stories.add_update("s1", "s1-a2", "facts", now=NOW, detail="$2 billion")
    await route_pending(store, NOW)
    adapter = RecordingAdapter()
    adapter.fail_next(Transient("503"))  # the alert fails once: the follow-up must wait for it
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 0
    assert adapter.sent == []
    assert await dispatcher.run_once(NOW + timedelta(seconds=10)) == 1  # the alert
    assert await dispatcher.run_once(NOW + timedelta(seconds=30)) == 1  # then the follow-up
    alert, follow = adapter.sent
    assert follow.thread == Receipt(alert.receipt.message_id, alert.receipt.thread_id)
    assert isinstance(follow.message, CardMessage) and follow.message.followup == "New details: $2 billion"


async def test_follow_up_of_a_failed_alert_is_dropped(store: Store) -> None:
    sub = await one_alert(store)
    await store.stories.add_update("s1", "s1-a2", "facts", now=NOW, detail="MI308")
    await route_pending(store, NOW)
    adapter = RecordingAdapter()
    adapter.fail_next(Transient("boom"), times=10)
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    when = NOW
    for _ in range(6):
        await dispatcher.run_once(when)
        when += timedelta(minutes=5)
    rows = {d.kind: d for d in await store.deliveries.for_subscription(sub.id)}
    assert rows["alert"].status == "failed" and rows["alert"].attempts == 3
    assert rows["followup"].status == "dropped"
    assert adapter.sent == []


async def test_rate_limited_waits_the_given_time_without_using_an_attempt(store: Store) -> None:
    sub = await one_alert(store)
    adapter = RecordingAdapter()
    adapter.fail_next(RateLimited(30))
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 0
    [row] = await store.deliveries.for_subscription(sub.id)
    assert row.status == "pending" and row.attempts == 0
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert await dispatcher.run_once(NOW + timedelta(seconds=29)) == 0
    assert await dispatcher.run_once(NOW + timedelta(seconds=30)) == 1


async def test_transient_backs_off_exponentially_with_a_cap_then_fails(store: Store) -> None:
    sub = await one_alert(store)
    adapter = RecordingAdapter()
    adapter.fail_next(Transient("connection reset"), times=3)
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    delays = []
    when = NOW
    for _ in range(3):
        await dispatcher.run_once(when)
        [row] = await store.deliveries.for_subscription(sub.id)
        if row.status != "pending":
            break
        delays.append(row.next_attempt_at - when)
        when = row.next_attempt_at
    assert delays == [timedelta(seconds=10), timedelta(seconds=20)]
    assert row.status == "failed" and row.attempts == 3 and row.last_error == "connection reset"
    assert Dispatcher(store, {}, SETTINGS).backoff(5) == timedelta(seconds=25)  # capped


async def test_channel_gone_pauses_the_subscription_and_keeps_rows_pending(store: Store) -> None:
    sub = await one_alert(store)
    await save_story(store, make_story("s2", "Story s2", importance=80))
    await route_pending(store, NOW)
    adapter = RecordingAdapter()
    adapter.fail_channel("C1", ChannelGone("channel_not_found"))
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 0
    assert adapter.attempts == 1  # the second row was not even tried
    paused = await store.subscriptions.get(sub.id)
    assert paused is not None and paused.paused_reason == "channel gone: channel_not_found"
    rows = await store.deliveries.for_subscription(sub.id)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 0), ("pending", 0)]
    assert await dispatcher.run_once(NOW + timedelta(hours=1)) == 0
    # Re-subscribing resumes; everything held is delivered.
    adapter.heal_channel("C1")
    await subscribe(store)
    assert await dispatcher.run_once(NOW + timedelta(hours=1)) == 2


async def test_forbidden_pauses_only_that_channel(store: Store) -> None:
    await subscribe(store, "C1")
    other = await subscribe(store, "C2")
    await save_story(store, make_story("s1", "Story s1", importance=80))
    await route_pending(store, NOW)
    adapter = RecordingAdapter()
    adapter.fail_channel("C1", Forbidden("missing_scope"))
    assert await Dispatcher(store, {"test": adapter}, SETTINGS).run_once(NOW) == 1
    assert [s.channel.channel for s in adapter.sent] == ["C2"]
    assert [s.paused_reason for s in await store.subscriptions.paused()] == ["forbidden: missing_scope"]
    assert (await store.subscriptions.get(other.id)).paused_reason is None  # type: ignore[union-attr]


async def test_fatal_stops_the_adapter_records_it_and_spares_others(store: Store) -> None:
    await subscribe(store, "C1", platform="test")
    await subscribe(store, "D1", platform="other")
    await save_story(store, make_story("s1", "Story s1", importance=80))
    await save_story(store, make_story("s2", "Story s2", importance=80))
    await route_pending(store, NOW)
    bad, good = RecordingAdapter("test"), RecordingAdapter("other")
    bad.fail_next(Fatal("invalid_auth: the token was revoked"))
    dispatcher = Dispatcher(store, {"test": bad, "other": good}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 2
    assert bad.stopped and bad.attempts == 1 and bad.sent == []
    assert [s.channel.channel for s in good.sent] == ["D1", "D1"]
    assert dispatcher.stopped == {"test": "invalid_auth: the token was revoked"}
    [fault] = await store.deliveries.adapter_faults()
    assert (fault.platform, fault.reason) == ("test", "invalid_auth: the token was revoked")
    assert await store.deliveries.counts() == {"pending": 2, "sent": 2}
    # A restart with a working token sends what waited and clears the fault.
    fixed = RecordingAdapter("test")
    assert await Dispatcher(store, {"test": fixed, "other": good}, SETTINGS).run_once(NOW) == 2
    assert await store.deliveries.adapter_faults() == []


async def test_an_adapter_bug_is_retried_then_failed(store: Store) -> None:
    class Broken(RecordingAdapter):
        async def send(self, channel, message, *, thread=None):
            raise KeyError("embed")

    sub = await one_alert(store)
    dispatcher = Dispatcher(store, {"test": Broken()}, SETTINGS)
    when = NOW
    for _ in range(3):
        await dispatcher.run_once(when)
        when += timedelta(minutes=1)
    [row] = await store.deliveries.for_subscription(sub.id)
    assert row.status == "failed" and "KeyError" in (row.last_error or "")


async def test_quiet_hours_hold_the_alert_until_they_end(store: Store) -> None:
    sub = await subscribe(store, quiet_hours=("11:00", "13:00"))
    await save_story(store, make_story("s1", "Story s1", importance=80))
    await route_pending(store, NOW)  # 12:00 UTC: quiet
    adapter = RecordingAdapter()
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW + timedelta(minutes=59)) == 0
    assert await dispatcher.run_once(NOW + timedelta(hours=1)) == 1
    assert sub.quiet_hours == ("11:00", "13:00")


async def test_digest_rows_render_a_digest(store: Store) -> None:
    sub = await subscribe(store, mode="digest", digest="daily")
    await save_story(store, make_story("s1", "Chip story", importance=40, topics=("chips",)))
    await save_story(store, make_story("s2", "Grid story", importance=60, topics=("energy",)))
    await route_pending(store, NOW)
    digest_id = await enqueue_digest(store, sub.id, now=NOW)
    assert digest_id is not None
    adapter = RecordingAdapter()
    assert await Dispatcher(store, {"test": adapter}, SETTINGS).run_once(NOW) == 1
    [digest] = adapter.digests()
    assert digest.title.startswith("Your daily AI-infrastructure digest")
    assert [(s.topic, [i.story_id for i in s.items]) for s in digest.sections] == [
        ("energy", ["s2"]),
        ("chips", ["s1"]),
    ]


class LazyThreads(RecordingAdapter):
    """A platform that starts a thread on the first reply to a message (as Discord does)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads_given: list[Receipt | None] = []

    async def send(self, channel, message, *, thread=None):
        self.threads_given.append(thread)
        receipt = await super().send(channel, message, thread=thread)
        if thread is None:
            return Receipt(receipt.message_id, None)
        return Receipt(receipt.message_id, thread.thread_id or f"thread-of-{thread.message_id}")


async def test_a_thread_started_by_the_first_follow_up_is_reused(store: Store) -> None:
    await one_alert(store)
    adapter = LazyThreads()
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    await dispatcher.run_once(NOW)
    for n, detail in enumerate(("first figure", "second figure")):
        await store.stories.add_update("s1", f"s1-a{n + 2}", "facts", now=NOW, detail=detail)
        await route_pending(store, NOW)
        await dispatcher.run_once(NOW)
    assert adapter.threads_given == [
        None,
        Receipt("test-1", None),
        Receipt("test-1", "thread-of-test-1"),
    ]


async def test_fractional_retry_after_is_rounded_up(store: Store) -> None:
    sub = await one_alert(store)
    adapter = RecordingAdapter()
    adapter.fail_next(RateLimited(2.3))
    await Dispatcher(store, {"test": adapter}, SETTINGS).run_once(NOW)
    [row] = await store.deliveries.for_subscription(sub.id)
    assert row.next_attempt_at == NOW + timedelta(seconds=3)


async def test_a_digest_built_before_a_merge_shows_the_merged_story_once(store: Store) -> None:
    sub = await subscribe(store, mode="digest", digest="daily")
    await save_story(store, make_story("s1", "Chip story", importance=40, topics=("chips",)))
    await route_pending(store, NOW)
    assert await enqueue_digest(store, sub.id, now=NOW) is not None  # lists s1 alone
    await save_story(store, make_story("s2", "Chip story, second report", importance=60, topics=("chips",)))
    await store.stories.merge(["s1"], into="s2")
    adapter = RecordingAdapter()
    dispatcher = Dispatcher(store, {"test": adapter}, SETTINGS)
    assert await dispatcher.run_once(NOW) == 1
    [digest] = adapter.digests()
    assert [(s.topic, [i.story_id for i in s.items]) for s in digest.sections] == [("chips", ["s2"])]

    # A digest that lists both stories shows the merged one once.
    later = NOW + timedelta(days=1)
    for story_id in ("s3", "s4"):
        story = make_story(story_id, "Grid story " + story_id, importance=60, topics=("energy",))
        await save_story(store, story)
    await route_pending(store, later)
    assert await enqueue_digest(store, sub.id, now=later) is not None
    await store.stories.merge(["s3"], into="s4")
    assert await dispatcher.run_once(later) == 1
    second = adapter.digests()[-1]
    assert [i.story_id for s in second.sections for i in s.items] == ["s4"]
