"""A recording adapter for tests: remembers every send and can be told to fail.

    adapter = RecordingAdapter()
    adapter.fail_next(RateLimited(30))              # the next send raises it
    adapter.fail_channel("C1", ChannelGone("gone"))  # every send to C1 raises it
    ... dispatcher.run_once(now) ...
    assert [s.message.story_id for s in adapter.sent] == [...]

With `journal`, each successful send is appended to that file as one JSON line and fsync'ed before
send() returns, so a test that kills the process still knows exactly what was delivered.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from bot.messages import (
    CardMessage,
    ChannelRef,
    DigestMessage,
    Message,
    Receipt,
    SendError,
    TextMessage,
)


@dataclass(frozen=True, slots=True)
class Sent:
    channel: ChannelRef
    message: Message
    thread: Receipt | None
    receipt: Receipt


class RecordingAdapter:
    def __init__(
        self,
        platform: str = "test",
        *,
        journal: str | Path | None = None,
        delay_s: float = 0.0,
        id_prefix: str | None = None,
        settle_s: float = 0.0,
    ):
        self.platform = platform
        self.id_prefix = id_prefix or platform
        self.sent: list[Sent] = []
        self.attempts = 0  # every send() call, failed or not
        self.started = False
        self.stopped = False
        self.journal = Path(journal) if journal is not None else None
        self.delay_s = delay_s  # before the send takes effect (the request is in flight)
        self.settle_s = settle_s  # after it took effect, before send() returns (the reply is on its way)
        self._script: deque[SendError | None] = deque()
        self._channel_errors: dict[str, SendError] = {}
        self._counter = 0

    # -- scripting failures ----------------------------------------------------------------------

    def fail_next(self, error: SendError, times: int = 1) -> None:
        """The next `times` sends raise `error` (after any already scripted outcomes)."""
        self._script.extend([error] * times)

    def succeed_next(self, times: int = 1) -> None:
        """Script successes, to place a failure later in the sequence."""
        self._script.extend([None] * times)

    def fail_channel(self, channel: str, error: SendError) -> None:
        self._channel_errors[channel] = error

    def heal_channel(self, channel: str) -> None:
        self._channel_errors.pop(channel, None)

    # -- the Adapter protocol --------------------------------------------------------------------

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        self.attempts += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if channel.channel in self._channel_errors:
            raise self._channel_errors[channel.channel]
        if self._script:
            scripted = self._script.popleft()
            if scripted is not None:
                raise scripted
        self._counter += 1
        message_id = f"{self.id_prefix}-{self._counter}"
        receipt = Receipt(message_id=message_id, thread_id=thread.thread_id if thread else message_id)
        if self.journal is not None:
            self._append(channel, message, thread, receipt)
        self.sent.append(Sent(channel, message, thread, receipt))
        if self.settle_s:
            await asyncio.sleep(self.settle_s)
        return receipt

    # -- helpers for assertions ------------------------------------------------------------------

    def cards(self) -> list[CardMessage]:
        return [s.message for s in self.sent if isinstance(s.message, CardMessage)]

    def digests(self) -> list[DigestMessage]:
        return [s.message for s in self.sent if isinstance(s.message, DigestMessage)]

    def texts(self) -> list[str]:
        return [s.message.text for s in self.sent if isinstance(s.message, TextMessage)]

    def _append(
        self, channel: ChannelRef, message: Message, thread: Receipt | None, receipt: Receipt
    ) -> None:
        assert self.journal is not None
        record = {
            "channel": channel.channel,
            "kind": type(message).__name__,
            "story_id": getattr(message, "story_id", None),
            "followup": getattr(message, "followup", None),
            "thread": thread.message_id if thread else None,
            "message_id": receipt.message_id,
            "pid": os.getpid(),
        }
        with self.journal.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
