"""DiscordAdapter: alerts as embeds, follow-ups in a thread started from the alert, slash commands.

Sending needs only the REST API (login checks the token); the gateway connection, which brings the
slash commands in, runs as a background task when `gateway` is on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

import discord

from adapters.discord.client import DEFAULT_API_BASE, InfrawireClient, use_api_base
from adapters.discord.commands import CommandHandler, SlashCommands, StorySearch, default_entity_names
from adapters.discord.embeds import Outgoing, render, thread_name
from adapters.discord.errors import (
    BAD_TOKEN,
    THREAD_ALREADY_CREATED,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    is_code,
    to_send_error,
    translated,
)
from bot.config import DiscordSettings
from bot.log import get_logger
from bot.messages import CardMessage, ChannelRef, Fatal, Message, Receipt, Transient

log = get_logger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day of quiet before Discord hides the thread

FaultHook = Callable[[str], Awaitable[None]]


class DiscordAdapter:
    platform = "discord"

    def __init__(
        self,
        settings: DiscordSettings,
        token: str,
        *,
        handler: CommandHandler | None = None,
        gateway: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        entity_names: Callable[[], Sequence[str]] = default_entity_names,
        story_search: StorySearch | None = None,
        on_fatal: FaultHook | None = None,
    ):
        self.settings = settings
        self._token = token  # a secret: never logged, never part of an error
        self.commands = SlashCommands(
            handler, clock=clock, entity_names=entity_names, story_search=story_search
        )
        self.client = InfrawireClient(self.commands, max_ratelimit_timeout=settings.max_ratelimit_wait_s)
        self.gateway = gateway
        self.fatal: str | None = None  # why the adapter cannot work, once known
        self._on_fatal = on_fatal
        self._gateway_task: asyncio.Task[None] | None = None
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (checks the token); then connect the gateway for slash commands if asked to."""
        if self.settings.api_base_url.rstrip("/") != DEFAULT_API_BASE:
            use_api_base(self.settings.api_base_url)
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self._fail(BAD_TOKEN)
            raise Fatal(BAD_TOKEN) from None
        except (TimeoutError, discord.DiscordException, OSError) as exc:
            error = to_send_error(exc)
            if isinstance(error, Fatal):
                await self._fail(str(error))
            raise error from exc
        self._started = True
        user = self.client.user
        log.info("discord.logged_in", bot=str(user) if user else "?", application=self.client.application_id)
        if self.gateway:
            self._gateway_task = asyncio.create_task(self._run_gateway(), name="discord-gateway")

    async def _run_gateway(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.LoginFailure:
            await self._fail(BAD_TOKEN)
        except discord.PrivilegedIntentsRequired:  # never asked for; kept explicit for a clear log
            log.error("discord.gateway.failed", reason="privileged intents required")
        except Exception as exc:
            log.error("discord.gateway.failed", error=f"{type(exc).__name__}: {exc}")

    async def _fail(self, reason: str) -> None:
        self.fatal = reason
        log.error("discord.fatal", reason=reason)
        if self._on_fatal is not None:
            with contextlib.suppress(Exception):
                await self._on_fatal(reason)

    async def stop(self) -> None:
        task, self._gateway_task = self._gateway_task, None
        if not self.client.is_closed():
            await self.client.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._started = False

    async def sync_commands(self, guild_ids: Sequence[int] | None = None) -> dict[str, int]:
        ids = self.settings.guild_ids if guild_ids is None else guild_ids
        async with translated():
            return await self.client.sync_commands(ids)

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        if self.fatal:
            raise Fatal(self.fatal)
        if not self._started:
            raise Transient("the Discord adapter is not started")
        outgoing = render(message)
        slog = log.bind(channel=channel.channel, kind=type(message).__name__)
        try:
            if thread is None:
                first = await self._post(self._messageable(channel, channel.channel), outgoing)
                slog.info("discord.sent", message_id=first.id)
                return Receipt(message_id=str(first.id))
            return await self._follow_up(channel, message, thread, outgoing)
        except Exception as exc:
            error = to_send_error(exc)
            if isinstance(error, Fatal):
                await self._fail(str(error))
            slog.warning("discord.send_failed", error=type(error).__name__, reason=str(error))
            raise error from exc

    async def _follow_up(
        self, channel: ChannelRef, message: Message, thread: Receipt, outgoing: list[Outgoing]
    ) -> Receipt:
        """Post in the alert's thread (starting it on the first follow-up), or reply to the alert."""
        thread_id = thread.thread_id or await self._start_thread(channel, message, thread.message_id)
        if thread_id is not None:
            try:
                first = await self._post(self._messageable(channel, thread_id), outgoing)
                return Receipt(message_id=str(first.id), thread_id=thread_id)
            except discord.HTTPException as exc:
                # A deleted or locked thread must not pause the channel: reply to the alert instead.
                # If the channel itself is gone or closed, the reply below reports that.
                if not (exc.status == 403 or is_code(exc, UNKNOWN_CHANNEL)):
                    raise
                log.info("discord.thread_unusable", thread=thread_id, status=exc.status, code=exc.code)
        reference = discord.MessageReference(
            message_id=int(thread.message_id), channel_id=int(channel.channel), fail_if_not_exists=False
        )
        first = await self._post(self._messageable(channel, channel.channel), outgoing, reference=reference)
        return Receipt(message_id=str(first.id))

    async def _start_thread(self, channel: ChannelRef, message: Message, message_id: str) -> str | None:
        """The id of a new thread on the alert; None where threads are not allowed (then reply)."""
        name = thread_name(message) if isinstance(message, CardMessage) else "Follow-ups"
        try:
            data = await self.client.http.start_thread_with_message(
                int(channel.channel),
                int(message_id),
                name=name,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                rate_limit_per_user=None,
            )
        except discord.HTTPException as exc:
            if is_code(exc, THREAD_ALREADY_CREATED):
                return message_id  # a thread started from a message has that message's id
            if is_code(exc, UNKNOWN_CHANNEL):
                raise
            if exc.status in (400, 403) or is_code(exc, UNKNOWN_MESSAGE):
                log.info("discord.thread_refused", channel=channel.channel, status=exc.status, code=exc.code)
                return None
            raise
        return str(data["id"])

    def _messageable(self, channel: ChannelRef, channel_id: str) -> discord.PartialMessageable:
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        return self.client.get_partial_messageable(int(channel_id), guild_id=guild_id)

    async def _post(
        self,
        target: discord.PartialMessageable,
        outgoing: list[Outgoing],
        *,
        reference: discord.MessageReference | None = None,
    ) -> discord.Message:
        """Post the messages in order; the first is the one a receipt points at."""
        first: discord.Message | None = None
        for i, msg in enumerate(outgoing):
            sent = await target.send(
                content=msg.content,
                embeds=msg.embeds,
                reference=reference if i == 0 else None,  # type: ignore[arg-type]
                allowed_mentions=discord.AllowedMentions.none(),
                mention_author=False,
            )
            first = first or sent
        if first is None:
            raise Transient("nothing to send")
        return first
