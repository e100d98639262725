from __future__ import annotations

import argparse
import io
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

import bot.cli.console
import bot.cli.recap
from adapters.base import Adapter
from adapters.console import ConsoleAdapter
from bot.cli.console import session
from bot.commands import CommandRouter
from bot.config import Settings, parse_settings
from bot.dispatch import Dispatcher
from bot.errors import InputError
from bot.messages import (
    CardMessage,
    ChannelRef,
    CommandContext,
    DigestItem,
    DigestMessage,
    DigestSection,
    TextMessage,
)
from bot.models import SourceRef
from bot.routing import route_pending
from bot.store import Store
from tests.fixtures.channels import NOW, card_for, make_story, save_story

CHANNEL = ChannelRef(platform="console", channel="local")


def capture() -> tuple[ConsoleAdapter, io.StringIO]:
    buf = io.StringIO()
    return ConsoleAdapter(Console(file=buf, width=110, color_system=None, highlight=False)), buf


def card_message(**kw: object) -> CardMessage:
    fields: dict[str, object] = {
        "story_id": "9f3a7c21",
        "card": card_for("Regulator adds licence rule for [bold]accelerators[/bold]"),
        "importance": 82,
        "topics": ("chips", "export-controls"),
        "why_posted": "matches topics export-controls; importance 82 >= 60",
    }
    fields.update(kw)
    return CardMessage(**fields)  # type: ignore[arg-type]


async def test_is_an_adapter_and_renders_every_part_of_a_card() -> None:
    adapter, buf = capture()
    assert isinstance(adapter, Adapter) and adapter.platform == "console"
    receipt = await adapter.send(CHANNEL, card_message())
    out = buf.getvalue()
    for part in (
        "Regulator adds licence rule for [bold]accelerators[/bold]",  # markup in data stays text
        "What changed: Regulator adds licence rule",
        "Why it matters: It shifts who can buy accelerators and when.",
        "Who should care: infrastructure buyers, policy teams",
        "What to do next: Check exposure in current orders.",
        "Key takeaways",
        "• A first takeaway.",
        "Future implications",
        "• Pricing may move.",
        "Timeline",
        "2026-11-19",
        "An earlier step",
        "Sources",
        "• Wire One <https://wire-one.example/a>",
        "importance 82 · topics chips, export-controls · written by extractive · why posted: matches topics",
        "story 9f3a7c21",
    ):
        assert part in out, part
    assert receipt.message_id == "console-1" and receipt.thread_id == "console-1"


async def test_follow_ups_are_indented_thread_replies_and_ids_are_unique() -> None:
    adapter, buf = capture()
    first = await adapter.send(CHANNEL, card_message())
    mark = len(buf.getvalue())
    reply = await adapter.send(CHANNEL, card_message(followup="Wire Two adds: $5.5 billion"), thread=first)
    assert reply.message_id == "console-2" and reply.thread_id == first.thread_id
    lines = [line.rstrip() for line in buf.getvalue()[mark:].splitlines() if line.strip()]
    assert lines[0] == "    ↳ reply in thread of console-1"
    assert all(line.startswith("    ") for line in lines)
    assert any("Update: Wire Two adds: $5.5 billion" in line for line in lines)
    assert not any("Why it matters" in line for line in lines)  # the reply does not repeat the card


async def test_renders_digests_and_text() -> None:
    adapter, buf = capture()
    digest = DigestMessage(
        title="Top AI-infrastructure stories, week to 20 Nov 2026",
        period="week",
        sections=(
            DigestSection(
                topic="energy",
                items=(
                    DigestItem(
                        story_id="e1",
                        title="Grid A",
                        line="Grid A connects a campus.",
                        importance=90,
                        sources=(SourceRef("Wire One", "https://wire-one.example/e1"),),
                    ),
                ),
            ),
        ),
    )
    await adapter.send(CHANNEL, digest)
    await adapter.send(
        CHANNEL, DigestMessage(title="Recap", period="day", sections=(), empty_note="Nothing.")
    )
    await adapter.send(CHANNEL, TextMessage("plain [red]text[/red]"))
    out = buf.getvalue()
    assert "Top AI-infrastructure stories, week to 20 Nov 2026" in out
    assert "energy" in out and "[ 90] Grid A connects a campus." in out
    assert "Wire One <https://wire-one.example/e1>" in out
    assert "Nothing." in out
    assert "plain [red]text[/red]" in out


