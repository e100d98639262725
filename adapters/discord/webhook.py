"""Webhook mode: post-only delivery to Discord incoming webhooks, for teams without a bot user.

Subscriptions name a webhook from the config (`[[discord.webhooks]] name = ...`) as their channel on
platform "webhook". A webhook cannot start a thread from a message, so follow-ups go into the
alert's thread when one is known and are posted plainly otherwise. Slash commands need the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import discord

from adapters.discord.embeds import render
from adapters.discord.errors import to_send_error
from bot.config import DiscordSettings, secret
from bot.errors import ConfigError
from bot.log import get_logger
from bot.messages import ChannelGone, ChannelRef, Message, Receipt, Transient

log = get_logger(__name__)


def webhook_urls(settings: DiscordSettings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """name -> URL for every configured webhook; a missing variable is a clear config error."""
    urls: dict[str, str] = {}
    for i, hook in enumerate(settings.webhooks):
        url = secret(hook.url_env, env)
        if url is None:
            raise ConfigError(
                f"discord.webhooks[{i}] ({hook.name}): environment variable {hook.url_env} is not set"
            )
        urls[hook.name] = url
    return urls


class WebhookAdapter:
    platform = "webhook"

    def __init__(self, urls: Mapping[str, str], *, session: aiohttp.ClientSession | None = None):
        self._urls = dict(urls)  # secrets: webhook URLs carry their token
        self._session = session
        self._own_session = session is None
        self._hooks: dict[str, discord.Webhook] = {}

    @classmethod
    def from_settings(cls, settings: DiscordSettings, env: Mapping[str, str] | None = None) -> WebhookAdapter:
        return cls(webhook_urls(settings, env))

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        for name, url in self._urls.items():
            try:
                self._hooks[name] = discord.Webhook.from_url(url, session=self._session)
            except ValueError:
                # Never echo the URL: it holds the webhook's token.
                raise ConfigError(f"discord webhook {name!r}: its URL is not a Discord webhook URL") from None
        log.info("discord.webhooks.ready", webhooks=",".join(sorted(self._hooks)))

    async def stop(self) -> None:
        self._hooks.clear()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, channel: ChannelRef, message: Message, *, thread: Receipt | None = None) -> Receipt:
        hook = self._hooks.get(channel.channel)
        if hook is None:
            if not self._hooks and self._urls:
                raise Transient("the webhook adapter is not started")
            raise ChannelGone(f"no Discord webhook named {channel.channel!r} in the config")
        thread_id = thread.thread_id if thread is not None else None
        first: discord.WebhookMessage | None = None
        try:
            for msg in render(message):
                kwargs: dict[str, Any] = {"wait": True, "allowed_mentions": discord.AllowedMentions.none()}
                if msg.content:
                    kwargs["content"] = msg.content
                if msg.embeds:
                    kwargs["embeds"] = msg.embeds
                if thread_id:
                    kwargs["thread"] = discord.Object(id=int(thread_id))
                sent = await hook.send(**kwargs)
                first = first or sent
        except discord.HTTPException as exc:
            if exc.status == 401:
                # A webhook's own token was rejected: that webhook is gone, not the whole adapter.
                raise ChannelGone(f"Discord rejected webhook {channel.channel!r} (401)") from exc
            raise to_send_error(exc) from exc
        except Exception as exc:
            raise to_send_error(exc) from exc
        if first is None:
            raise Transient("nothing to send")
        return Receipt(message_id=str(first.id), thread_id=thread_id)
