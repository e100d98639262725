"""The slash commands: Discord options in, the same text command every platform uses out.

Each command turns its options into the text a person would type after the slash (for example
"subscribe chips export-controls min 70 mode both"), hands it to `CommandRouter.handle` with a
CommandContext, and renders the Reply: ephemeral when the reply says so (errors, usage), public for
recaps, which are deferred first because building one may take a moment.
"""

from __future__ import annotations

import shlex
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from adapters.discord.embeds import Outgoing, render, text_chunks
from bot.log import get_logger
from bot.messages import CommandContext, DigestMessage, Reply
from bot.models import TOPICS

log = get_logger(__name__)

# Admin-only, as in the shared command core (bot.commands): managing the polled feeds.
ADMIN_COMMANDS = frozenset({"feeds"})
ADMIN_PERMISSIONS = discord.Permissions(manage_channels=True)
NOT_ADMIN = "This command needs the Manage Channels permission in this server."
FAILED = "Sorry, that command failed on our side; it has been logged."
AUTOCOMPLETE_MAX = 25  # Discord shows at most 25 suggestions

TOPIC_CHOICES = [app_commands.Choice(name=t, value=t) for t in TOPICS]


class CommandHandler(Protocol):
    async def handle(self, text: str, ctx: CommandContext) -> Reply: ...


