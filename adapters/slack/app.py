"""The slack-bolt side: tokens, the AsyncApp with its slash commands, and the two transports.

HTTP mode runs an aiohttp server on the bot's own event loop that hands every request to bolt
(bolt verifies the X-Slack-Signature of each one and answers 401 when it is wrong or older than
five minutes). Socket Mode connects out with the app-level token instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import Rendered, render, render_digest, render_text
from adapters.slack.errors import FATAL, map_error
from adapters.slack.manifest import slash_names
from bot.config import SlackSettings, secret
from bot.errors import ConfigError
from bot.log import get_logger
from bot.messages import CardMessage, CommandContext, DigestMessage, Fatal, Reply

log = get_logger(__name__)


class CommandHandler(Protocol):
    """What the adapter needs of bot.commands.CommandRouter."""

    async def handle(self, text: str, ctx: CommandContext) -> Reply: ...


# -- tokens -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackTokens:
    bot: str
    signing_secret: str | None = None
    app: str | None = None

    def __repr__(self) -> str:  # never show a token, even in a traceback
        return "SlackTokens(<hidden>)"

    @classmethod
    def from_env(cls, mode: str, env: Mapping[str, str] | None = None) -> SlackTokens:
        """Read the tokens the mode needs; a missing one is named (its value never is)."""
        bot = secret("SLACK_BOT_TOKEN", env)
        if bot is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set in the environment (the xoxb- bot token)")
        if mode == "http":
            signing = secret("SLACK_SIGNING_SECRET", env)
            if signing is None:
                raise ConfigError(
                    "SLACK_SIGNING_SECRET is not set in the environment (HTTP mode verifies every "
                    "request from Slack with it)"
                )
            return cls(bot=bot, signing_secret=signing)
        app = secret("SLACK_APP_TOKEN", env)
        if app is None:
            raise ConfigError(
                "SLACK_APP_TOKEN is not set in the environment (Socket Mode needs the xapp- app-level token)"
            )
        return cls(bot=bot, app=app, signing_secret=secret("SLACK_SIGNING_SECRET", env))


# -- admins -----------------------------------------------------------------------------------------


class AdminResolver:
    """Configured admin ids, else workspace admins/owners from users.info, cached for `ttl_s`."""

    def __init__(
        self,
        client: AsyncWebClient,
        admin_ids: list[str],
        *,
        ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.admin_ids = frozenset(admin_ids)
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self.admin_ids:
            return True
        cached = self._cache.get(user_id)
        now = self.clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            response = await self.client.users_info(user=user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            code = (
                str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else type(exc).__name__
            )
            log.warning("slack.users_info_failed", user=user_id, error=code)
            if code in ("user_not_found", "user_not_visible"):  # a definite answer: remember it
                self._cache[user_id] = (False, now + self.ttl_s)
            return False  # otherwise not cached: the next command asks again
        user = response.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._cache[user_id] = (admin, now + self.ttl_s)
        return admin


# -- commands ---------------------------------------------------------------------------------------


def router_text(slash: str, text: str, names: Mapping[str, str]) -> str:
    """`/recap week` -> "recap week"; `/infrawire recap week` -> "recap week"; `/infrawire` -> "help"."""
    command = names.get(slash, slash.lstrip("/"))
    text = " ".join(text.split())
    if command:
        return f"{command} {text}".strip()
    return text or "help"


MAX_RESPONSES = 5  # Slack accepts up to five posts to one response_url


def reply_payloads(reply: Reply) -> list[dict[str, Any]]:
    """A Reply as the bodies to post to the response_url, in order."""
    response_type = "ephemeral" if reply.ephemeral else "in_channel"
    message = reply.message
    rendered: list[Rendered] = []
    title = ""
    if isinstance(message, DigestMessage):
        # A response_url takes at most five posts, so a digest gets at most four pages here.
        rendered = render_digest(message, max_pages=MAX_RESPONSES - 1)
        title = message.title
    elif message is not None:
        rendered = render(message)
        title = message.card.title if isinstance(message, CardMessage) else ""
    payloads: list[dict[str, Any]] = []
    # The text is said first unless it only repeats the message's title (a recap's usual text).
    if reply.text.strip() and " ".join(reply.text.split()) != " ".join(title.split()):
        intro = render_text(reply.text)
        if rendered and len(intro.blocks) + len(rendered[0].blocks) <= 50:
            first = rendered[0]
            rendered[0] = Rendered([*intro.blocks, *first.blocks], intro.text)
        else:
            rendered.insert(0, intro)
    if not rendered:
        rendered = [render_text("Done.")]
    for part in rendered[:MAX_RESPONSES]:
        payloads.append({"text": part.text, "blocks": part.blocks, "response_type": response_type})
    return payloads


NowFn = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_bolt_app(
    settings: SlackSettings,
    tokens: SlackTokens,
    client: AsyncWebClient,
    router: CommandHandler | None,
    admins: AdminResolver,
    *,
    now: NowFn = _utcnow,
    inflight: set[asyncio.Task[Any]] | None = None,
) -> AsyncApp:
    """The AsyncApp with one listener per slash command (prefixed names plus `/infrawire`).

    Listener tasks are added to `inflight` while they run, so stopping can let them finish.
    """
    bolt = AsyncApp(
        client=client,
        signing_secret=tokens.signing_secret or "",
        request_verification_enabled=settings.mode == "http",
        process_before_response=False,  # ack first, then work: Slack wants the ack within 3 s
        name="infrawire",
    )
    names = slash_names(settings)

    async def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        task = asyncio.current_task()
        if inflight is not None and task is not None:
            inflight.add(task)
        try:
            await ack()  # an empty ack: the answer follows through the response_url
            await answer(command, respond)
        finally:
            if inflight is not None and task is not None:
                inflight.discard(task)

    async def answer(command: dict[str, Any], respond: Any) -> None:
        text = router_text(str(command.get("command", "")), str(command.get("text", "")), names)
        user = str(command.get("user_id", ""))
        channel = str(command.get("channel_id", ""))
        bound = log.bind(channel=channel, user=user, command=text.split(" ", 1)[0])
        try:
            if router is None:
                reply = Reply(text="infrawire is starting; try again in a moment.")
            else:
                ctx = CommandContext(
                    platform="slack",
                    channel=channel,
                    workspace=str(command.get("team_id", "")),
                    user=user,
                    now=now(),
                    is_admin=await admins.is_admin(user),
                )
                reply = await router.handle(text, ctx)
        except Exception as exc:  # a bug in a command must still answer the user
            bound.error("slack.command_failed", error=type(exc).__name__)
            reply = Reply(text="Sorry, that command failed on our side; it has been logged.")
        for payload in reply_payloads(reply):
            try:
                await respond(**payload)
            except Exception as exc:  # the response_url expired or Slack refused the body
                bound.warning("slack.respond_failed", error=type(exc).__name__)
                break
        bound.info("slack.command", ephemeral=reply.ephemeral)

    for slash in names:
        bolt.command(slash)(on_command)
    return bolt


# -- transports -------------------------------------------------------------------------------------


class HttpReceiver:
    """An aiohttp server on the running loop: POST `path` -> bolt (signature checked by bolt)."""

    def __init__(self, bolt: AsyncApp, *, host: str, port: int, path: str):
        self.bolt = bolt
        self.host = host
        self.port = port
        self.path = path
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def start(self) -> None:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self.path, self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        for address in runner.addresses:  # the real port when 0 was asked for
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break
        log.info("slack.http_listening", host=self.host, port=self.port, path=self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


class SocketReceiver:
    """Socket Mode: bolt's aiohttp handler, connected with the app-level token."""

    def __init__(self, bolt: AsyncApp, app_token: str):
        self.handler = AsyncSocketModeHandler(bolt, app_token)

    async def start(self) -> None:
        # Ask for the WebSocket URL ourselves first: the SDK's connect loop retries a rejected
        # app token forever, while we want a clear, fatal error naming the variable.
        client = self.handler.client
        try:
            response = await client.web_client.apps_connections_open(app_token=client.app_token)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "")) if exc.response is not None else ""
            if code in FATAL or code == "not_allowed_token_type":
                raise Fatal(
                    f"Slack rejected the app-level token ({code}): set SLACK_APP_TOKEN to an xapp- token "
                    "with the connections:write scope"
                ) from None
            raise map_error(exc) from None
        client.wss_uri = str(response["url"])
        await self.handler.connect_async()
        log.info("slack.socket_connected")

    async def stop(self) -> None:
        await self.handler.close_async()


Receiver = HttpReceiver | SocketReceiver


def build_receiver(settings: SlackSettings, bolt: AsyncApp, tokens: SlackTokens) -> Receiver:
    if settings.mode == "socket":
        if not tokens.app:
            raise ConfigError("SLACK_APP_TOKEN is not set in the environment (Socket Mode needs it)")
        return SocketReceiver(bolt, tokens.app)
    return HttpReceiver(bolt, host=settings.http_host, port=settings.http_port, path=settings.http_path)
