"""Discord failures mapped onto the dispatcher's SendError vocabulary.

discord.py already paces requests by the rate-limit headers and sleeps out short 429s; what reaches
here is a wait longer than the adapter's `max_ratelimit_timeout` or a 429 it would not retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.messages import ChannelGone, Fatal, Forbidden, RateLimited, SendError, Transient

# Discord JSON error codes we act on.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
THREAD_ALREADY_CREATED = 160004

BAD_TOKEN = "Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN"
DEFAULT_RETRY_AFTER_S = 5.0


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return DEFAULT_RETRY_AFTER_S


def _describe(exc: discord.HTTPException) -> str:
    text = (exc.text or "").strip()
    return f"Discord answered {exc.status} (code {exc.code})" + (f": {text}" if text else "")


def to_send_error(exc: BaseException) -> SendError:
    """The SendError for a failure raised by discord.py or the network under it."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after, "Discord rate limit")
    if isinstance(exc, discord.LoginFailure):
        return Fatal(BAD_TOKEN)
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        if status == 429:
            return RateLimited(_retry_after(exc), "Discord rate limit")
        if status == 401:
            return Fatal(BAD_TOKEN)
        if status == 404 or code in (UNKNOWN_CHANNEL, UNKNOWN_WEBHOOK):
            return ChannelGone(_describe(exc))
        if status == 403 or code in (MISSING_ACCESS, MISSING_PERMISSIONS):
            return Forbidden(_describe(exc))
        # 5xx after discord.py's own retries, and anything else unexpected: retry with backoff.
        return Transient(_describe(exc))
    if isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.ConnectionClosed)):
        return Transient(f"network error talking to Discord: {type(exc).__name__}: {exc}")
    return Transient(f"unexpected Discord failure: {type(exc).__name__}: {exc}")


def is_code(exc: BaseException, *codes: int) -> bool:
    return isinstance(exc, discord.HTTPException) and exc.code in codes


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Run a block of Discord calls, re-raising any failure as the matching SendError."""
    try:
        yield
    except SendError:
        raise
    except (TimeoutError, discord.DiscordException, aiohttp.ClientError, OSError) as exc:
        raise to_send_error(exc) from exc
