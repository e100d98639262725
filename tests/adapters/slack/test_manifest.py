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
        build_manifest(SlackSettings.model_validate({"mode": "http"}))
    with pytest.raises(ConfigError, match="must be an http"):
        build_manifest(SlackSettings.model_validate({"mode": "http"}), request_url="ftp://x")


def test_yaml_output_matches_the_json_structure() -> None:
    manifest = build_manifest(SlackSettings.model_validate({"mode": "http"}), request_url=URL)
    text = to_yaml(manifest)
    # Every scope and command appears as a YAML list item, quoted safely.
    for scope in BOT_SCOPES:
        assert f'- "{scope}"' in text
    assert text.count("- command: ") == len(COMMANDS) + 1
    assert render_manifest(manifest, "json") == json.dumps(manifest, indent=2)


def _scalar(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    if text == "[]":
        return []
    if text.lstrip("-").isdigit():
        return int(text)
    return json.loads(text)


def read_block_yaml(lines: list[str], start: int = 0, indent: int = 0) -> tuple[object, int]:
    """Read the block-style YAML subset the manifest uses (maps, lists of maps/scalars)."""
    if lines[start].startswith(" " * indent + "- "):
        items: list[object] = []
        i = start
        while i < len(lines) and lines[i].startswith(" " * indent + "- "):
            rest = lines[i][indent + 2 :]
            if ": " in rest or rest.endswith(":"):
                # A map item: its first key is on the dash line, the others indented by two more.
                sub = [" " * (indent + 2) + rest]
                j = i + 1
                while (
                    j < len(lines)
                    and lines[j].startswith(" " * (indent + 2))
                    and not lines[j].startswith(" " * indent + "- ")
                ):
                    sub.append(lines[j])
                    j += 1
                value, _ = read_block_yaml(sub, 0, indent + 2)
                items.append(value)
                i = j
            else:
                items.append(_scalar(rest))
                i += 1
        return items, i
    out: dict[str, object] = {}
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.startswith(" " * indent) or line[indent] == " ":
            break
        key, _, rest = line[indent:].partition(":")
        if rest.strip():
            out[key] = _scalar(rest.strip())
            i += 1
        else:
            deeper = indent + 2
            out[key], i = read_block_yaml(lines, i + 1, deeper)
    return out, i


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_yaml_reads_back_to_the_same_manifest(mode: str) -> None:
    settings = SlackSettings.model_validate({"mode": mode, "command_prefix": "iw-"})
    manifest = build_manifest(settings, request_url=URL)
    text = render_manifest(manifest, "yaml")
    parsed, _ = read_block_yaml(text.splitlines())
    assert isinstance(parsed, dict)
    assert parsed.pop("_metadata") == {"major_version": 1, "minor_version": 1}
    assert parsed == manifest


@pytest.mark.parametrize("prefix", ["IW-", "iw ", "a-very-long-prefix-for-slack-"])
def test_bad_command_prefix_is_named(prefix: str) -> None:
    settings = SlackSettings.model_validate({"mode": "socket", "command_prefix": prefix})
    with pytest.raises(ConfigError, match=r"slack\.command_prefix"):
        build_manifest(settings)
