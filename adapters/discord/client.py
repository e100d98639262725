"""The discord.py client: no privileged intents, a CommandTree, and what the bot may do in a server.

Only the guilds intent is asked for: slash commands arrive as interactions whatever the intents,
and the bot never reads message content or member lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands

from adapters.discord.commands import SlashCommands

SCOPES: tuple[str, ...] = ("bot", "applications.commands")

# Exactly what the adapter does: see channels, post alert embeds, start a thread from an alert,
# post follow-ups in it, and reply to the alert where threads are not allowed.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    create_public_threads=True,
    send_messages_in_threads=True,
    read_message_history=True,
)

DEFAULT_API_BASE = "https://discord.com/api/v10"


def intents() -> discord.Intents:
    return discord.Intents(guilds=True)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot to a server with its scopes and permissions."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def use_api_base(url: str) -> None:
    """Point discord.py's REST calls at `url` (a rate-limit proxy, or a test server).

    discord.py builds every REST URL from the class attribute Route.BASE, so this is process-wide;
    one process talks to one Discord API.
    """
    discord.http.Route.BASE = url.rstrip("/")


class InfrawireClient(discord.Client):
    """A Client with infrawire's slash commands on its tree."""

    def __init__(self, commands: SlashCommands | None = None, *, max_ratelimit_timeout: float | None = 30.0):
        super().__init__(intents=intents(), max_ratelimit_timeout=max_ratelimit_timeout)
        self.tree: app_commands.CommandTree[InfrawireClient] = app_commands.CommandTree(self)
        if commands is not None:
            commands.register(self.tree)

    async def sync_commands(self, guild_ids: Sequence[int] = ()) -> dict[str, int]:
        """Publish the commands: to each guild (at once) when given, else globally (slow to appear)."""
        synced: dict[str, int] = {}
        if not guild_ids:
            synced["global"] = len(await self.tree.sync())
            return synced
        for guild_id in guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced[str(guild_id)] = len(await self.tree.sync(guild=guild))
        return synced
