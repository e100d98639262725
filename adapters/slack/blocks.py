"""Platform-neutral messages -> Slack Block Kit, always within Slack's limits.

Every text is escaped for mrkdwn and clipped with an ellipsis where it would exceed a limit, so a
rendered message is never refused for its size. Digests that need more than 50 blocks are split
into pages (each a message of its own); past `max_pages` the rest is summarised in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages import CardMessage, DigestItem, DigestMessage, Message, TextMessage
from bot.models import SourceRef

# Slack's documented limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 3000
# `text` is the notification / fallback; Slack truncates past 40k, we keep it short and readable.
MAX_FALLBACK = 3000

ELLIPSIS = "…"

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Slack message: blocks plus the plain `text` used for notifications."""

    blocks: list[Block]
    text: str


# -- text helpers -----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters with an ellipsis, never splitting an escape or a link."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    # Do not leave half an entity ("&am") or half a link ("<https://...|na") behind.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut.rstrip() + ELLIPSIS


def link(source: SourceRef) -> str:
    """`<url|name>` for http(s) sources, the escaped name otherwise."""
    name = escape(source.name.strip() or "source").replace("|", "/")
    url = (source.url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return name
    # `|` and `>` end a link early; percent-encode them in the URL.
    safe_url = url.replace("&", "&amp;").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{clip(name, 200)}>"


def join_within(parts: Sequence[str], limit: int, *, sep: str = "\n", more: str = "…and {n} more") -> str:
    """Join whole parts while they fit in `limit`, then say how many were left out."""
    out: list[str] = []
    used = 0
    for i, part in enumerate(parts):
        rest = len(parts) - i - 1
        tail = len(sep) + len(more.format(n=len(parts))) if rest else 0
        extra = (len(sep) if out else 0) + len(part)
        if used + extra + tail <= limit:
            out.append(part)
            used += extra
            continue
        if not out:  # the first part alone is too long: clip it
            room = limit - tail if rest else limit
            out.append(clip(part, max(room, 1)))
            used = len(out[0])
            if rest == 0:
                break
            continue
        out.append(more.format(n=len(parts) - i))
        return clip(sep.join(out), limit)
    return clip(sep.join(out), limit)


# -- block constructors -----------------------------------------------------------------------------


def header(text: str) -> Block:
    plain = " ".join(text.split()) or "Untitled"
    return {"type": "header", "text": {"type": "plain_text", "text": clip(plain, MAX_HEADER), "emoji": True}}


def section(mrkdwn: str, *, fields: Sequence[str] = ()) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION_TEXT)}}
    if fields:
        shown = list(fields)
        if len(shown) > MAX_FIELDS:
            shown = [*shown[: MAX_FIELDS - 1], f"…and {len(fields) - (MAX_FIELDS - 1)} more"]
        block["fields"] = [{"type": "mrkdwn", "text": clip(f, MAX_FIELD_TEXT)} for f in shown]
    return block


def context(elements: Sequence[str]) -> Block:
    shown = [e for e in elements if e][:MAX_CONTEXT_ELEMENTS]
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(e, MAX_CONTEXT_TEXT)} for e in shown],
    }


def divider() -> Block:
    return {"type": "divider"}


def _titled(title: str, body: str) -> Block | None:
    body = body.strip()
    if not body:
        return None
    return section(f"*{title}*\n{escape(body)}")


def _bullets(title: str, items: Iterable[str]) -> Block | None:
    lines = [f"• {escape(item.strip())}" for item in items if item.strip()]
    if not lines:
        return None
    heading = f"*{title}*\n"
    return section(heading + join_within(lines, MAX_SECTION_TEXT - len(heading)))


def sources_text(sources: Sequence[SourceRef], limit: int = MAX_SECTION_TEXT) -> str:
    return join_within([link(s) for s in sources], limit, sep=" · ", more="and {n} more")


def fallback(*parts: str) -> str:
    text = " — ".join(" ".join(p.split()) for p in parts if p and p.strip())
    return clip(escape(text), MAX_FALLBACK) or "infrawire"


