"""The outbox worker: claim due delivery rows, render, send through the adapter, record the receipt.

A row is written (by routing or the digest job) before anything is sent. Claiming marks it
"sending" with a lease; a worker killed mid-send leaves the row claimed until the lease runs out,
then any worker takes it again. So a crash loses nothing, and at most the one message that was on
the wire when the process died is sent twice.

Failures, by the adapter's SendError:
- RateLimited: back to pending after retry_after (not counted as an attempt).
- Transient: exponential backoff (base * 2^(attempt-1), capped); failed after max_attempts.
- ChannelGone / Forbidden: the subscription is paused with the reason; its rows stay pending.
- Fatal: the adapter is stopped and the reason recorded for `status`; its rows stay pending.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import DispatchSettings
from bot.log import get_logger
from bot.messages import (
    CardMessage,
    ChannelGone,
    ChannelRef,
    DigestMessage,
    Fatal,
    Forbidden,
    Message,
    RateLimited,
    Receipt,
    SendError,
    Transient,
)
from bot.models import Delivery, Story, Subscription
from bot.recap import group

if TYPE_CHECKING:
    from adapters.base import Adapter
    from bot.store import Store

log = get_logger(__name__)

DEFAULT_LEASE_S = 300.0
DEFAULT_BATCH = 20


@dataclass(slots=True)
class _Run:
    """What one run_once learned that affects the rest of its batch."""

    paused: set[int] = field(default_factory=set)
    limited: dict[tuple[str, str], datetime] = field(default_factory=dict)
    subs: dict[int, Subscription | None] = field(default_factory=dict)


class _Skip(Exception):
    """The row cannot be rendered now or ever; carries what to do with it."""

    def __init__(self, reason: str, *, retry_at: datetime | None = None):
        super().__init__(reason)
        self.retry_at = retry_at


class Dispatcher:
    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, Adapter],
        settings: DispatchSettings | None = None,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        batch: int = DEFAULT_BATCH,
    ):
        self.store = store
        self.adapters = dict(adapters)
        self.settings = settings or DispatchSettings.model_validate({})
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch
        self.stopped: dict[str, str] = {}  # platform -> why it was stopped (Fatal)
        self._healthy: set[str] = set()  # platforms whose recorded fault was cleared by a send

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after `attempts` failed ones."""
        base = self.settings.backoff_base_s * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(base, self.settings.backoff_cap_s))

    async def run_once(self, now: datetime) -> int:
        """Send every due delivery (one claimed batch after another); returns how many were sent."""
        run = _Run()
        sent = 0
        seen: set[int] = set()
        while True:
            platforms = [p for p in self.adapters if p not in self.stopped]
            rows = await self.store.deliveries.claim(
                now, lease=self.lease, platforms=platforms, limit=self.batch
            )
            again = [r for r in rows if r.id in seen]
            for row in again:  # already handled in this run: leave it for the next one
                await self.store.deliveries.retry(
                    row.id, at=row.next_attempt_at, error=row.last_error, count_attempt=False
                )
            fresh = [r for r in rows if r.id not in seen]
            if not fresh:
                return sent
            for row in fresh:
                seen.add(row.id)
                if await self._deliver(row, now, run):
                    sent += 1

    async def _deliver(self, row: Delivery, now: datetime, run: _Run) -> bool:
        deliveries = self.store.deliveries
        sub = await self._subscription(row.subscription_id, run)
        if sub is None:
            await deliveries.drop(row.id, "the subscription no longer exists")
            return False
        dlog = log.bind(delivery=row.id, kind=row.kind, story=row.story_id, platform=sub.platform)
        channel = ChannelRef(platform=sub.platform, channel=sub.channel, workspace=sub.workspace)
        key = (sub.platform, sub.channel)
        # Earlier rows of this batch may have stopped the adapter, paused or rate-limited the channel.
        if sub.platform in self.stopped or sub.id in run.paused:
            await deliveries.retry(row.id, at=now, error=row.last_error, count_attempt=False)
            return False
        if key in run.limited:
            await deliveries.retry(row.id, at=run.limited[key], error="rate limited", count_attempt=False)
            return False
        adapter = self.adapters[sub.platform]
        try:
            message, thread = await self._render(row, now)
        except _Skip as skip:
            if skip.retry_at is not None:
                await deliveries.retry(row.id, at=skip.retry_at, error=str(skip), count_attempt=False)
            else:
                dlog.warning("delivery.dropped", reason=str(skip))
                await deliveries.drop(row.id, str(skip))
            return False
        try:
            receipt = await adapter.send(channel, message, thread=thread)
        except RateLimited as exc:
            # Whole seconds, rounded up: the store keeps seconds, and early is another 429.
            until = now + timedelta(seconds=max(math.ceil(exc.retry_after), 1))
            run.limited[key] = until
            dlog.info("delivery.rate_limited", retry_after=exc.retry_after)
            await deliveries.retry(row.id, at=until, error=str(exc), count_attempt=False)
            return False
        except (ChannelGone, Forbidden) as exc:
            what = "channel gone" if isinstance(exc, ChannelGone) else "forbidden"
            reason = f"{what}: {exc}" if str(exc) else what
            run.paused.add(sub.id)
            await self.store.subscriptions.pause(sub.id, reason)
            dlog.warning("subscription.paused", subscription=sub.id, reason=reason)
            await deliveries.retry(row.id, at=now, error=reason, count_attempt=False)
            return False
        except Fatal as exc:
            await self._stop_adapter(sub.platform, f"{exc}" or "fatal error", now)
            await deliveries.retry(row.id, at=now, error=f"adapter stopped: {exc}", count_attempt=False)
            return False
        except Exception as exc:
            # Transient, or a bug in the adapter: both are retried with backoff, then given up.
            error = str(exc) if isinstance(exc, Transient) else f"internal error: {type(exc).__name__}: {exc}"
            if not isinstance(exc, SendError):
                dlog.error("delivery.adapter_crashed", error=error)
            if row.attempts >= self.settings.max_attempts:
                dlog.warning("delivery.failed", attempts=row.attempts, error=error)
                await deliveries.fail(row.id, error)
            else:
                await deliveries.retry(row.id, at=now + self.backoff(row.attempts), error=error)
            return False
        await deliveries.mark_sent(row.id, receipt, now=now)
        if thread is not None and thread.thread_id is None and receipt.thread_id:
            await deliveries.set_alert_thread(row.subscription_id, row.story_id, receipt.thread_id)
        if sub.platform not in self._healthy:
            self._healthy.add(sub.platform)
            await deliveries.clear_adapter_fault(sub.platform)
        dlog.info("delivery.sent", message_id=receipt.message_id)
        return True

    async def _subscription(self, sub_id: int, run: _Run) -> Subscription | None:
        if sub_id not in run.subs:
            run.subs[sub_id] = await self.store.subscriptions.get(sub_id)
        return run.subs[sub_id]

    async def _stop_adapter(self, platform: str, reason: str, now: datetime) -> None:
        self.stopped[platform] = reason
        self._healthy.discard(platform)
        log.error("adapter.stopped", platform=platform, reason=reason)
        await self.store.deliveries.record_adapter_fault(platform, reason, now=now)
        with contextlib.suppress(Exception):
            await self.adapters[platform].stop()

    # -- rendering -------------------------------------------------------------------------------

    async def _render(self, row: Delivery, now: datetime) -> tuple[Message, Receipt | None]:
        if row.kind == "digest":
            return await self._render_digest(row), None
        thread: Receipt | None = None
        if row.kind == "followup":
            thread = await self._thread_of_alert(row, now)
        story = await self.store.stories.get(row.story_id)
        if story is None:
            raise _Skip("the story is no longer stored")
        if story.card is None:
            raise _Skip("the story has no card")
        payload: dict[str, Any] = row.payload
        message = CardMessage(
            story_id=story.id,
            card=story.card,
            importance=story.importance,
            topics=story.topics,
            why_posted=str(payload.get("why", "")),
            followup=str(payload["followup"]) if payload.get("followup") else None,
            published=story.first_seen,
        )
        return message, thread

    async def _thread_of_alert(self, row: Delivery, now: datetime) -> Receipt:
        alert = await self.store.deliveries.alert(row.subscription_id, row.story_id)
        if alert is None or alert.status in ("failed", "dropped"):
            raise _Skip("the alert it follows up was not delivered")
        if alert.status != "sent" or alert.message_id is None:
            # Wait for the alert: a reply needs the message it replies to.
            wait = max(alert.next_attempt_at, now) + timedelta(seconds=self.settings.interval_s)
            raise _Skip("waiting for its alert to be sent", retry_at=wait)
        return Receipt(message_id=alert.message_id, thread_id=alert.thread_id)

    async def _render_digest(self, row: Delivery) -> DigestMessage:
        payload = row.payload
        ids = payload.get("stories")
        stories: dict[str, Story] = {}
        for story_id in ids if isinstance(ids, list) else []:
            # A story merged into another since the digest was built appears as that other, once.
            story = await self.store.stories.current(str(story_id))
            if story is not None:
                stories.setdefault(story.id, story)
        if not stories:
            raise _Skip("none of the digest's stories are stored any more")
        return DigestMessage(
            title=str(payload.get("title", "Your digest")),
            period=str(payload.get("period", "day")),
            sections=group(list(stories.values())),
        )
