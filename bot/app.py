"""Wires the running bot from Settings: store, fetcher, pipeline, adapters, dispatcher, scheduler.

Platform adapters hook in through `ADAPTER_FACTORIES`: a platform package exposes
`create_adapter(app: App) -> Adapter` and is started only when its section is enabled in the config
and its token is in the environment. Discord webhooks listed in the config get the webhook adapter.
The console adapter is always there (console subscriptions print to the terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings, secret
from bot.core.taxonomy import load_vocabulary
from bot.errors import ConfigError
from bot.ingest.fetch import Fetcher
from bot.log import get_logger
from bot.pipeline import CardWriter, Pipeline
from bot.store import Store

log = get_logger(__name__)

# platform -> (module exposing create_adapter(app), the environment variable its token lives in)
ADAPTER_FACTORIES: dict[str, tuple[str, str]] = {
    "slack": ("adapters.slack", "SLACK_BOT_TOKEN"),
    "discord": ("adapters.discord", "DISCORD_TOKEN"),
}


def make_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(settings.poll)


async def close_fetcher(fetcher: Any) -> None:
    close = getattr(fetcher, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


def make_console_adapter() -> Any | None:
    try:
        console = importlib.import_module("adapters.console")
    except ModuleNotFoundError as exc:
        if exc.name != "adapters.console":
            raise
        return None
    return console.ConsoleAdapter()


@dataclass
class App:
    settings: Settings
    store: Store
    fetcher: Any
    pipeline: Pipeline
    adapters: dict[str, Any] = field(default_factory=dict)
    dispatcher: Any = None
    inflight: set[asyncio.Task[Any]] = field(default_factory=set)
    _llm: Any = None

    @classmethod
    async def create(
        cls,
        settings: Settings,
        *,
        now: datetime,
        fetcher: Any = None,
        adapters: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> App:
        store = await Store.open(settings.store.path, background_checkpoints=True)
        try:
            await sync_config_feeds(store, settings, now=now)
            vocab = load_vocabulary(settings.core.vocabulary)
            fetcher = fetcher if fetcher is not None else make_fetcher(settings)
            card_writer, llm = await _card_writer(settings)
            pipeline = Pipeline(store, settings, vocab, fetcher, card_writer=card_writer)
            app = cls(settings=settings, store=store, fetcher=fetcher, pipeline=pipeline, _llm=llm)
            app.adapters = dict(adapters) if adapters is not None else app._platform_adapters(env)
            app.dispatcher = app._make_dispatcher()
            await pipeline.restore(now)
        except BaseException:
            await store.close()
            raise
        return app

    def _platform_adapters(self, env: Mapping[str, str] | None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for platform, (module_name, token_env) in ADAPTER_FACTORIES.items():
            section = getattr(self.settings, platform)
            if not section.enabled:
                continue
            if secret(token_env, env) is None:
                raise ConfigError(f"{platform}.enabled is true but {token_env} is not set in the environment")
            module = importlib.import_module(module_name)
            found[platform] = module.create_adapter(self)
        if self.settings.discord.webhooks:
            # Webhook mode posts without a bot token; each webhook URL is read from its variable.
            found["webhook"] = importlib.import_module("adapters.discord").create_webhook_adapter(self)
        console = make_console_adapter()
        if console is not None:
            found.setdefault("console", console)
        return found

    def _make_dispatcher(self) -> Any:
        try:
            dispatch = importlib.import_module("bot.dispatch")
        except ModuleNotFoundError as exc:
            if exc.name != "bot.dispatch":
                raise
            return None
        return dispatch.Dispatcher(self.store, self.adapters, self.settings.dispatch)

    @contextlib.asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        """Mark the current task as in-flight work that shutdown waits for."""
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.inflight.discard(task)

    async def start_adapters(self) -> None:
        for adapter in self.adapters.values():
            await adapter.start()

    async def drain(self) -> None:
        """Wait until every in-flight job (a poll, a dispatch pass) has finished."""
        current = asyncio.current_task()
        while pending := [t for t in self.inflight if t is not current and not t.done()]:
            await asyncio.wait(pending)

    async def close(self) -> None:
        """Wait for in-flight jobs, then stop adapters and release the fetcher and the store."""
        await self.drain()
        for adapter in self.adapters.values():
            with contextlib.suppress(Exception):
                await adapter.stop()
        if self._llm is not None:
            await self._llm.__aexit__(None, None, None)
        await close_fetcher(self.fetcher)
        await self.store.close()


async def _card_writer(settings: Settings) -> tuple[CardWriter | None, Any]:
    if settings.summarizer.backend != "llm":
        return None, None
    from bot.llm import LLMSummarizer

    llm = LLMSummarizer(settings.llm)
    await llm.__aenter__()

    async def write(items: Any, card: Any) -> Any:
        outcome = await llm.card_for(list(items), card)
        return outcome.card

    return write, llm


async def sync_config_feeds(store: Store, settings: Settings, *, now: datetime) -> None:
    """Make sure every feed of the config file is in the database (state of known ones is kept)."""
    for feed in settings.feeds:
        await store.feeds.ensure(
            feed.url, now=now, title=feed.title, allow_private=feed.allow_private, backfill=feed.backfill
        )


def freeze_startup_objects() -> None:
    """Exempt what start-up built from the cyclic garbage collector's full passes.

    The vocabulary's patterns, the restored story index and the imported modules live as long as
    the process, yet each full collection walks them all again. Frozen, they cost a collection
    nothing; a 1,000-feed poll spent three times as long in the collector without this (about
    15 ms against 5, bench/poll.py). Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


async def run_forever(app: App, *, poll_tick_s: float | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM; then finish in-flight work and return."""
    from bot.scheduler import POLL_TICK_S, build_scheduler, unregister_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        # The first signal lets in-flight work finish; a second one gives up on it (the outbox
        # and the schedule-before-fetch make that safe: the work is redone after a restart).
        if stop.is_set():
            log.warning("app.forced_stop", cancelled=len(app.inflight))
            for task in list(app.inflight):
                task.cancel()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    app_id = f"app-{id(app)}"
    freeze_startup_objects()
    scheduler = build_scheduler(app_id, app, poll_tick_s=poll_tick_s or POLL_TICK_S)
    try:
        await app.start_adapters()
        scheduler.start()
        log.info("app.running", feeds=len(await app.store.feeds.list()), adapters=",".join(app.adapters))
        print("infrawire: running; Ctrl-C to stop", flush=True)
        await stop.wait()
        log.info("app.stopping")
    finally:
        if scheduler.running:
            # Pause first: no new job starts, while the ones in flight run to completion (shutting
            # the scheduler down would cancel them).
            scheduler.pause()
            await app.drain()
            scheduler.shutdown(wait=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await app.close()
        unregister_app(app_id)
        log.info("app.stopped")
