"""A small Discord REST API on loopback, for discord.py to talk to in tests.

It answers the routes the adapter uses the way Discord does (status codes, JSON error codes,
rate-limit headers), enforces the message and embed limits, and records what was posted.
JSON answers carry `Content-Type: application/json` exactly: discord.py only parses JSON then.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "fake-bot-token"
APPLICATION_ID = 1_100_000_000_000_000_001
BOT_USER_ID = 1_100_000_000_000_000_002

# Discord's limits, written out independently of the adapter's constants.
LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field.name": 256,
    "field.value": 1024,
    "footer.text": 2048,
    "author.name": 256,
    "total": 6000,
}


@dataclass
class Posted:
    """A message the fake accepted."""

    id: str
    channel_id: str
    payload: dict[str, Any]
    via: str  # "bot" | "interaction" | "followup" | "webhook"
    reference: str | None = None  # the message it replies to

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.payload.get("flags") or 0) & 64)


@dataclass
class Flood:
    """A per-channel rate limit: `limit` messages per `window_s`; over it, 429 with `retry_after`."""

    limit: int
    window_s: float
    sent_at: list[float] = field(default_factory=list)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def embed_violations(payload: dict[str, Any]) -> list[str]:
    """Every limit the message payload breaks, as 'embeds.0.title: 300 > 256'."""
    problems = []
    content = payload.get("content") or ""
    if len(content) > LIMITS["content"]:
        problems.append(f"content: {len(content)} > {LIMITS['content']}")
    embeds = payload.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append(f"embeds: {len(embeds)} > {LIMITS['embeds']}")
    total = 0
    for i, embed in enumerate(embeds):
        parts = {
            "title": embed.get("title") or "",
            "description": embed.get("description") or "",
            "footer.text": (embed.get("footer") or {}).get("text") or "",
            "author.name": (embed.get("author") or {}).get("name") or "",
        }
        for key, text in parts.items():
            total += len(text)
            if len(text) > LIMITS[key]:
                problems.append(f"embeds.{i}.{key}: {len(text)} > {LIMITS[key]}")
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            problems.append(f"embeds.{i}.fields: {len(fields)} > {LIMITS['fields']}")
        for j, f in enumerate(fields):
            for key, text in (("field.name", f.get("name") or ""), ("field.value", f.get("value") or "")):
                total += len(text)
                if not text:
                    problems.append(f"embeds.{i}.fields.{j}.{key}: empty")
                if len(text) > LIMITS[key]:
                    problems.append(f"embeds.{i}.fields.{j}.{key}: {len(text)} > {LIMITS[key]}")
    if total > LIMITS["total"]:
        problems.append(f"embeds: {total} characters > {LIMITS['total']}")
    return problems


class FakeDiscordAPI:
    def __init__(self, *, token: str = TOKEN):
        self.token = token
        self.application_id = APPLICATION_ID
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self.posted: list[Posted] = []
        self.threads: dict[str, dict[str, Any]] = {}  # thread id -> channel payload
        self.callbacks: list[dict[str, Any]] = []  # interaction callbacks: id, token, type, data
        self.deleted_originals: list[str] = []  # interaction tokens whose original answer was deleted
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> synced commands
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        self.rejected: list[list[str]] = []  # limit violations of refused messages
        # Channel behaviour, set by tests.
        self.gone: set[str] = set()
        self.forbidden: dict[str, int] = {}  # channel -> 50001 / 50013
        self.no_threads: set[str] = set()  # threads not allowed: 403 50013 on thread creation
        self.floods: dict[str, Flood] = {}
        self.forced_429: dict[str, list[tuple[float, bool]]] = {}  # channel -> [(retry_after, via header)]
        self.server_errors: dict[str, int] = {}  # channel -> status to answer (e.g. 503)
        self.webhooks: dict[str, str] = {}  # webhook id -> token
        self._server: TestServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get("/api/v10/users/@me", self.me)
        r.add_get("/api/v10/oauth2/applications/@me", self.application)
        r.add_post("/api/v10/channels/{channel}/messages", self.create_message)
        r.add_post("/api/v10/channels/{channel}/messages/{message}/threads", self.start_thread)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self.interaction_callback)
        r.add_post("/api/v10/webhooks/{id}/{token}", self.execute_webhook)
        r.add_patch("/api/v10/webhooks/{id}/{token}/messages/{message}", self.edit_webhook_message)
        r.add_delete("/api/v10/webhooks/{id}/{token}/messages/{message}", self.delete_webhook_message)
        r.add_put("/api/v10/applications/{app}/commands", self.sync_commands)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self.sync_commands)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self.base_url

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}/api/v10"

    def add_webhook(self) -> str:
        """Register an incoming webhook; returns its URL in Discord's form."""
        webhook_id = str(next(self._ids))
        token = "w" * 68
        self.webhooks[webhook_id] = token
        return f"https://discord.com/api/webhooks/{webhook_id}/{token}"

    # -- views for assertions --------------------------------------------------------------------

    def in_channel(self, channel_id: int | str) -> list[Posted]:
        return [p for p in self.posted if p.channel_id == str(channel_id)]

    def status_count(self, status: int) -> int:
        return sum(1 for _, _, s in self.requests if s == status)

    # -- plumbing --------------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        self.requests.append((request.method, request.path, response.status))
        return response

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _id(self) -> str:
        return str(next(self._ids))

    def _user(self, user_id: int = BOT_USER_ID, name: str = "infrawire") -> dict[str, Any]:
        return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "bot": True}

    def _message(self, message_id: str, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": message_id,
            "channel_id": channel_id,
            "author": self._user(),
            "content": payload.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": int(payload.get("flags") or 0),
            "components": [],
        }

    def _check_limits(self, payload: dict[str, Any]) -> web.Response | None:
        problems = embed_violations(payload)
        if problems:
            self.rejected.append(problems)
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, status=400)
        return None

    def _ratelimit(self, channel: str, now: float) -> tuple[web.Response | None, dict[str, str]]:
        """A 429 for a flooded channel, else the headers of a normal answer."""
        forced = self.forced_429.get(channel)
        if forced:
            retry_after, via = forced.pop(0)
            headers = {
                "Retry-After": f"{retry_after:.3f}",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": f"channel-{channel}",
                "X-RateLimit-Scope": "user",
            }
            if via:  # Discord's own 429s carry Via; Cloudflare bans do not
                headers["Via"] = "1.1 google"
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            return _json(body, status=429, headers=headers), {}
        flood = self.floods.get(channel)
        if flood is None:
            return None, {
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Bucket": f"channel-{channel}",
            }
        flood.sent_at = [t for t in flood.sent_at if now - t < flood.window_s]
        reset_after = flood.window_s - (now - flood.sent_at[0]) if flood.sent_at else flood.window_s
        common = {
            "X-RateLimit-Limit": str(flood.limit),
            "X-RateLimit-Reset-After": f"{max(reset_after, 0.001):.3f}",
            "X-RateLimit-Bucket": f"channel-{channel}",
        }
        if len(flood.sent_at) >= flood.limit:
            headers = {**common, "X-RateLimit-Remaining": "0", "Retry-After": f"{reset_after:.3f}"}
            headers["Via"] = "1.1 google"
            headers["X-RateLimit-Scope"] = "user"
            body = {"message": "You are being rate limited.", "retry_after": reset_after, "global": False}
            return _json(body, status=429, headers=headers), {}
        flood.sent_at.append(now)
        return None, {**common, "X-RateLimit-Remaining": str(flood.limit - len(flood.sent_at))}

    def _channel_fault(self, channel: str) -> web.Response | None:
        if channel in self.gone:
            return _error(404, 10003, "Unknown Channel")
        if channel in self.forbidden:
            code = self.forbidden[channel]
            return _error(403, code, "Missing Access" if code == 50001 else "Missing Permissions")
        if channel in self.server_errors:
            return _error(self.server_errors[channel], 0, "Service Unavailable")
        return None

    # -- routes ----------------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json({**self._user(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def application(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        owner = self._user(1_100_000_000_000_000_003, "owner")
        owner["bot"] = False
        return _json(
            {
                "id": str(self.application_id),
                "name": "infrawire",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
            }
        )

    async def create_message(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        channel = request.match_info["channel"]
        fault = self._channel_fault(channel)
        if fault is not None:
            return fault
        parent = self.threads.get(channel, {}).get("parent_id")
        if parent is not None and parent in self.gone:
            return _error(404, 10003, "Unknown Channel")
        limited, headers = self._ratelimit(channel, asyncio.get_running_loop().time())
        if limited is not None:
            return limited
        payload = await request.json()
        rejected = self._check_limits(payload)
        if rejected is not None:
            return rejected
        reference = (payload.get("message_reference") or {}).get("message_id")
        message_id = self._id()
        self.posted.append(Posted(message_id, channel, payload, "bot", str(reference) if reference else None))
        return _json(self._message(message_id, channel, payload), headers=headers)

    async def start_thread(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        channel, message = request.match_info["channel"], request.match_info["message"]
        fault = self._channel_fault(channel)
        if fault is not None:
            return fault
        if channel in self.no_threads:
            return _error(403, 50013, "Missing Permissions")
        if not any(p.id == message and p.channel_id == channel for p in self.posted):
            return _error(404, 10008, "Unknown Message")
        if message in self.threads:
            return _error(400, 160004, "A thread has already been created for this message")
        body = await request.json()
        thread = {
            "id": message,  # Discord gives a thread started from a message that message's id
            "type": 11,
            "guild_id": "1",
            "parent_id": channel,
            "owner_id": str(BOT_USER_ID),
            "name": body["name"],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": datetime.now(UTC).isoformat(),
                "locked": False,
            },
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        self.threads[message] = thread
        return _json(thread, status=201)

    async def interaction_callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        data = body.get("data") or {}
        rejected = self._check_limits(data)
        if rejected is not None:
            return rejected
        interaction_id, token = request.match_info["id"], request.match_info["token"]
        self.callbacks.append({"id": interaction_id, "token": token, "type": body["type"], "data": data})
        message_id = self._id()
        if body["type"] == 4:
            self.posted.append(Posted(message_id, f"interaction:{token}", data, "interaction"))
        flags = int(data.get("flags") or 0)
        resource: dict[str, Any] = {"type": body["type"]}
        if body["type"] == 4:
            resource["message"] = self._message(message_id, "0", data)
        return _json(
            {
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_id": message_id,
                    "response_message_loading": body["type"] == 5,
                    "response_message_ephemeral": bool(flags & 64),
                },
                "resource": resource,
            }
        )

    async def execute_webhook(self, request: web.Request) -> web.Response:
        webhook_id, token = request.match_info["id"], request.match_info["token"]
        is_followup = webhook_id == str(self.application_id)
        if not is_followup:
            if webhook_id not in self.webhooks:
                return _error(404, 10015, "Unknown Webhook")
            if self.webhooks[webhook_id] != token:
                return _error(401, 50027, "Invalid Webhook Token")
        payload = await request.json()
        rejected = self._check_limits(payload)
        if rejected is not None:
            return rejected
        thread_id = request.query.get("thread_id")
        target = f"followup:{token}" if is_followup else f"webhook:{webhook_id}"
        if thread_id:
            target += f":thread:{thread_id}"
        message_id = self._id()
        self.posted.append(Posted(message_id, target, payload, "followup" if is_followup else "webhook"))
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(self._message(message_id, "0", payload))
        return web.Response(status=204)

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        payload = await request.json()
        rejected = self._check_limits(payload)
        if rejected is not None:
            return rejected
        token = request.match_info["token"]
        message_id = self._id()
        self.posted.append(Posted(message_id, f"followup:{token}", payload, "followup"))
        return _json(self._message(message_id, "0", payload))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        self.deleted_originals.append(request.match_info["token"])
        return web.Response(status=204)

    async def sync_commands(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        guild = request.match_info.get("guild")
        commands = await request.json()
        answered = []
        for command in commands:
            answered.append(
                {
                    "id": self._id(),
                    "application_id": request.match_info["app"],
                    "version": "1",
                    "type": command.get("type", 1),
                    "name": command["name"],
                    "description": command.get("description", ""),
                    "options": command.get("options", []),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "dm_permission": command.get("dm_permission", True),
                    "nsfw": command.get("nsfw", False),
                    **({"guild_id": guild} if guild else {}),
                }
            )
        self.commands[guild or "global"] = commands
        return _json(answered)
