"""The adapter interface every platform implements.

An adapter starts and stops, sends platform-neutral messages and returns receipts, and hands chat
commands to `bot.commands`. Failures are reported as the SendError family from bot.messages.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.messages import (
    CardMessage,
    ChannelGone,
    ChannelRef,
    CommandContext,
    DigestMessage,
    Fatal,
    Forbidden,
    Message,
    RateLimited,
    Receipt,
    Reply,
    SendError,
    TextMessage,
    Transient,
)

__all__ = [
    "Adapter",
    "CardMessage",
    "ChannelGone",
    "ChannelRef",
    "CommandContext",
    "DigestMessage",
    "Fatal",
    "Forbidden",
    "Message",
    "RateLimited",
    "Receipt",
    "Reply",
    "SendError",
    "TextMessage",
    "Transient",
]


@runtime_checkable
class Adapter(Protocol):
    platform: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        """Post `message`; with `thread`, post it in that message's thread (a follow-up)."""
        ...
