"""`infrawire slack manifest`: print the Slack app manifest for "Create app -> From a manifest"."""

from __future__ import annotations

import argparse

from adapters.slack.manifest import build_manifest, render_manifest
from bot.cli import add_config_option
from bot.config import load_settings

SETUP = """\
setup:
  1. infrawire slack manifest --request-url https://HOST/slack/events > manifest.yaml
     (Socket Mode: set slack.mode = "socket" in the config; no request URL needed)
  2. api.slack.com/apps -> Create New App -> From a manifest -> paste it; install to the workspace
  3. export SLACK_BOT_TOKEN (OAuth & Permissions, xoxb-...) and SLACK_SIGNING_SECRET
     (Basic Information); Socket Mode: SLACK_APP_TOKEN (an xapp- token with connections:write)
  4. set slack.enabled = true, run `infrawire run`, and /invite the app to a channel
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("slack", help="Slack app helpers (manifest)")
    sub = parser.add_subparsers(dest="slack_command", metavar="ACTION", required=True)
    manifest = sub.add_parser(
        "manifest",
        help="print the Slack app manifest (YAML or JSON)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SETUP,
    )
    manifest.add_argument(
        "--request-url",
        default=None,
        metavar="URL",
        help="public https URL Slack posts commands to (HTTP mode; ends with slack.http_path)",
    )
    manifest.add_argument("--format", choices=("yaml", "json"), default="yaml")
    manifest.add_argument("--name", default="infrawire", help="app and bot display name")
    add_config_option(manifest)
    manifest.set_defaults(func=run_manifest)


def run_manifest(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    data = build_manifest(settings.slack, request_url=args.request_url, name=args.name)
    print(render_manifest(data, args.format), end="" if args.format == "yaml" else "\n")
    return 0