Clock = Callable[[], datetime]
# (story id, title) of stories whose title contains the fragment: /why's autocomplete.
StorySearch = Callable[[str], Awaitable[Sequence[tuple[str, str]]]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


@cache
def default_entity_names() -> Sequence[str]:
    """Canonical entity names of the shipped vocabulary, for autocomplete (empty if unavailable)."""
    try:
        from bot.core.taxonomy import load_vocabulary

        return entity_names_of(load_vocabulary())
    except Exception:  # autocomplete is a convenience; never let it break a command
        return ()


def entity_names_of(vocab: object) -> tuple[str, ...]:
    """Sorted canonical entity names of a bot.core.taxonomy.Vocabulary."""
    entities = getattr(vocab, "entities", None)
    if not isinstance(entities, Mapping):
        return ()
    return tuple(sorted(str(name) for name in entities))


def suggest(options: Sequence[str], current: str, *, multi: bool = False) -> list[app_commands.Choice[str]]:
    """Up to 25 completions of `current`; with `multi`, of its last comma-separated part."""
    done, _, last = current.rpartition(",") if multi else ("", "", current)
    prefix = f"{done}, " if done.strip() else ""
    needle = last.strip().lower()
    starts = [o for o in options if o.lower().startswith(needle)]
    contains = [o for o in options if needle in o.lower() and o not in starts]
    out = []
    for option in [*starts, *contains][:AUTOCOMPLETE_MAX]:
        value = (prefix + option)[:100]  # Discord's cap on a choice's value
        out.append(app_commands.Choice(name=value, value=value))
    return out


def _items(text: str | None) -> list[str]:
    """Comma-separated items (entity names may contain spaces), stripped, without empties."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _list(items: Sequence[str]) -> str:
    # The shared grammar splits like a shell and then on commas: quote items, separate by commas.
    return ", ".join(shlex.quote(item) for item in items)


def subscribe_text(
    *,
    topics: Sequence[str] = (),
    min_importance: int | None = None,
    mode: str | None = None,
    digest: str | None = None,
    digest_time: str | None = None,
    timezone: str | None = None,
    include: str | None = None,
    exclude: str | None = None,
    entities: str | None = None,
    quiet: str | None = None,
    pace: int | None = None,
) -> str:
    """The text form of /subscribe's options, in the shared grammar (bot.command_grammar)."""
    parts = ["subscribe", *dict.fromkeys(topics)]
    if min_importance is not None:
        parts += ["min", str(min_importance)]
    if mode:
        parts += ["mode", mode]
    if digest:
        parts += ["digest", digest]
    if digest_time and digest_time.strip():
        parts += ["at", shlex.quote(digest_time.strip())]
    if timezone and timezone.strip():
        parts += ["tz", shlex.quote(timezone.strip())]
    for word, value in (("include", include), ("exclude", exclude), ("entity", entities)):
        items = _items(value)
        if items:
            parts += [word, _list(items)]
    if quiet and quiet.strip():
        parts += ["quiet", shlex.quote(quiet.strip())]
    if pace is not None:
        parts += ["pace", str(pace)]
    return " ".join(parts)


def context_for(interaction: discord.Interaction, now: datetime) -> CommandContext:
    perms = interaction.permissions
    return CommandContext(
        platform="discord",
        channel=str(interaction.channel_id or ""),
        workspace=str(interaction.guild_id or ""),
        user=str(interaction.user.id) if interaction.user else "",
        now=now,
        is_admin=bool(perms.manage_channels or perms.administrator),
    )


def reply_messages(reply: Reply) -> list[Outgoing]:
    """A Reply as Discord messages: its text, then its message, merged where they fit together."""
    text = reply.text
    if isinstance(reply.message, DigestMessage) and text.strip() == reply.message.title.strip():
        text = ""  # the digest's first message already carries its title
    out: list[Outgoing] = [Outgoing(content=chunk) for chunk in text_chunks(text)]
    if reply.message is not None:
        rendered = render(reply.message)
        if out and rendered and not rendered[0].content and out[-1].embeds == []:
            out[-1].embeds = rendered[0].embeds
            rendered = rendered[1:]
        out += rendered
    return out or [Outgoing(content="Done.")]


async def send_reply(interaction: discord.Interaction, reply: Reply, *, deferred: bool) -> None:
    messages = reply_messages(reply)
    ephemeral = reply.ephemeral
    if deferred and ephemeral:
        # The public "thinking" placeholder cannot turn private; replace it with a private answer.
        await interaction.delete_original_response()
    for i, msg in enumerate(messages):
        # Replies can echo what someone typed: never let that ping @everyone or a role.
        kwargs: dict[str, object] = {
            "ephemeral": ephemeral,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if msg.content:
            kwargs["content"] = msg.content
        if msg.embeds:
            kwargs["embeds"] = msg.embeds
        if i == 0 and not deferred and not interaction.response.is_done():
            await interaction.response.send_message(**kwargs)  # type: ignore[call-overload]
        else:
            await interaction.followup.send(**kwargs)  # type: ignore[call-overload]


class SlashCommands:
    """Registers infrawire's commands on a CommandTree and runs them through a CommandHandler."""

    def __init__(
        self,
        handler: CommandHandler | None,
        *,
        clock: Clock = _utcnow,
        entity_names: Callable[[], Sequence[str]] = default_entity_names,
        story_search: StorySearch | None = None,
    ):
        self.handler = handler
        self.clock = clock
        self.entity_names = entity_names
        self.story_search = story_search

    async def suggest_stories(self, current: str) -> list[app_commands.Choice[str]]:
        if self.story_search is None:
            return []
        try:
            found = await self.story_search(current.strip())
        except Exception as exc:  # autocomplete is best effort; the command itself still works
            log.warning("discord.autocomplete_failed", error=f"{type(exc).__name__}: {exc}")
            return []
        out = []
        for story_id, title in list(found)[:AUTOCOMPLETE_MAX]:
            label = f"{title} ({story_id})"
            if len(label) > 100:  # Discord's cap on a choice's name
                label = f"{title[: 97 - len(story_id) - 3]}… ({story_id})"
            out.append(app_commands.Choice(name=label[:100], value=story_id[:100]))
        return out

    def entity_choices(self, current: str) -> list[app_commands.Choice[str]]:
        try:
            names = self.entity_names()
        except Exception as exc:  # best effort, like every autocomplete
            log.warning("discord.autocomplete_failed", error=f"{type(exc).__name__}: {exc}")
            return []
        return suggest(names, current, multi=True)

    async def run(self, interaction: discord.Interaction, text: str, *, defer: bool = False) -> None:
        """Run the text command for this interaction and answer it."""
        name = text.split(" ", 1)[0]
        ctx = context_for(interaction, self.clock())
        clog = log.bind(command=name, guild=ctx.workspace, channel=ctx.channel, user=ctx.user)
        if name in ADMIN_COMMANDS and not ctx.is_admin:
            # Default permissions hide the command, but a server can re-grant it: check again.
            clog.info("discord.command.refused")
            await send_reply(interaction, Reply(text=NOT_ADMIN, ephemeral=True), deferred=False)
            return
        if defer:
            await interaction.response.defer(thinking=True)
        try:
            if self.handler is None:  # a client built only to sync the command definitions
                raise RuntimeError("no command handler is configured")
            reply = await self.handler.handle(text, ctx)
        except Exception as exc:  # the router promises not to raise; if it does, answer anyway
            clog.error("discord.command.crashed", error=f"{type(exc).__name__}: {exc}")
            reply = Reply(text=FAILED, ephemeral=True)
        clog.info("discord.command", ephemeral=reply.ephemeral)
        await send_reply(interaction, reply, deferred=defer)

    def register(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        for command in self.commands():
            tree.add_command(command)

    def commands(self) -> list[app_commands.Command[Any, ..., None] | app_commands.Group]:
        run = self.run

        @app_commands.command(name="subscribe", description="Send AI-infrastructure alerts to this channel")
        @app_commands.describe(
            topic="A topic to follow (leave all topics empty for every topic)",
            topic2="Another topic",
            topic3="Another topic",
            min_importance="Alert only from this importance (0-100); lower ones go to the digest",
            mode="Alerts, a digest, or both",
            digest="How often the digest comes",
            digest_time="Digest time as HH:MM",
            timezone="Time zone of the digest time, e.g. Europe/Berlin",
            include="Only stories mentioning any of these words (comma-separated)",
            exclude="Never stories mentioning any of these words (comma-separated)",
            entities="Only stories about these companies or products (comma-separated)",
            quiet="Quiet hours as HH:MM-HH:MM (or off); alerts wait until they end",
            pace="At most this many alerts an hour; more go to the digest",
        )
        @app_commands.choices(topic=TOPIC_CHOICES, topic2=TOPIC_CHOICES, topic3=TOPIC_CHOICES)
        @app_commands.guild_only()
        async def subscribe(
            interaction: discord.Interaction,
            topic: str | None = None,
            topic2: str | None = None,
            topic3: str | None = None,
            min_importance: app_commands.Range[int, 0, 100] | None = None,
            mode: Literal["alerts", "digest", "both"] | None = None,
            digest: Literal["daily", "weekly"] | None = None,
            digest_time: str | None = None,
            timezone: str | None = None,
            include: str | None = None,
            exclude: str | None = None,
            entities: str | None = None,
            quiet: str | None = None,
            pace: app_commands.Range[int, 1, 60] | None = None,
        ) -> None:
            topics = [t for t in (topic, topic2, topic3) if t]
            text = subscribe_text(
                topics=topics,
                min_importance=min_importance,
                mode=mode,
                digest=digest,
                digest_time=digest_time,
                timezone=timezone,
                include=include,
                exclude=exclude,
                entities=entities,
                quiet=quiet,
                pace=pace,
            )
            await run(interaction, text)

        @subscribe.autocomplete("timezone")
        async def _timezone(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return suggest(_timezones(), current)

        @subscribe.autocomplete("entities")
        async def _entities(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return self.entity_choices(current)

        @app_commands.command(name="unsubscribe", description="Stop infrawire posting in this channel")
        @app_commands.guild_only()
        async def unsubscribe(interaction: discord.Interaction) -> None:
            await run(interaction, "unsubscribe")

        @app_commands.command(name="filters", description="Show this channel's subscription settings")
        async def filters(interaction: discord.Interaction) -> None:
            await run(interaction, "filters")

        @app_commands.command(name="recap", description="The top AI-infrastructure stories of a period")
        @app_commands.describe(period="Day, week or month", topic="Only this topic")
        @app_commands.choices(topic=TOPIC_CHOICES)
        async def recap(
            interaction: discord.Interaction,
            period: Literal["day", "week", "month"] = "week",
            topic: str | None = None,
        ) -> None:
            await run(interaction, " ".join(p for p in ("recap", period, topic) if p), defer=True)

        feeds = app_commands.Group(
            name="feeds",
            description="Manage the polled feeds (needs Manage Channels)",
            default_permissions=ADMIN_PERMISSIONS,
            guild_only=True,
        )

        @feeds.command(name="list", description="List the feeds and their state")
        async def feeds_list(interaction: discord.Interaction) -> None:
            await run(interaction, "feeds list")

        @feeds.command(name="add", description="Add a feed by URL")
        @app_commands.describe(url="RSS, Atom or JSON Feed URL")
        async def feeds_add(interaction: discord.Interaction, url: str) -> None:
            await run(interaction, f"feeds add {url.strip()}")

        @feeds.command(name="remove", description="Remove a feed by its id")
        @app_commands.describe(feed_id="The feed's id, as /feeds list shows it")
        async def feeds_remove(interaction: discord.Interaction, feed_id: int) -> None:
            await run(interaction, f"feeds remove {feed_id}")

        @app_commands.command(name="status", description="Feeds, deliveries and paused subscriptions")
        async def status(interaction: discord.Interaction) -> None:
            await run(interaction, "status")

        @app_commands.command(name="why", description="Why a story was scored and posted as it was")
        @app_commands.describe(story="The story id (in the alert's footer), or words from its title")
        async def why(interaction: discord.Interaction, story: str) -> None:
            await run(interaction, f"why {story.strip()}")

        @why.autocomplete("story")
        async def _story(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return await self.suggest_stories(current)

        @app_commands.command(name="help", description="What infrawire can do")
        async def help_(interaction: discord.Interaction) -> None:
            await run(interaction, "help")

        return [subscribe, unsubscribe, filters, recap, feeds, status, why, help_]
