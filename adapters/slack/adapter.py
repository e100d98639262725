"""SlackAdapter: adapters.base.Adapter for Slack.

start() checks the bot token (auth.test) and starts the HTTP or Socket Mode receiver for slash
commands; send() renders a message as Block Kit, paces each channel to about one message a
second, posts it with chat.postMessage and maps failures to the SendError family.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import (
    AdminResolver,
    CommandHandler,
    HttpReceiver,
    Receiver,
    SlackTokens,
    build_bolt_app,
    build_receiver,
)
from adapters.slack.blocks import Rendered, render
from adapters.slack.errors import map_error
from bot.config import SlackSettings
from bot.log import get_logger
from bot.messages import ChannelRef, Fatal, Message, RateLimited, Receipt, SendError

log = get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """At most one message per `interval_s` per channel: a lock and the last send time each.

    The clock and sleep are injectable so tests can check the pacing without waiting.
    """

    def __init__(
        self, interval_s: float = 1.0, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ):
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}  # channel -> earliest time of its next message

    @contextlib.asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            due = self._next.get(channel)
            if due is not None:
                wait = due - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            try:
                yield
            finally:
                self._next[channel] = max(self._next.get(channel, 0.0), self.clock() + self.interval_s)

    def defer(self, channel: str, seconds: float) -> None:
        """Slack said to wait (429 Retry-After): hold the channel that long."""
        self._next[channel] = max(self._next.get(channel, 0.0), self.clock() + seconds)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        settings: SlackSettings,
        tokens: SlackTokens,
        router: CommandHandler | None = None,
        *,
        client: AsyncWebClient | None = None,
        pacer: Pacer | None = None,
        now: Callable[[], datetime] = _utcnow,
        admin_ttl_s: float | None = None,
        on_fatal: Callable[[str], Awaitable[None]] | None = None,
        on_healthy: Callable[[], Awaitable[None]] | None = None,
    ):
        self.settings = settings
        self.tokens = tokens
        self.client = client or AsyncWebClient(token=tokens.bot, base_url=settings.api_base_url)
        self.pacer = pacer or Pacer(settings.pace_s)
        self.admins = AdminResolver(
            self.client,
            list(settings.admin_user_ids),
            ttl_s=admin_ttl_s if admin_ttl_s is not None else settings.admin_cache_ttl_s,
        )
        self.inflight: set[asyncio.Task[Any]] = set()  # slash commands being answered
        self.bolt = build_bolt_app(
            settings, tokens, self.client, router, self.admins, now=now, inflight=self.inflight
        )
        self.receiver: Receiver | None = None
        self.identity: dict[str, Any] = {}  # auth.test: team_id, user_id, bot_id
        self.fatal_reason: str | None = None
        # Where a fatal token problem is reported (the store, so `status` shows it) and cleared.
        self.on_fatal = on_fatal
        self.on_healthy = on_healthy

    # -- lifecycle ----------------------------------------------------------------------------------

    async def check_auth(self) -> dict[str, Any]:
        """auth.test; a bad, revoked or inactive token raises Fatal with a clear message."""
        try:
            response = await self.client.auth_test()
        except Exception as exc:
            error = map_error(exc)
            if isinstance(error, Fatal):
                await self._fatal(str(error))
            raise error from None
        self.identity = {k: response.get(k) for k in ("team_id", "team", "user_id", "bot_id", "url")}
        self.fatal_reason = None
        if self.on_healthy is not None:
            await self.on_healthy()
        return self.identity

    async def _fatal(self, reason: str) -> None:
        first = self.fatal_reason is None
        self.fatal_reason = reason
        if first:
            log.error("slack.fatal", reason=reason)
            if self.on_fatal is not None:
                await self.on_fatal(reason)

    async def start(self) -> None:
        identity = await self.check_auth()
        receiver = build_receiver(self.settings, self.bolt, self.tokens)
        try:
            await receiver.start()
        except BaseException as exc:
            await receiver.stop()  # release the socket client's session / the half-set-up server
            if isinstance(exc, Fatal):
                await self._fatal(str(exc))
            raise
        self.receiver = receiver
        log.info("slack.started", mode=self.settings.mode, team=identity.get("team_id"))

    async def stop(self) -> None:
        """Stop taking commands, then let the ones already acknowledged answer."""
        if self.receiver is not None:
            await self.receiver.stop()
            self.receiver = None
        if self.inflight:
            await asyncio.gather(*list(self.inflight), return_exceptions=True)

    @property
    def http_url(self) -> str | None:
        """Where the HTTP mode server listens (tests post signed requests here)."""
        return self.receiver.url if isinstance(self.receiver, HttpReceiver) else None

    # -- sending ------------------------------------------------------------------------------------

    async def _post(self, channel: str, message: Rendered, thread_ts: str | None) -> str:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        async with self.pacer.slot(channel):
            try:
                response = await self.client.chat_postMessage(**kwargs)
            except Exception as exc:
                error = map_error(exc, channel=channel)
                if isinstance(error, RateLimited):
                    self.pacer.defer(channel, error.retry_after)
                elif isinstance(error, Fatal):
                    await self._fatal(str(error))
                raise error from None
        return str(response.get("ts"))

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        if self.fatal_reason is not None:
            raise Fatal(self.fatal_reason)
        pages = render(message)
        parent = (thread.thread_id or thread.message_id) if thread is not None else None
        first = await self._post(channel.channel, pages[0], parent)
        anchor = parent or first
        # Later digest pages go into the first page's thread. The first page is already out, so a
        # failure here is logged, not raised: a retry would post the first page twice.
        for page in pages[1:]:
            try:
                await self._post(channel.channel, page, anchor)
            except Fatal:
                raise
            except SendError as exc:
                log.warning("slack.page_failed", channel=channel.channel, error=str(exc))
                break
        log.info("slack.sent", channel=channel.channel, ts=first, thread=parent or "", pages=len(pages))
        return Receipt(message_id=first, thread_id=anchor)
