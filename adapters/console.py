"""The console adapter: the reference rendering of cards, digests and text, printed with rich.

It is what `infrawire console`, `infrawire recap` and the demo print through, and the adapter the
app falls back to when no platform is configured. Follow-ups are shown indented under a marker
naming the message they reply to, the way a thread reply sits under its message.
"""

from __future__ import annotations

import itertools
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.messages import (
    CardMessage,
    ChannelRef,
    DigestMessage,
    Message,
    Receipt,
    TextMessage,
)
from bot.models import SourceRef

THREAD_INDENT = 4


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self, console: Console | None = None, *, file: IO[str] | None = None, width: int | None = None
    ):
        if console is None:
            console = Console(file=file, width=width, highlight=False, soft_wrap=False)
        self.console = console
        self._ids = itertools.count(1)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        message_id = f"console-{next(self._ids)}"
        body = render(message)
        if thread is not None:
            marker = Text(f"↳ reply in thread of {thread.message_id}", style="dim")
            self.console.print(Padding(Group(marker, body), (0, 0, 0, THREAD_INDENT)))
            return Receipt(message_id=message_id, thread_id=thread.thread_id or thread.message_id)
        self.console.print(body)
        return Receipt(message_id=message_id, thread_id=message_id)

    def print_text(self, text: str) -> None:
        """Plain text (a command's reply), printed as is, no markup."""
        self.console.print(Text(text))


# -- rendering (pure: message in, rich renderable out) ---------------------------------------------


def render(message: Message) -> RenderableType:
    if isinstance(message, CardMessage):
        return render_card(message)
    if isinstance(message, DigestMessage):
        return render_digest(message)
    if isinstance(message, TextMessage):
        return Text(message.text)
    raise TypeError(f"cannot render {type(message).__name__}")


def _source_line(sources: tuple[SourceRef, ...]) -> Text:
    text = Text(overflow="fold")  # a cut URL is useless: long ones wrap instead
    for i, src in enumerate(sources):
        if i:
            text.append(" · ")
        text.append(src.name, style="bold")
        if src.url:
            text.append(f" <{src.url}>", style="cyan")
    return text


def _heading(label: str) -> Text:
    return Text(label, style="bold underline")


def _hanging(rows: list[tuple[str, Text]]) -> Table:
    """Label | text rows; wrapped text stays aligned right of its label."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def _bullets(items: tuple[str, ...]) -> Table:
    return _hanging([("  •", Text(item, overflow="fold")) for item in items])


def render_card(msg: CardMessage) -> RenderableType:
    card = msg.card
    parts: list[RenderableType] = []
    if msg.followup:
        # A thread reply says what is new; the card itself is right above it in the thread.
        parts.append(Text("Update: ", style="bold yellow").append(msg.followup, style=""))
        if card.sources:
            parts.append(Text("Sources: ", style="bold", overflow="fold").append(_source_line(card.sources)))
        parts.append(Text(f"importance {msg.importance} · story {msg.story_id}", style="dim"))
        title = Text(card.title or msg.story_id, style="bold")
        return Panel(Group(*parts), title=title, title_align="left", border_style="yellow")
    parts.append(Text("What changed: ", style="bold").append(card.what_changed, style=""))
    if card.why_it_matters:
        parts.append(Text("Why it matters: ", style="bold").append(card.why_it_matters, style=""))
    if card.who_should_care:
        parts.append(
            Text("Who should care: ", style="bold").append(", ".join(card.who_should_care), style="")
        )
    if card.what_to_do_next:
        parts.append(Text("What to do next: ", style="bold").append(card.what_to_do_next, style=""))
    if card.key_takeaways:
        parts.append(_heading("Key takeaways"))
        parts.append(_bullets(card.key_takeaways))
    if card.future_implications:
        parts.append(_heading("Future implications"))
        parts.append(_bullets(card.future_implications))
    if card.timeline:
        parts.append(_heading("Timeline"))
        parts.append(_hanging([(f"  {ev.date}", Text(ev.event)) for ev in card.timeline]))
    if card.sources:
        parts.append(_heading("Sources"))
        parts.append(_hanging([("  •", _source_line((src,))) for src in card.sources]))
    context = f"importance {msg.importance}"
    if msg.topics:
        context += " · topics " + ", ".join(msg.topics)
    context += f" · written by {card.backend}"
    if msg.why_posted:
        context += " · why posted: " + msg.why_posted
    parts.append(Text(context, style="dim"))
    parts.append(Text(f"story {msg.story_id}", style="dim"))
    title = Text(card.title or msg.story_id, style="bold")
    return Panel(Group(*parts), title=title, title_align="left", border_style="blue")


def render_digest(msg: DigestMessage) -> RenderableType:
    parts: list[RenderableType] = []
    if not msg.sections:
        parts.append(Text(msg.empty_note or "Nothing to report.", style="italic"))
    for section in msg.sections:
        parts.append(Text(section.topic, style="bold magenta"))
        # A grid keeps wrapped lines aligned under their item, not under the importance.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", style="dim", no_wrap=True)
        grid.add_column(ratio=1)
        for item in section.items:
            body = Text(item.line or item.title, overflow="fold")
            if item.sources:
                body.append("\n").append(_source_line(item.sources))
            grid.add_row(f"  [{item.importance:>3}]", body)
        parts.append(grid)
    return Panel(Group(*parts), title=Text(msg.title, style="bold"), title_align="left", border_style="green")