async def test_commands_routing_and_dispatch_end_to_end_through_the_console(tmp_path: Path) -> None:
    adapter, buf = capture()
    store = await Store.open(tmp_path / "e2e.db")
    try:
        router = CommandRouter(store, Settings())
        ctx = CommandContext(platform="console", channel="local", user="me", now=NOW, is_admin=True)
        assert (await router.handle("/subscribe chips min 60", ctx)).text.startswith("Subscribed")
        await save_story(store, make_story("s1", "Foundry doubles advanced packaging", importance=75))
        await save_story(store, make_story("s2", "Minor chip note", importance=30))
        await route_pending(store, NOW)
        dispatcher = Dispatcher(store, {"console": adapter})
        assert await dispatcher.run_once(NOW) == 1
        await store.stories.add_update("s1", "s1-a2", "facts", now=NOW, detail="2x capacity by 2027")
        await route_pending(store, NOW + timedelta(minutes=1))
        assert await dispatcher.run_once(NOW + timedelta(minutes=1)) == 1
        out = buf.getvalue()
        assert "Foundry doubles advanced packaging" in out and "Minor chip note" not in out
        flat = " ".join(line.strip("│ ") for line in out.splitlines())  # panel lines joined back
        assert "why posted: matches topics chips; importance 75 >= 60" in flat
        assert "    ↳ reply in thread of console-1" in out
        assert "Update: New details: 2x capacity by 2027" in out
    finally:
        await store.close()


def main(argv: list[str]) -> int:
    """Our two commands through argparse as `infrawire` registers them (other groups left out)."""
    parser = argparse.ArgumentParser(prog="infrawire")
    sub = parser.add_subparsers(dest="command")
    bot.cli.console.register(sub)
    bot.cli.recap.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def config(tmp_path: Path) -> Path:
    path = tmp_path / "infrawire.toml"
    path.write_text('[store]\npath = "bot.db"\n', encoding="utf-8")
    return path


async def test_console_session_reads_commands_until_eof(tmp_path: Path) -> None:
    settings = parse_settings({"store": {"path": str(tmp_path / "bot.db")}})
    store = await Store.open(settings.store.path)
    await save_story(store, make_story("s1", "Foundry doubles advanced packaging", importance=75))
    await store.close()
    adapter, buf = capture()
    script = io.StringIO("/subscribe chips min 60\n\n# a comment\n/filters\n/recap week\nsubscribe bananas\n")
    assert await session(settings, script, adapter, clock=lambda: NOW) == 0
    out = buf.getvalue()
    assert "Subscribed this channel." in out
    assert "topics: chips" in out
    assert "Top AI-infrastructure stories, week to 20 Nov 2026" in out
    assert "unknown word 'bananas'" in out
    store = await Store.open(settings.store.path)
    try:
        sub = await store.subscriptions.get_by_channel("console", "local")
        assert sub is not None and sub.min_importance == 60
    finally:
        await store.close()


def test_infrawire_console_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("/subscribe energy\nquit\n/filters\n"))
    assert main(["console", "--config", str(config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "Subscribed this channel." in out and "topics: energy" in out
    assert out.count("topics: energy") == 1  # nothing after quit ran
    assert (tmp_path / "bot.db").exists()


def test_infrawire_recap_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recap", "--week", "--topic", "semis", "--config", str(config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "Top chips stories, week to" in out and "No chips stories in the past week." in out
    with pytest.raises(InputError, match="--topic: unknown topic 'bananas'"):
        main(["recap", "--topic", "bananas", "--config", str(config(tmp_path))])


def test_commands_are_registered_with_infrawire() -> None:
    from bot.cli import COMMAND_MODULES

    assert {"bot.cli.console", "bot.cli.recap"} <= set(COMMAND_MODULES)
