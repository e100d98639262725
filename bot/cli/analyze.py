"""`infrawire analyze [--json] PATH...` (placeholder until the core lands)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("analyze", help="triage, cluster and summarize article files")
    parser.add_argument("--json", action="store_true", help="one JSON object per article per line")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
