"""The `infrawire` command.

Each sub-command group lives in its own module with a `register(subparsers)` function that adds its
parsers and sets `func` (returning an exit code) on them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot import __version__
from bot.errors import InfrawireError

# Modules that add sub-commands, in help order.
COMMAND_MODULES = (
    "bot.cli.analyze",
    "bot.cli.run",
    "bot.cli.poll",
    "bot.cli.feeds",
    "bot.cli.db",
    "bot.cli.recap",
    "bot.cli.console",
    "bot.cli.slack",
    "bot.cli.demo",
    "bot.cli.discord",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infrawire", description="Decision cards for AI-infrastructure news."
    )
    parser.add_argument("--version", action="version", version=f"infrawire {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="PATH", default=None, help="TOML config file (default: embedded defaults)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except InfrawireError as exc:
        print(f"infrawire: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
