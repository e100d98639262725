"""`infrawire slack manifest` and the manifest it prints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from adapters.slack.manifest import BOT_SCOPES, COMMANDS, build_manifest, render_manifest, to_yaml
from bot.cli import slack as slack_cli
from bot.config import SlackSettings
from bot.errors import ConfigError

URL = "https://bot.example.com/slack/events"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="infrawire")
    slack_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_http_manifest_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["slack", "manifest", "--request-url", URL, "--format", "json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["oauth_config"]["scopes"]["bot"] == ["chat:write", "commands", "users:read"]
    assert manifest["settings"]["socket_mode_enabled"] is False
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    expected = {f"/{spec.name}" for spec in COMMANDS} | {"/infrawire"}
    assert set(commands) == expected
    assert all(c["url"] == URL and c["description"] for c in commands.values())
    assert commands["/recap"]["usage_hint"] == "day|week|month [topic]"


def test_socket_mode_manifest_from_config_with_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "infrawire.toml"
    config.write_text('[slack]\nmode = "socket"\ncommand_prefix = "iw-"\n', encoding="utf-8")
    assert run(["slack", "manifest", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("_metadata:\n")
    assert "socket_mode_enabled: true" in out
    assert '- command: "/iw-recap"' in out and '"/recap"' not in out
    assert '- command: "/infrawire"' in out
    assert "url:" not in out  # Socket Mode has no request URL


def test_http_mode_needs_a_request_url() -> None:
    with pytest.raises(ConfigError, match="--request-url is required"):
        build_manifest(SlackSettings(mode="http"))
    with pytest.raises(ConfigError, match="must be an http"):
        build_manifest(SlackSettings(mode="http"), request_url="ftp://x")


def test_yaml_output_matches_the_json_structure() -> None:
    manifest = build_manifest(SlackSettings(mode="http"), request_url=URL)
    text = to_yaml(manifest)
    # Every scope and command appears as a YAML list item, quoted safely.
    for scope in BOT_SCOPES:
        assert f'- "{scope}"' in text
    assert text.count("- command: ") == len(COMMANDS) + 1
    assert render_manifest(manifest, "json") == json.dumps(manifest, indent=2)
