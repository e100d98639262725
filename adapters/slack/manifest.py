"""The Slack app manifest: the commands, scopes and transport a workspace admin pastes into
"Create app -> From a manifest". No slack_bolt import here: the CLI uses it without the SDK.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.config import SlackSettings
from bot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str  # the bot.commands name ("recap")
    description: str
    usage_hint: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("recap", "Top AI-infrastructure stories of a period", "day|week|month [topic]"),
    CommandSpec(
        "subscribe",
        "Send alerts about AI infrastructure to this channel",
        "[topics...] [min N] [mode alerts|digest|both] [digest daily|weekly at HH:MM TZ]",
    ),
    CommandSpec("unsubscribe", "Stop alerts and digests in this channel", ""),
    CommandSpec("filters", "Show this channel's subscription settings", ""),
    CommandSpec("feeds", "List, add or remove feeds (admins)", "list | add URL | remove ID"),
    CommandSpec("why", "Explain why a story was rated the way it was", "STORY"),
    CommandSpec("status", "Feeds, deliveries and paused channels", ""),
    CommandSpec("help", "How to use infrawire", ""),
)

UMBRELLA = "infrawire"  # `/infrawire <command>` reaches every command

# Exactly the scopes the adapter uses: chat.postMessage (chat:write), slash commands (commands),
# users.info for the admin check (users:read). auth.test needs none.
BOT_SCOPES: tuple[str, ...] = ("chat:write", "commands", "users:read")
# Which Web API method needs which scope; tests check every method the adapter calls is covered.
METHOD_SCOPES: dict[str, str | None] = {
    "chat.postMessage": "chat:write",
    "users.info": "users:read",
    "auth.test": None,
    "apps.connections.open": None,  # Socket Mode: the xapp- token's connections:write, not a bot scope
}


_PREFIX = re.compile(r"[a-z0-9_-]*")
MAX_COMMAND_NAME = 32  # Slack's limit for a slash command, the slash included


def slash_names(settings: SlackSettings) -> dict[str, str]:
    """Slash command -> the command name it stands for ("" for the umbrella command)."""
    prefix = settings.command_prefix
    longest = max(len(spec.name) for spec in COMMANDS)
    if not _PREFIX.fullmatch(prefix) or 1 + len(prefix) + longest > MAX_COMMAND_NAME:
        raise ConfigError(
            f"slack.command_prefix {prefix!r}: use lowercase letters, digits, '-' or '_', at most "
            f"{MAX_COMMAND_NAME - 1 - longest} characters (Slack command names)"
        )
    names = {f"/{prefix}{spec.name}": spec.name for spec in COMMANDS}
    names[f"/{UMBRELLA}"] = ""
    return names


def build_manifest(
    settings: SlackSettings, *, request_url: str | None = None, name: str = "infrawire"
) -> dict[str, Any]:
    if settings.mode == "http":
        if not request_url:
            raise ConfigError(
                "--request-url is required in HTTP mode: the public https URL Slack calls "
                f"(it ends with slack.http_path, {settings.http_path})"
            )
        if not request_url.startswith(("https://", "http://")):
            raise ConfigError(f"--request-url {request_url!r}: must be an http(s) URL")
    commands: list[dict[str, Any]] = []
    for slash, command in slash_names(settings).items():
        spec = next((s for s in COMMANDS if s.name == command), None)
        entry: dict[str, Any] = {
            "command": slash,
            "description": spec.description if spec else "infrawire: any command, e.g. recap week",
            "should_escape": False,
        }
        hint = spec.usage_hint if spec else "recap|subscribe|unsubscribe|filters|feeds|why|status|help ..."
        if hint:
            entry["usage_hint"] = hint
        if settings.mode == "http":
            entry["url"] = request_url
        commands.append(entry)
    return {
        "display_information": {
            "name": name,
            "description": "Decision cards for AI-infrastructure news",
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "org_deploy_enabled": False,
            "socket_mode_enabled": settings.mode == "socket",
            "token_rotation_enabled": False,
        },
    }


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """A small YAML emitter for the manifest's plain dicts, lists and scalars."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 1))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: []")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                nested = to_yaml(item, indent + 1).splitlines()
                first = nested[0].strip()
                lines.append(f"{pad}- {first}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


def render_manifest(manifest: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(manifest, indent=2)
    return "_metadata:\n  major_version: 1\n  minor_version: 1\n" + to_yaml(manifest) + "\n"
