"""Cards and digests as Discord embeds that always fit Discord's limits.

Discord rejects a whole message (400, code 50035) when one embed part is too long, so every part is
cut here first: at a word boundary, with an ellipsis, and the 6000-character budget across a
message's embeds is met by shortening the longest parts before anything is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord

from bot.messages import CardMessage, DigestItem, DigestMessage, Message, TextMessage
from bot.models import SourceRef

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000  # across all embeds of one message
EMBEDS_PER_MESSAGE = 10
CONTENT_MAX = 2000
URL_MAX = 2048
THREAD_NAME_MAX = 100

ELLIPSIS = "…"

# Importance -> colour: red for the must-reads, then orange, gold and a quiet blue-grey.
_COLOURS = ((80, 0xE74C3C), (60, 0xE67E22), (40, 0xF1C40F), (0, 0x95A5A6))


@dataclass
class Outgoing:
    """One Discord message to post: content and up to 10 embeds, already within limits."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit * 0.6:  # keep whole words unless that throws away too much
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def colour_for(importance: int) -> int:
    for floor, colour in _COLOURS:
        if importance >= floor:
            return colour
    return _COLOURS[-1][1]


def _url(url: str | None) -> str | None:
    # Discord refuses the whole message for a malformed embed URL, so only plain http(s) ones go in.
    if url and url.startswith(("http://", "https://")) and len(url) <= URL_MAX and " " not in url:
        return url
    return None


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line.strip()}" for line in lines if line.strip())


def _source_names(sources: Sequence[SourceRef]) -> str:
    return ", ".join(dict.fromkeys(s.name for s in sources if s.name))


def embed_length(embed: discord.Embed) -> int:
    """Characters Discord counts towards the 6000 total (title, description, fields, footer, author)."""
    return len(embed)


def fit_embed(embed: discord.Embed, budget: int = EMBED_TOTAL_MAX) -> discord.Embed:
    """Cut every part of `embed` to its own limit and the whole to `budget` characters, in place."""
    if embed.title:
        embed.title = truncate(embed.title, TITLE_MAX)
    if embed.description:
        embed.description = truncate(embed.description, DESCRIPTION_MAX)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_MAX), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=truncate(embed.author.name, AUTHOR_MAX), url=embed.author.url)
    fields = [
        (truncate(f.name or "", FIELD_NAME_MAX), truncate(f.value or "", FIELD_VALUE_MAX), bool(f.inline))
        for f in embed.fields
    ][:FIELDS_MAX]
    embed.clear_fields()
    for name, value, inline in fields:
        if name and value:  # Discord rejects empty field names and values
            embed.add_field(name=name, value=value, inline=inline)
    _shrink_to(embed, budget)
    return embed


def _shrink_to(embed: discord.Embed, budget: int) -> None:
    """Shorten the longest part (description, field values, footer) until the embed fits `budget`."""
    budget = max(budget, 1)
    while len(embed) > budget:
        excess = len(embed) - budget
        parts: list[tuple[int, str]] = []
        if embed.description:
            parts.append((len(embed.description), "description"))
        if embed.footer.text:
            parts.append((len(embed.footer.text), "footer"))
        for i, f in enumerate(embed.fields):
            parts.append((len(f.value or ""), f"field:{i}"))
        parts.sort(reverse=True)
        if not parts or parts[0][0] <= 40:
            # Nothing long is left to shorten: drop the last field, then the title's tail.
            if embed.fields:
                embed.remove_field(len(embed.fields) - 1)
                continue
            if embed.title and len(embed.title) > 1:
                embed.title = truncate(embed.title, max(1, len(embed.title) - excess))
                continue
            embed.description = None
            embed.set_footer(text=None)
            return
        size, which = parts[0]
        target = max(40, size - excess)
        if which == "description":
            embed.description = truncate(embed.description or "", target)
        elif which == "footer":
            embed.set_footer(text=truncate(embed.footer.text or "", target), icon_url=embed.footer.icon_url)
        else:
            i = int(which.split(":")[1])
            f = embed.fields[i]
            value = truncate(f.value or "", target)
            embed.set_field_at(i, name=f.name or "", value=value, inline=bool(f.inline))


