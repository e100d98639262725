"""Webhook mode: post-only delivery through discord.Webhook to the fake API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.base import Adapter
from adapters.discord.webhook import WebhookAdapter, webhook_urls
from bot.config import DiscordSettings
from bot.errors import ConfigError
from bot.messages import ChannelGone, ChannelRef, Receipt
from tests.adapters.discord.conftest import make_card, make_card_message
from tests.adapters.discord.fake_discord_api import FakeDiscordAPI

ALERTS = ChannelRef(platform="webhook", channel="infra-alerts")


@pytest.fixture
async def webhook(fake_api: FakeDiscordAPI) -> AsyncIterator[tuple[WebhookAdapter, str]]:
    url = fake_api.add_webhook()
    async with aiohttp.ClientSession() as session:
        adapter = WebhookAdapter({"infra-alerts": url}, session=session)
        await adapter.start()
        try:
            yield adapter, url.split("/")[-2]
        finally:
            await adapter.stop()


async def test_alert_is_posted_to_the_webhook(
    webhook: tuple[WebhookAdapter, str], fake_api: FakeDiscordAPI
) -> None:
    adapter, webhook_id = webhook
    assert isinstance(adapter, Adapter) and adapter.platform == "webhook"
    receipt = await adapter.send(ALERTS, make_card_message())
    [posted] = fake_api.in_channel(f"webhook:{webhook_id}")
    assert receipt == Receipt(message_id=posted.id)
    assert posted.embeds[0]["title"].startswith("Chipmaker widens")


async def test_followup_goes_into_a_known_thread_or_is_posted_plainly(
    webhook: tuple[WebhookAdapter, str], fake_api: FakeDiscordAPI
) -> None:
    adapter, webhook_id = webhook
    alert = await adapter.send(ALERTS, make_card_message())
    plain = await adapter.send(ALERTS, make_card_message(followup="Grid adds: 1 GW."), thread=alert)
    assert plain.thread_id is None
    assert fake_api.in_channel(f"webhook:{webhook_id}")[-1].embeds[0]["description"] == "Grid adds: 1 GW."
    threaded = await adapter.send(
        ALERTS,
        make_card_message(followup="more"),
        thread=Receipt(message_id=alert.message_id, thread_id="777"),
    )
    assert threaded.thread_id == "777"
    assert len(fake_api.in_channel(f"webhook:{webhook_id}:thread:777")) == 1


async def test_oversized_card_fits(webhook: tuple[WebhookAdapter, str], fake_api: FakeDiscordAPI) -> None:
    adapter, _ = webhook
    huge = "gigawatt " * 2000
    await adapter.send(ALERTS, make_card_message(card=make_card(what_changed=huge, why_it_matters=huge)))
    assert fake_api.rejected == []


async def test_unknown_name_and_deleted_webhook_are_channel_gone(
    webhook: tuple[WebhookAdapter, str], fake_api: FakeDiscordAPI
) -> None:
    adapter, webhook_id = webhook
    with pytest.raises(ChannelGone, match="no Discord webhook named"):
        await adapter.send(ChannelRef(platform="webhook", channel="elsewhere"), make_card_message())
    del fake_api.webhooks[webhook_id]
    with pytest.raises(ChannelGone, match="10015"):
        await adapter.send(ALERTS, make_card_message())


async def test_rejected_webhook_token_is_that_channel_gone_not_fatal(
    webhook: tuple[WebhookAdapter, str], fake_api: FakeDiscordAPI
) -> None:
    adapter, webhook_id = webhook
    fake_api.webhooks[webhook_id] = "x" * 68
    with pytest.raises(ChannelGone, match="401"):
        await adapter.send(ALERTS, make_card_message())


def test_urls_come_from_the_named_environment_variables() -> None:
    settings = DiscordSettings.model_validate({"webhooks": [{"name": "infra-alerts", "url_env": "HOOK_A"}]})
    assert webhook_urls(settings, {"HOOK_A": "https://discord.com/api/webhooks/1/t"}) == {
        "infra-alerts": "https://discord.com/api/webhooks/1/t"
    }
    with pytest.raises(ConfigError, match="HOOK_A is not set"):
        webhook_urls(settings, {})


async def test_a_malformed_url_is_a_config_error_that_does_not_echo_it() -> None:
    secret_url = "https://example.com/not-a-webhook/secret-token-value"
    adapter = WebhookAdapter({"infra-alerts": secret_url})
    try:
        with pytest.raises(ConfigError, match="infra-alerts") as caught:
            await adapter.start()
        assert "secret-token-value" not in str(caught.value)
    finally:
        await adapter.stop()
