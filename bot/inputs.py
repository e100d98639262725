"""Reading articles for `infrawire analyze`: files, folders, JSON Lines and stdin.

Each problem becomes an InputError naming the file (and line); the loader keeps going so one bad
input never hides the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bot.core import text as textmod
from bot.errors import InputError
from bot.models import Article

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def load_inputs(paths: Sequence[str], *, stdin: IO[str] | None = None) -> LoadResult:
    result = LoadResult()
    seen_ids: dict[str, int] = {}
    for raw in paths:
        for item in _load_path(raw, stdin):
            if isinstance(item, InputError):
                result.errors.append(item)
                continue
            # Two inputs with the same id would be indistinguishable in --json output.
            count = seen_ids.get(item.id, 0)
            seen_ids[item.id] = count + 1
            if count:
                item = _with_id(item, f"{item.id}#{count + 1}")
            result.articles.append(item)
    return result


def _with_id(article: Article, new_id: str) -> Article:
    return Article(
        id=new_id,
        title=article.title,
        text=article.text,
        url=article.url,
        source=article.source,
        published=article.published,
        content_hash=article.content_hash,
    )


def _load_path(raw: str, stdin: IO[str] | None) -> Iterator[Article | InputError]:
    if raw == "-":
        if stdin is None:
            yield InputError("-: no standard input")
            return
        yield from _jsonl_lines("<stdin>", stdin)
        return
    path = Path(raw)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
        if not files:
            yield InputError(f"{path}: no article files (.txt, .md, .html, .jsonl) in this folder")
        for file in files:
            yield from _load_file(file)
        return
    if not path.exists():
        yield InputError(f"{path}: no such file or folder")
        return
    yield from _load_file(path)


def _read_text(path: Path) -> str | InputError:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return InputError(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return InputError(f"{path}: not UTF-8 text (undecodable byte at offset {exc.start})")


def _load_file(path: Path) -> Iterator[Article | InputError]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        content = _read_text(path)
        if isinstance(content, InputError):
            yield content
            return
        yield from _jsonl_lines(str(path), content.splitlines())
        return
    content = _read_text(path)
    if isinstance(content, InputError):
        yield content
        return
    if suffix in {".html", ".htm"}:
        title = textmod.title_from_html(content) or ""
        body = textmod.clean(content)
    else:
        title, body = _split_title(content, markdown=suffix == ".md")
        body = textmod.clean(body)
        title = textmod.repair(title)
    if not body.strip() and not title.strip():
        yield InputError(f"{path}: empty article")
        return
    yield _article(id=path.name, title=title, text=body)


def _split_title(content: str, *, markdown: bool) -> tuple[str, str]:
    """The first non-empty line is the title, passing over site chrome ("Fresh, collected in 43m")."""
    lines = content.splitlines()
    first: tuple[str, int] | None = None
    for index, line in enumerate(lines):
        title = line.strip()
        if markdown:
            title = title.lstrip("#").strip()
        if not title:
            continue
        if first is None:
            first = (title, index)
        if textmod.strip_boilerplate(textmod.repair(title)).strip():
            return title, "\n".join(lines[index + 1 :])
    if first is None:
        return "", ""
    title, index = first
    return title, "\n".join(lines[index + 1 :])


def _jsonl_lines(name: str, lines: Iterable[str]) -> Iterator[Article | InputError]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(f"{where}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
            continue
        yield _from_object(where, obj, number)


def _from_object(where: str, obj: dict[str, Any], number: int) -> Article | InputError:
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return InputError(f"{where}: missing or empty 'text'")
    for key in ("id", "title", "url", "source", "published"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str | int):
            return InputError(f"{where}: '{key}' must be a string")
    published: datetime | None = None
    if obj.get("published"):
        try:
            published = parse_timestamp(str(obj["published"]))
        except ValueError:
            return InputError(f"{where}: 'published' is not an ISO 8601 date: {obj['published']!r}")
    return _article(
        id=str(obj.get("id") or f"line-{number}"),
        title=textmod.repair(str(obj.get("title") or "")),
        text=textmod.clean(text),
        url=str(obj["url"]) if obj.get("url") else None,
        source=str(obj["source"]) if obj.get("source") else None,
        published=published,
    )


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 (a trailing Z allowed) to tz-aware UTC; a date alone means midnight UTC."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _article(
    *,
    id: str,
    title: str,
    text: str,
    url: str | None = None,
    source: str | None = None,
    published: datetime | None = None,
) -> Article:
    return Article(
        id=id,
        title=title,
        text=text,
        url=url,
        source=source,
        published=published,
        content_hash=textmod.content_hash(title, text),
    )