def card_embed(message: CardMessage) -> discord.Embed:
    """The alert embed (or, with `message.followup`, the follow-up embed posted in its thread)."""
    card = message.card
    main = next((s for s in card.sources if _url(s.url)), None)
    embed = discord.Embed(
        title=card.title or "Untitled story",
        url=_url(main.url) if main else None,
        colour=colour_for(message.importance),
        timestamp=message.published,
    )
    if message.followup:
        embed.description = message.followup
        links = [f"[{s.name}]({s.url})" for s in card.sources if s.name and _url(s.url)]
        if links:
            embed.add_field(name="Sources", value=" · ".join(links), inline=False)
    else:
        embed.description = card.what_changed or None
        embed.add_field(name="Why it matters", value=card.why_it_matters, inline=False)
        embed.add_field(name="Who should care", value=", ".join(card.who_should_care), inline=False)
        embed.add_field(name="What to do next", value=card.what_to_do_next, inline=False)
        embed.add_field(name="Key takeaways", value=_bullets(card.key_takeaways), inline=False)
    footer = [f"Importance {message.importance}", f"Story {message.story_id}"]
    if card.sources:
        footer.append(f"Sources: {_source_names(card.sources)}")
    if message.topics:
        footer.append(f"Topics: {', '.join(message.topics)}")
    footer.append(f"Written by: {card.backend}")
    if message.why_posted:
        footer.append(f"Why posted: {message.why_posted}")
    embed.set_footer(text=" · ".join(footer))
    return fit_embed(embed)


def thread_name(message: CardMessage) -> str:
    return truncate(message.card.title or "Follow-ups", THREAD_NAME_MAX) or "Follow-ups"


def _digest_line(item: DigestItem) -> str:
    url = next((_url(s.url) for s in item.sources if _url(s.url)), None)
    title = truncate(item.title, 200).replace("[", "(").replace("]", ")")
    head = f"**[{title}]({url})**" if url else f"**{title}**"
    others = [f"[{s.name}]({s.url})" for s in item.sources[1:4] if s.name and _url(s.url)]
    line = f"{head} ({item.importance}) {truncate(item.line, 300)}"
    if others:
        line += " · also " + ", ".join(others)
    return truncate(line, 1000)


def digest_messages(message: DigestMessage) -> list[Outgoing]:
    """A digest as one or more messages: one embed per topic (continued if long), all within limits."""
    title = truncate(message.title, CONTENT_MAX)
    if not any(section.items for section in message.sections):
        note = message.empty_note or "Nothing to report for this period."
        return [Outgoing(content=truncate(f"**{title}**\n{note}", CONTENT_MAX))]
    embeds: list[discord.Embed] = []
    for section in message.sections:
        lines = [_digest_line(item) for item in section.items]
        chunk: list[str] = []
        part = 0
        for line in [*lines, None]:
            joined = "\n".join(chunk)
            if line is None or (chunk and len(joined) + 1 + len(line) > DESCRIPTION_MAX - 200):
                if chunk:
                    name = section.topic if part == 0 else f"{section.topic} (continued)"
                    colour = colour_for(max(i.importance for i in section.items))
                    embeds.append(fit_embed(discord.Embed(title=name, description=joined, colour=colour)))
                    part += 1
                chunk = []
            if line is not None:
                chunk.append(line)
    return _pack(embeds, first_content=f"**{title}**")


def _pack(embeds: Sequence[discord.Embed], *, first_content: str | None) -> list[Outgoing]:
    """Group embeds into messages of at most 10 embeds and 6000 characters each."""
    out: list[Outgoing] = []
    current = Outgoing(content=truncate(first_content, CONTENT_MAX) if first_content else None)
    used = 0
    for embed in embeds:
        size = len(embed)
        if current.embeds and (len(current.embeds) >= EMBEDS_PER_MESSAGE or used + size > EMBED_TOTAL_MAX):
            out.append(current)
            current, used = Outgoing(), 0
        current.embeds.append(embed)
        used += size
    out.append(current)
    return out


def text_chunks(text: str, limit: int = CONTENT_MAX) -> list[str]:
    """Plain text split into messages of at most `limit` characters, at line breaks where possible."""
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def render(message: Message) -> list[Outgoing]:
    """Any platform-neutral message as the Discord messages to post, in order."""
    if isinstance(message, CardMessage):
        return [Outgoing(embeds=[card_embed(message)])]
    if isinstance(message, DigestMessage):
        return digest_messages(message)
    if isinstance(message, TextMessage):
        chunks = text_chunks(message.text) or ["(empty)"]
        return [Outgoing(content=chunk) for chunk in chunks]
    raise TypeError(f"cannot render {type(message).__name__} for Discord")
