"""Chat commands, platform-neutral: the adapters parse their platform's request into
(text, CommandContext), call `CommandRouter.handle`, and render the Reply.

Every input gets a Reply; nothing a person types raises. Errors and usage are ephemeral (shown to
the asker only); recaps and subscription changes are public, so the channel sees them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.command_grammar import RECAP_USAGE, SUBSCRIBE_USAGE, parse_recap, parse_subscribe, tokens
from bot.config import Settings
from bot.errors import CommandError, FeedError, InputError, UnsafeURLError
from bot.log import get_logger
from bot.messages import CommandContext, Reply
from bot.models import Story, Subscription
from bot.recap import build_recap, window
from bot.store.channels import search_story_titles

if TYPE_CHECKING:
    from bot.store import Store

log = get_logger(__name__)

FeedChecker = Callable[[str], Awaitable[None]]

USAGE: dict[str, str] = {
    "subscribe": SUBSCRIBE_USAGE,
    "unsubscribe": "unsubscribe",
    "filters": "filters",
    "recap": RECAP_USAGE,
    "feeds": "feeds list | feeds add URL | feeds remove ID   (admins only)",
    "status": "status",
    "why": "why STORY   (a story id, or words from its title)",
    "help": "help",
}
_SUMMARIES = (
    ("unsubscribe", "stop everything in this channel"),
    ("filters", "show this channel's settings"),
    (USAGE["recap"], "top stories of the window, by topic, with links"),
    (USAGE["feeds"].split("   ")[0], "admins only; new feeds pass the SSRF guard"),
    ("status", "feeds, deliveries, paused channels, stopped adapters"),
    (USAGE["why"].split("   ")[0], "the triage explanation (a story id or words from its title)"),
    ("help", "this list"),
)
HELP_TEXT = "\n".join(
    [
        "infrawire commands:",
        f"  {USAGE['subscribe']}",
        "      e.g. subscribe chips export-controls min 70 mode both digest daily at 08:30 tz Europe/Berlin",
        *(f"  {name}  -  {what}" for name, what in _SUMMARIES),
    ]
)

_URL = re.compile(r"\b(https?://[^\s?#'\"]+)[?#][^\s'\"]*")
_SECRETISH = re.compile(r"(?i)\b(token|key|secret|password|sig|signature)=[^\s&]+")


def redact(text: str) -> str:
    """Drop query strings from URLs and key=value secrets: status output never shows secrets."""
    return _SECRETISH.sub(r"\1=…", _URL.sub(r"\1?…", text))


def short_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.hostname:
        return redact(url)
    return f"{parts.scheme}://{parts.hostname}{parts.path}"


async def default_feed_checker(url: str) -> None:
    """The SSRF guard of the ingest side: scheme and host, then every address the name resolves to.

    Without the ingest package, only http(s) URLs with a host pass (the fetcher guards again)."""
    try:
        from bot.ingest.ssrf import check_url, resolve_and_check
    except ModuleNotFoundError:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnsafeURLError(f"refusing {url}: only http(s) URLs with a host are allowed") from None
        return
    check_url(url, allow_private=False, allow_file=False)
    parts = urlsplit(url)
    assert parts.hostname is not None  # check_url refuses a URL without a host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    await resolve_and_check(parts.hostname, port, False)


def _usage(command: str, problem: str | None = None) -> Reply:
    lines = [problem] if problem else []
    lines.append(f"Usage: {USAGE.get(command, HELP_TEXT)}")
    return Reply(text="\n".join(lines), ephemeral=True)


class CommandRouter:
    def __init__(self, store: Store, settings: Settings, *, feed_checker: FeedChecker | None = None):
        self.store = store
        self.settings = settings
        self.feed_checker = feed_checker or default_feed_checker

    async def handle(self, text: str, ctx: CommandContext) -> Reply:
        """Carry out one command ("subscribe chips min 70"); a leading slash is allowed."""
        try:
            words = tokens((text or "").strip().lstrip("/"))
        except CommandError as exc:
            return _usage("help", f"Could not read that: {exc}.")
        if words and words[0].lower() == "infrawire":  # "/infrawire recap week" is "/recap week"
            words = words[1:]
        if not words:
            return Reply(text=HELP_TEXT)
        name, args = words[0].lower(), words[1:]
        handler = self._handlers().get(name)
        if handler is None:
            return Reply(text=f"Unknown command {words[0]!r}.\n{HELP_TEXT}", ephemeral=True)
        clog = log.bind(command=name, platform=ctx.platform, channel=ctx.channel)
        try:
            return await handler(args, ctx)
        except CommandError as exc:
            return _usage(name, f"{exc}.")
        except InputError as exc:
            return Reply(text=str(exc), ephemeral=True)
        except Exception as exc:  # a bug must not take the adapter down; the asker gets a message
            clog.error("command.crashed", error=f"{type(exc).__name__}: {exc}")
            return Reply(text=f"Sorry, {name} failed with an internal error; it has been logged.")

    def _handlers(self) -> dict[str, Callable[[list[str], CommandContext], Awaitable[Reply]]]:
        return {
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "filters": self.filters,
            "recap": self.recap,
            "feeds": self.feeds,
            "status": self.status,
            "why": self.why,
            "help": self.help,
        }

    # -- subscriptions ---------------------------------------------------------------------------

    async def subscribe(self, args: list[str], ctx: CommandContext) -> Reply:
        parsed = parse_subscribe(args)
        if parsed.entities:
            parsed = replace(parsed, entities=self._canonical_entities(parsed.entities))
        current = await self.store.subscriptions.get_by_channel(ctx.platform, ctx.channel)
        base = current or Subscription(
            id=0, platform=ctx.platform, channel=ctx.channel, workspace=ctx.workspace, created_by=ctx.user
        )
        wanted = parsed.apply(replace(base, workspace=ctx.workspace or base.workspace))
        saved = await self.store.subscriptions.save(wanted, now=ctx.now)
        verb = "Updated" if current else "Subscribed"
        resumed = " (delivery resumed)" if current and current.paused_reason else ""
        log.info("subscription.saved", platform=ctx.platform, channel=ctx.channel, user=ctx.user)
        return Reply(text=f"{verb} this channel{resumed}.\n{describe(saved)}", ephemeral=False)

    def _canonical_entities(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Known names and aliases become the vocabulary's canonical names ("tsmc" -> "TSMC"),
        the form stories carry; unknown names stay as typed and are matched as words."""
        try:
            from bot.core.taxonomy import load_vocabulary
        except ModuleNotFoundError:
            return names
        vocab = load_vocabulary(self.settings.core.vocabulary)
        return tuple(dict.fromkeys(vocab.canonical(n) or n for n in names))

    async def unsubscribe(self, args: list[str], ctx: CommandContext) -> Reply:
        if args:
            raise CommandError(f"unsubscribe takes no words, got {args[0]!r}")
        removed = await self.store.subscriptions.remove(ctx.platform, ctx.channel)
        if not removed:
            return Reply(text="This channel has no subscription.")
        return Reply(text="Unsubscribed: this channel gets no more alerts or digests.", ephemeral=False)

    async def filters(self, args: list[str], ctx: CommandContext) -> Reply:
        if args:
            raise CommandError(f"filters takes no words, got {args[0]!r}")
        sub = await self.store.subscriptions.get_by_channel(ctx.platform, ctx.channel)
        if sub is None:
            return Reply(text="This channel has no subscription. Try: subscribe chips min 60")
        return Reply(text=describe(sub))

    # -- reading ---------------------------------------------------------------------------------

    async def recap(self, args: list[str], ctx: CommandContext) -> Reply:
        period, topic = parse_recap(args)
        start, end = window(period, ctx.now)
        # The store's window is half-open; a story seen this very second belongs in the recap.
        stories = await self.store.stories.window(start, end + timedelta(seconds=1))
        digest = build_recap(stories, period=period, topic=topic, now=ctx.now)
        return Reply(text=digest.title, message=digest, ephemeral=False)

    async def why(self, args: list[str], ctx: CommandContext) -> Reply:
        if not args:
            raise CommandError("why needs a story id or words from its title")
        query = " ".join(args)
        story = await self.store.stories.find(query)
        if story is None:
            matches = await search_story_titles(self.store.conn, query)
            if not matches:
                return Reply(text=f"No story matches {query!r}.")
            if len(matches) > 1:
                lines = [f"{len(matches)} stories match {query!r}; say which:"]
                lines += [f"  {sid}  {title}" for sid, title in matches]
                return Reply(text="\n".join(lines))
            story = await self.store.stories.get(matches[0][0])
            if story is None:
                return Reply(text=f"No story matches {query!r}.")
        text = await self._explain(story, ctx)
        if story.id != query and await self.store.stories.merged_into(query) == story.id:
            text = f"(story {query} has since been merged into story {story.id})\n{text}"
        return Reply(text=text)

    async def _explain(self, story: Story, ctx: CommandContext) -> str:
        lines = [
            story.title,
            f"story {story.id} · importance {story.importance}",
        ]
        if story.topics:
            lines.append("topics: " + ", ".join(story.topics))
        if story.entities:
            lines.append("entities: " + ", ".join(story.entities))
        lines.append("why: " + (story.explanation or "(no explanation recorded)"))
        if story.sources:
            lines.append("sources: " + ", ".join(s.name for s in story.sources))
        sub = await self.store.subscriptions.get_by_channel(ctx.platform, ctx.channel)
        if sub is not None:
            alert = await self.store.deliveries.alert(sub.id, story.id)
            if alert is not None and alert.payload.get("why"):
                lines.append(f"posted here because: {alert.payload['why']}")
        return "\n".join(lines)

    async def help(self, args: list[str], ctx: CommandContext) -> Reply:
        if args and args[0].lower() in USAGE:
            return Reply(text=f"Usage: {USAGE[args[0].lower()]}")
        return Reply(text=HELP_TEXT)

    # -- administration --------------------------------------------------------------------------

    async def feeds(self, args: list[str], ctx: CommandContext) -> Reply:
        if not ctx.is_admin:
            return Reply(text="Only workspace admins can manage feeds.", ephemeral=True)
        if not args:
            raise CommandError("feeds needs list, add URL or remove ID")
        action, rest = args[0].lower(), args[1:]
        if action in ("list", "ls"):
            return await self._feeds_list()
        if action == "add":
            if len(rest) != 1:
                raise CommandError("feeds add needs exactly one URL")
            return await self._feeds_add(rest[0], ctx)
        if action in ("remove", "rm", "delete"):
            if len(rest) != 1 or not rest[0].lstrip("#").isdigit():
                raise CommandError("feeds remove needs a feed id (a number, see feeds list)")
            feed_id = int(rest[0].lstrip("#"))
            if await self.store.feeds.remove(feed_id):
                return Reply(text=f"Removed feed {feed_id}; its stored articles stay.", ephemeral=False)
            return Reply(text=f"There is no feed {feed_id}.")
        raise CommandError(f"unknown feeds action {args[0]!r}")

    async def _feeds_list(self) -> Reply:
        feeds = await self.store.feeds.list()
        if not feeds:
            return Reply(text="No feeds yet. Add one: feeds add https://example.com/feed.xml")
        lines = []
        for feed in feeds:
            if feed.disabled_reason:
                state = f"disabled: {redact(feed.disabled_reason)}"
            elif feed.error_count:
                state = f"failing ({feed.error_count} errors): {redact(feed.last_error or '')}"
            else:
                state = "ok"
            lines.append(f"#{feed.id} {feed.title or short_url(feed.url)} <{short_url(feed.url)}> {state}")
        return Reply(text="\n".join(lines))

    async def _feeds_add(self, url: str, ctx: CommandContext) -> Reply:
        url = url.strip("<>")
        try:
            await self.feed_checker(url)
        except FeedError as exc:
            return Reply(text=f"Refused {short_url(url)}: {redact(str(exc))}")
        feed = await self.store.feeds.add(url, now=ctx.now, added_by=f"{ctx.platform}:{ctx.user}")
        return Reply(text=f"Added feed #{feed.id} <{short_url(feed.url)}>; it is polled from the next tick.")

    async def status(self, args: list[str], ctx: CommandContext) -> Reply:
        feeds = await self.store.feeds.list()
        ok = [f for f in feeds if f.enabled and f.error_count == 0]
        failing = [f for f in feeds if f.enabled and f.error_count > 0]
        disabled = [f for f in feeds if not f.enabled]
        checked = [f.last_checked_at for f in feeds if f.last_checked_at is not None]
        last = max(checked).strftime("%Y-%m-%d %H:%M UTC") if checked else "never"
        lines = [f"Feeds: {len(ok)} ok, {len(failing)} failing, {len(disabled)} disabled; last poll {last}"]
        for feed in failing:
            lines.append(
                f"  failing #{feed.id} {short_url(feed.url)}: {feed.error_count} errors, "
                f"last: {redact(feed.last_error or 'unknown')}"
            )
        for feed in disabled:
            lines.append(f"  disabled #{feed.id} {short_url(feed.url)}: {redact(feed.disabled_reason or '')}")
        counts = await self.store.deliveries.counts()
        pending = counts.get("pending", 0) + counts.get("sending", 0)
        lines.append(
            f"Deliveries: {pending} pending, {counts.get('failed', 0)} failed, {counts.get('sent', 0)} sent"
        )
        for failed in await self.store.deliveries.recent_failures(3):
            lines.append(f"  failed #{failed.id} ({failed.kind}): {redact(failed.last_error or '')}")
        paused = await self.store.subscriptions.paused()
        if paused:
            lines.append(f"Paused subscriptions: {len(paused)}")
            for sub in paused:
                lines.append(f"  {sub.platform} {sub.channel}: {redact(sub.paused_reason or '')}")
        for fault in await self.store.deliveries.adapter_faults():
            when = fault.at.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(f"Adapter {fault.platform} stopped at {when}: {redact(fault.reason)}")
        return Reply(text="\n".join(lines))


def describe(sub: Subscription) -> str:
    """A subscription's settings, one per line (what `filters` shows)."""
    lines = [
        "topics: " + (", ".join(sub.topics) if sub.topics else "all"),
        f"min importance: {sub.min_importance}",
        f"mode: {sub.mode}",
    ]
    if sub.digest:
        day = " (Mondays)" if sub.digest == "weekly" else ""
        lines.append(f"digest: {sub.digest}{day} at {sub.digest_time} {sub.timezone}")
    else:
        lines.append(f"digest: off (alerts over the pace arrive daily at {sub.digest_time} {sub.timezone})")
    if sub.include:
        lines.append("include: " + ", ".join(sub.include))
    if sub.exclude:
        lines.append("exclude: " + ", ".join(sub.exclude))
    if sub.entities:
        lines.append("entities: " + ", ".join(sub.entities))
    lines.append(f"pace: at most {sub.max_alerts_per_hour} alerts an hour")
    if sub.quiet_hours:
        lines.append(f"quiet hours: {sub.quiet_hours[0]}-{sub.quiet_hours[1]} {sub.timezone}")
    if sub.paused_reason:
        lines.append(f"PAUSED: {sub.paused_reason} (subscribe again to resume)")
    return "\n".join(lines)
