"""Platform-neutral messages, receipts and send failures.

The dispatcher and the commands speak these; each adapter renders them (console text, Slack Block
Kit, Discord embeds) and maps its platform's failures onto the SendError family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.models import Card, SourceRef


@dataclass(frozen=True, slots=True)
class ChannelRef:
    platform: str  # "console" | "slack" | "discord" | "webhook"
    channel: str  # the platform's channel id (or webhook name)
    workspace: str = ""


@dataclass(frozen=True, slots=True)
class CardMessage:
    """An alert (or a follow-up, when `followup` is set) about one story."""

    story_id: str
    card: Card
    importance: int
    topics: tuple[str, ...]
    why_posted: str  # one line: why this channel got it (its filters and the story's evidence)
    followup: str | None = None  # for a follow-up: what is new ("Reuters adds: ...")
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class DigestItem:
    story_id: str
    title: str
    line: str  # one sentence: what changed
    importance: int
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestSection:
    topic: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class DigestMessage:
    title: str  # "Top AI-infrastructure stories, week to 22 Nov 2026"
    period: str  # "day" | "week" | "month"
    sections: tuple[DigestSection, ...]
    empty_note: str = ""  # said when there is nothing in the window


@dataclass(frozen=True, slots=True)
class TextMessage:
    text: str


Message = CardMessage | DigestMessage | TextMessage


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    thread_id: str | None = None  # where follow-ups go (Discord thread id / Slack thread_ts)


# -- send failures: the dispatcher's whole vocabulary for what went wrong ------------------------


class SendError(Exception):
    """Base of every failure an adapter reports from send()."""


class RateLimited(SendError):
    def __init__(self, retry_after: float, message: str = "rate limited"):
        super().__init__(f"{message} (retry after {retry_after:.1f}s)")
        self.retry_after = retry_after


class ChannelGone(SendError):
    """The channel no longer exists, was archived, or the bot is not in it."""


class Forbidden(SendError):
    """The bot may not post there."""


class Transient(SendError):
    """A network or server fault worth retrying with backoff."""


class Fatal(SendError):
    """The adapter cannot work at all (bad or revoked token); it stops."""


# -- commands --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who asked, where, and when; set by the adapter from the platform's request."""

    platform: str
    channel: str
    user: str
    now: datetime
    workspace: str = ""
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers. `ephemeral` replies are shown to the asker only."""

    text: str = ""
    message: Message | None = None
    ephemeral: bool = True
    extra: dict[str, object] = field(default_factory=dict)