def fit(blocks: list[Block]) -> list[Block]:
    """At most MAX_BLOCKS blocks; the last (context) block is kept when blocks are dropped."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 2]
    dropped = len(blocks) - len(kept) - 1
    return [*kept, context([f"…{dropped} more blocks not shown"]), blocks[-1]]


# -- cards ------------------------------------------------------------------------------------------


def card_context(message: CardMessage) -> Block:
    card = message.card
    elements = [f"*Importance* {message.importance}/100"]
    if message.topics:
        elements.append("*Topics* " + escape(", ".join(message.topics)))
    elements.append(f"*Backend* {escape(card.backend)}")
    if message.published is not None:
        elements.append("*Published* " + message.published.strftime("%d %b %Y %H:%M UTC"))
    if message.why_posted.strip():
        elements.append("*Why posted* " + escape(message.why_posted.strip()))
    return context(elements)


def render_card(message: CardMessage) -> Rendered:
    """An alert, or a follow-up (for the alert's thread) when `message.followup` is set."""
    card = message.card
    if message.followup:
        return _render_followup(message)
    blocks: list[Block] = [header(card.title)]
    for block in (
        _titled("What changed", card.what_changed),
        _titled("Why it matters", card.why_it_matters),
    ):
        if block is not None:
            blocks.append(block)
    audiences = [escape(a.strip()) for a in card.who_should_care if a.strip()]
    if audiences:
        blocks.append(section("*Who should care*", fields=[f"• {a}" for a in audiences]))
    for block in (
        _titled("What to do next", card.what_to_do_next),
        _bullets("Key takeaways", card.key_takeaways),
        _bullets("Future implications", card.future_implications),
        _bullets("Timeline", (f"{e.date}: {e.event}" for e in card.timeline)),
    ):
        if block is not None:
            blocks.append(block)
    if card.sources:
        blocks.append(section("*Sources*\n" + sources_text(card.sources, MAX_SECTION_TEXT - 11)))
    blocks.append(card_context(message))
    return Rendered(fit(blocks), fallback(card.title, card.what_changed))


def _render_followup(message: CardMessage) -> Rendered:
    card = message.card
    followup = message.followup or ""
    blocks: list[Block] = [section(f"*Follow-up:* {escape(followup.strip())}")]
    if card.sources:
        blocks.append(section("*Sources*\n" + sources_text(card.sources, MAX_SECTION_TEXT - 11)))
    blocks.append(card_context(message))
    return Rendered(fit(blocks), fallback("Follow-up", card.title, followup))


# -- digests ----------------------------------------------------------------------------------------


def digest_line(item: DigestItem) -> str:
    links = sources_text(item.sources[:5], 600) if item.sources else ""
    head = f"• *{escape(' '.join(item.title.split()))}* ({item.importance})"
    body = escape(" ".join(item.line.split()))
    line = f"{head} — {body}" if body else head
    room = MAX_SECTION_TEXT - 200 - (len(links) + 1 if links else 0)
    line = clip(line, room)
    return f"{line}\n   {links}" if links else line


def _topic_title(topic: str) -> str:
    return topic.replace("-", " ").capitalize() if topic else "Other"


def render_digest(digest: DigestMessage, *, max_pages: int = 5) -> list[Rendered]:
    """A digest as one or more messages of at most MAX_BLOCKS blocks each."""
    title = digest.title or "infrawire recap"
    if not any(s.items for s in digest.sections):
        note = digest.empty_note or "Nothing to report in this window."
        return [Rendered([header(title), section(escape(note))], fallback(title, note))]

    # One section block per topic chunk: the heading plus as many item lines as fit.
    chunks: list[tuple[Block, int]] = []  # (block, number of stories it holds)
    for sec in digest.sections:
        if not sec.items:
            continue
        heading = f"*{escape(_topic_title(sec.topic))}*"
        lines = [digest_line(item) for item in sec.items]
        current: list[str] = []
        for line in lines:
            candidate = "\n".join([heading, *current, line])
            if current and len(candidate) > MAX_SECTION_TEXT:
                chunks.append((section("\n".join([heading, *current])), len(current)))
                heading = f"*{escape(_topic_title(sec.topic))}* (continued)"
                current = []
            current.append(line)
        chunks.append((section("\n".join([heading, *current])), len(current)))

    total = sum(n for _, n in chunks)
    pages: list[list[Block]] = []
    page: list[Block] = [header(title)]
    per_page = MAX_BLOCKS - 1  # room for a footer context on every page
    shown = 0
    for block, count in chunks:
        if len(page) >= per_page:
            if len(pages) + 1 >= max_pages:
                break
            pages.append(page)
            page = [header(clip(f"{title} (continued)", MAX_HEADER))]
        page.append(block)
        shown += count
    pages.append(page)
    if shown < total:
        pages[-1].append(context([f"…and {total - shown} more stories not shown"]))
    elif len(pages) > 1:
        for i, p in enumerate(pages, start=1):
            p.append(context([f"Page {i} of {len(pages)}"]))
    summary = f"{total} stories" if total != 1 else "1 story"
    return [Rendered(fit(p), fallback(title, summary)) for p in pages]


# -- plain text -------------------------------------------------------------------------------------


def is_columnar(text: str) -> bool:
    """Text laid out with indented lines (help, status): it reads right only in a fixed font."""
    return any(line.startswith("  ") for line in text.splitlines())


def render_text(text: str, *, preformatted: bool | None = None) -> Rendered:
    """Plain text (command replies) split into section blocks at paragraph boundaries.

    Columnar text goes into code blocks so its alignment survives Slack's proportional font.
    """
    text = text.strip("\n").rstrip() or "(no text)"
    if preformatted is None:
        preformatted = is_columnar(text)
    fence = "```" if preformatted else ""
    room = MAX_SECTION_TEXT - 2 * len(fence)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    chunks: list[str] = []
    current = ""
    for para in (escape(p) for p in paragraphs):
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) <= room:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(para) > room:
            cut = para.rfind("\n", 0, room)
            if cut <= 0:
                break
            chunks.append(para[:cut])
            para = para[cut + 1 :]
        current = para
    if current:
        chunks.append(current)
    blocks = [section(f"{fence}{clip(chunk, room)}{fence}") for chunk in chunks]
    return Rendered(fit(blocks), fallback(text))


def render(message: Message) -> list[Rendered]:
    """Any platform-neutral message as one or more Slack messages."""
    if isinstance(message, CardMessage):
        return [render_card(message)]
    if isinstance(message, DigestMessage):
        return render_digest(message)
    if isinstance(message, TextMessage):
        return [render_text(message.text)]
    raise TypeError(f"cannot render {type(message).__name__} for Slack")
