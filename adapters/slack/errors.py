"""Slack Web API failures -> the dispatcher's SendError vocabulary.

Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`; rate limits come
as HTTP 429 with a Retry-After header. Messages name the error code, never a token.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.messages import ChannelGone, Fatal, Forbidden, RateLimited, SendError, Transient

CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"})
FATAL = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "no_permission",
        "org_login_required",
    }
)
FORBIDDEN = frozenset(
    {
        "missing_scope",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
        "access_denied",
    }
)
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

DEFAULT_RETRY_AFTER = 1.0


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is None:
            value = next((v for k, v in headers.items() if str(k).lower() == name.lower()), None)
    except AttributeError:
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return str(value) if value is not None else None


def retry_after(headers: Any) -> float:
    raw = _header(headers, "Retry-After")
    try:
        return max(float(raw), 0.0) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def fatal_message(code: str) -> str:
    return (
        f"Slack rejected the bot token ({code}): create or reinstall the app's bot token and set "
        "SLACK_BOT_TOKEN; the Slack adapter is stopped until then"
    )


def map_api_error(exc: SlackApiError, *, channel: str = "") -> SendError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = str(data.get("error", "")) if isinstance(data, dict) else ""
    where = f" (channel {channel})" if channel else ""
    if status == 429:
        return RateLimited(retry_after(getattr(response, "headers", None)), f"slack: rate limited{where}")
    if code in CHANNEL_GONE:
        hint = "; invite the app to the channel (/invite @infrawire)" if code == "not_in_channel" else ""
        return ChannelGone(f"slack: {code}{where}{hint}")
    if code in FATAL:
        return Fatal(fatal_message(code))
    if code in FORBIDDEN:
        needed = data.get("needed") if isinstance(data, dict) else None
        hint = f"; the app needs the {needed} scope" if needed else ""
        return Forbidden(f"slack: {code}{where}{hint}")
    if status >= 500 or code in TRANSIENT:
        return Transient(f"slack: {code or f'HTTP {status}'}{where}")
    # Unknown codes (invalid_arguments, msg_too_long...) are retried with backoff by the dispatcher
    # and end as failed deliveries; they never pause a channel.
    return Transient(f"slack: {code or f'HTTP {status}'}{where}")


def map_error(exc: BaseException, *, channel: str = "") -> SendError:
    """Any exception raised by a Web API call, as a SendError."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, SlackApiError):
        return map_api_error(exc, channel=channel)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return Transient(f"slack: network error: {type(exc).__name__}")
    if isinstance(exc, SlackClientError):
        return Transient(f"slack: client error: {type(exc).__name__}")
    raise exc
