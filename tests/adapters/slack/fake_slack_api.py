"""A local fake of the Slack Web API (and of response_url endpoints) on loopback.

It behaves like Slack where our adapter depends on it: bearer tokens are checked, Block Kit limits
are enforced (violations get `invalid_blocks`, like Slack), each channel takes at most one message
per `rate_window_s` (else HTTP 429 with Retry-After), and some channel ids fail the way real
channels do. Everything posted is recorded. The limit checks here are written independently of
adapters/slack/blocks.py so that a rendering bug cannot hide itself.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

GOOD_TOKEN = "xoxb-fake-good-token"
APP_TOKEN = "xapp-fake-app-token"  # app-level token: only for apps.connections.open
# Tokens that authenticate but are in a fatal state, as Slack reports them.
TOKEN_ERRORS = {
    "xoxb-fake-revoked": "token_revoked",
    "xoxb-fake-inactive": "account_inactive",
}

# Channel ids that fail like real channels do: error code, or an HTTP status for server faults.
CHANNEL_FAULTS: dict[str, str | int] = {
    "CGONE": "channel_not_found",
    "CNOTIN": "not_in_channel",
    "CARCHIVED": "is_archived",
    "CSCOPE": "missing_scope",
    "CRESTRICTED": "restricted_action",
    "CINTERNAL": "internal_error",
    "CBROKEN": 500,
    "CUNAVAILABLE": 503,
}

TEAM_ID = "T0FAKE"
BOT_USER = "U0BOT"


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None


@dataclass
class FakeSlack:
    rate_window_s: float = 1.0
    tokens: set[str] = field(default_factory=lambda: {GOOD_TOKEN})
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[Posted] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # bodies posted to response_urls
    methods: list[str] = field(default_factory=list)  # every Web API method called, in order
    rejected: list[dict[str, Any]] = field(default_factory=list)  # what was refused and why
    clock: Callable[[], float] = time.monotonic
    _last_post: dict[str, float] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    port: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)  # open Socket Mode connections
    socket_acks: list[dict[str, Any]] = field(default_factory=list)  # what the app sent back

    # -- server -----------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds (checked after every recorded request).

        Callers bound the wait with the test timeout; nothing here measures time.
        """
        assert self._changed is not None
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def in_channel(self, channel: str) -> list[Posted]:
        return [p for p in self.posted if p.channel == channel]

    # -- request parsing --------------------------------------------------------------------------

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(await request.post()))
        for key in ("blocks",):  # form-encoded blocks arrive as a JSON string
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    @staticmethod
    def _error(code: str, status: int = 200, **extra: Any) -> web.Response:
        return web.json_response({"ok": False, "error": code, **extra}, status=status)

    # -- Web API ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.methods.append(method)
        try:
            return await self._dispatch(method, request)
        finally:
            await self._notify()

    async def _dispatch(self, method: str, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self._error("not_authed")
        token = auth.removeprefix("Bearer ").strip()
        if method == "apps.connections.open":
            if token != APP_TOKEN:
                return self._error("not_allowed_token_type" if token in self.tokens else "invalid_auth")
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if token in TOKEN_ERRORS:
            return self._error(TOKEN_ERRORS[token])
        if token not in self.tokens:
            return self._error("invalid_auth")
        args = await self._args(request)
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://fake.slack.test/",
                    "team": "Fake Team",
                    "user": "infrawire",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER,
                    "bot_id": "B0BOT",
                }
            )
        if method == "users.info":
            user = str(args.get("user", ""))
            if user not in self.users:
                return self._error("user_not_found")
            return web.json_response({"ok": True, "user": {"id": user, **self.users[user]}})
        if method == "chat.postMessage":
            return self._post_message(args)
        return self._error("unknown_method", status=404)

    def _post_message(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel", ""))
        fault = CHANNEL_FAULTS.get(channel)
        if isinstance(fault, int):
            return web.Response(status=fault, text="server error", content_type="text/plain")
        if fault == "missing_scope":
            return self._error("missing_scope", needed="chat:write", provided="commands")
        if fault is not None:
            return self._error(fault)
        problems = check_message(args.get("text"), args.get("blocks"))
        if problems:
            self.rejected.append({"channel": channel, "problems": problems})
            return self._error("invalid_blocks", errors=problems)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not any(p.ts == thread_ts and p.channel == channel for p in self.posted):
            return self._error("thread_not_found")
        now = self.clock()
        last = self._last_post.get(channel)
        if last is not None and now - last < self.rate_window_s:
            wait = max(1, math.ceil(self.rate_window_s - (now - last)))
            self.rejected.append({"channel": channel, "problems": ["rate"]})
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(wait)}
            )
        self._last_post[channel] = now
        ts = f"{1_800_000_000 + len(self.posted)}.{len(self.posted) + 1:06d}"
        self.posted.append(
            Posted(
                channel=channel,
                ts=ts,
                text=str(args.get("text") or ""),
                blocks=list(args.get("blocks") or []),
                thread_ts=str(thread_ts) if thread_ts is not None else None,
            )
        )
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}})

    # -- Socket Mode ------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    await self._notify()
        finally:
            self.sockets.remove(ws)
        return ws

    async def push_slash_command(self, envelope_id: str, payload: dict[str, Any]) -> None:
        """Deliver a slash command over every open Socket Mode connection, as Slack does."""
        envelope = {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": payload,
        }
        for ws in list(self.sockets):
            await ws.send_json(envelope)

    # -- response_url -----------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            problems = check_message(body.get("text"), body.get("blocks"))
            if problems:
                self.rejected.append({"response_url": request.match_info["key"], "problems": problems})
                return web.Response(status=400, text="invalid_blocks")
            self.responses.append({"key": request.match_info["key"], **body})
            return web.Response(text="ok")
        finally:
            await self._notify()


# -- Block Kit limits (independent of the adapter's renderer) ---------------------------------------


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def check_message(text: Any, blocks: Any) -> list[str]:
    """Every way `text` + `blocks` break Slack's limits; empty when the message is acceptable."""
    problems: list[str] = []
    if not text and not blocks:
        return ["no_text"]
    if text is not None and len(str(text)) > 40_000:
        problems.append("text longer than 40000")
    if blocks is None:
        return problems
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks > 50")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"blocks[{i}] ({kind})"
        if kind == "header":
            t = block.get("text", {})
            if t.get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
            if not 1 <= _text_len(t) <= 150:
                problems.append(f"{where}: header text length {_text_len(t)} not in 1..150")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: needs text or fields")
            if "text" in block and not 1 <= _text_len(block["text"]) <= 3000:
                problems.append(f"{where}: text length {_text_len(block['text'])} not in 1..3000")
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields > 10")
            for j, f in enumerate(fields):
                if not 1 <= _text_len(f) <= 2000:
                    problems.append(f"{where}: field {j} length {_text_len(f)} not in 1..2000")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: {len(elements)} elements not in 1..10")
            for j, e in enumerate(elements):
                if not 1 <= _text_len(e) <= 3000:
                    problems.append(f"{where}: element {j} length {_text_len(e)} not in 1..3000")
        elif kind == "divider":
            pass
        else:
            problems.append(f"{where}: unsupported block type")
    return problems
