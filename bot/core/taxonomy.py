"""The AI-infrastructure vocabulary, loaded from bot/data/vocabulary.toml and compiled for matching.

The vocabulary is data: topics with weighted terms, relevance cues (AI context, negative contexts, the
crypto-to-AI pivot), entity roles, entities with aliases, and audiences. `load_vocabulary` merges the
user's additions from config and compiles every term into two regular expressions (case-insensitive
and case-sensitive) built as character tries, so scanning an article is one pass per expression and
never a loop over terms.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.errors import ConfigError
from bot.models import TOPICS

if TYPE_CHECKING:
    from bot.config import VocabularyExtension

__all__ = [
    "AUDIENCES",
    "EntityInfo",
    "Entry",
    "Hit",
    "Matcher",
    "RoleInfo",
    "Vocabulary",
    "load_vocabulary",
]

DATA_FILE = "vocabulary.toml"

# Entry kinds: what a matched term is evidence of.
TOPIC = "topic"  # key: topic name
AI = "ai"  # AI context
NEGATIVE = "neg"  # key: negative-context class (gaming, markets, consumer, crypto, automotive, other)
PIVOT = "pivot"  # a crypto miner hosting AI compute
ENTITY = "entity"  # key: canonical entity name
NEUTRAL = "neutral"  # shadows a shorter negative word inside it; no evidence


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    key: str
    weight: float


class Hit(NamedTuple):
    """One matched term: where it is, the normalised term, and what it is evidence of.

    A NamedTuple rather than a frozen dataclass: articles produce many hits and this is the hot path.
    """

    start: int
    end: int
    term: str  # normalised term as in the vocabulary
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class RoleInfo:
    name: str
    weight: float  # AI-infrastructure evidence of naming such an entity
    topics: tuple[str, ...]
    label: str
    topic_weight: float = 0.6  # how strongly naming such an entity signals its topics


@dataclass(frozen=True, slots=True)
class EntityInfo:
    name: str
    type: str
    role: str
    aliases: tuple[str, ...]
    major: bool = False
    # A name that is also an everyday word or name ("Gaudi" the racehorse, "Blackwell" the football
    # club): it only counts when the article holds other infrastructure evidence.
    ambiguous: bool = False


_NON_LATIN = re.compile("[\u0600-\u06ff\u0e00-\u0e7f\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Latin-script terms need word boundaries against Latin letters and digits only: in Chinese, Japanese
# or Korean text "GPU" is often glued to the characters around it ("英伟达的GPU芯片", "GPU를").
_LATIN_CHAR = "[0-9A-Za-z_\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]"
_SEPARATORS = re.compile(r"[\s\-‐‑–]+")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&.]{0,4}s?$")


def _norm(term: str, *, case_sensitive: bool) -> str:
    text = _SEPARATORS.sub(" ", term.strip())
    return text if case_sensitive else text.lower()


def _is_case_sensitive(term: str) -> bool:
    """Short all-capital acronyms ("AI", "BIS", "HBM") only count when written in capitals."""
    letters = term.replace(" ", "")
    return bool(_ACRONYM.match(letters)) and any(c.isalpha() for c in letters)


def _trie_regex(terms: Iterable[str]) -> str:
    """A regex alternation of `terms` shaped as a character trie (shared prefixes matched once)."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _node_regex(trie)


def _node_regex(node: dict[str, Any]) -> str:
    end = "" in node
    branches = []
    for ch in sorted(k for k in node if k):
        piece = r"[\s\-‐‑–]+" if ch == " " else re.escape(ch)
        branches.append(piece + _node_regex(node[ch]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if end:
        # A term ends here; longer terms continue (greedy, so the longest wins).
        return f"(?:{body})?"
    return body


_LATIN_ONE = re.compile(_LATIN_CHAR)


def _word_starts(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Like pattern.finditer(text) with `(?<!_LATIN_CHAR)` before the pattern: a match that starts
    inside a word is skipped and the search resumes one character later (same matches, found faster)."""
    pos = 0
    search = pattern.search
    latin = _LATIN_ONE.match
    while True:
        match = search(text, pos)
        if match is None:
            return
        start = match.start()
        if start and latin(text, start - 1):
            pos = start + 1
            continue
        yield match
        pos = match.end()


class Matcher:
    """Finds every vocabulary term in a text with one trie-shaped regex per kind of term.

    Case-insensitive terms run over the lower-cased text (much faster than re.IGNORECASE);
    case-sensitive terms over the text as written; terms in scripts without spaces only when the text
    contains such characters (a boundary-free alternative would make every position expensive).
    """

    __slots__ = ("_ci", "_cs", "_lookup", "_other")

    def __init__(self, table: Mapping[tuple[str, bool], tuple[Entry, ...]]) -> None:
        self._lookup = dict(table)
        ci = [t for (t, cs) in table if not cs and not _NON_LATIN.search(t)]
        cs = [t for (t, cs) in table if cs and not _NON_LATIN.search(t)]
        other = [t for (t, cs) in table if _NON_LATIN.search(t)]
        self._ci = self._words_regex(ci, lookbehind=True)
        # Case-sensitive terms start with capitals, which are rare: without a lookbehind at its start
        # the regex engine skips straight to candidate letters; the boundary is checked in scan().
        self._cs = self._words_regex(cs, lookbehind=False)
        self._other = re.compile("(" + _trie_regex(other) + ")") if other else None

    @staticmethod
    def _words_regex(terms: list[str], *, lookbehind: bool) -> re.Pattern[str] | None:
        # Word-like boundaries that also work for terms ending in punctuation ("A.I.", "U.S."), plus
        # an optional plural.
        if not terms:
            return None
        before = f"(?<!{_LATIN_CHAR})" if lookbehind else ""
        return re.compile(f"{before}(" + _trie_regex(terms) + f")(?:e?s)?(?!{_LATIN_CHAR})")

    def scan(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        lower = text.lower()
        passes: list[tuple[re.Pattern[str] | None, str, bool]] = [
            (self._ci, lower, False),
            (self._cs, text, True),
        ]
        if not text.isascii() and _NON_LATIN.search(text):
            passes.append((self._other, lower, False))
        lookup = self._lookup
        for pattern, subject, cs in passes:
            if pattern is None:
                continue
            for match in (
                pattern.finditer(subject) if pattern is not self._cs else _word_starts(pattern, subject)
            ):
                term = match.group(1)
                if not term.isalnum():
                    term = _norm(term, case_sensitive=True)
                entries = lookup.get((term, cs))
                if entries is not None:
                    hits.append(Hit(match.start(), match.end(), term, entries))
        if not hits:
            return hits
        # Passes can find the same words ("Nvidia H100" and "H100"); keep the longest.
        hits.sort(key=lambda h: (h.start, -h.end))
        kept: list[Hit] = []
        reach = -1
        for hit in hits:
            if hit.end <= reach:
                continue
            kept.append(hit)
            reach = hit.end
        return kept


@dataclass(frozen=True, slots=True)
class Vocabulary:
    topics: tuple[str, ...]
    audiences: tuple[str, ...]
    topic_audiences: Mapping[str, tuple[str, ...]]
    topic_terms: Mapping[str, Mapping[str, float]]
    roles: Mapping[str, RoleInfo]
    entities: Mapping[str, EntityInfo]
    export_actions: frozenset[str]
    novelty_words: frozenset[str]
    matcher: Matcher = field(repr=False, compare=False)
    _aliases: Mapping[str, str] = field(repr=False, compare=False, default_factory=dict)

    def scan(self, text: str) -> list[Hit]:
        """Every vocabulary term in `text`, in order of position."""
        return self.matcher.scan(text)

    def canonical(self, name: str) -> str | None:
        """The canonical entity name for a name or alias ("NVIDIA Corp." -> "Nvidia")."""
        found = self._aliases.get(_norm(name, case_sensitive=False))
        return found

    def role(self, entity: str) -> RoleInfo | None:
        info = self.entities.get(entity)
        return self.roles.get(info.role) if info else None

    def iter_aliases(self) -> Iterator[tuple[str, str]]:
        """(alias, canonical name) pairs, for display and tests."""
        for info in self.entities.values():
            yield info.name, info.name
            for alias in info.aliases:
                yield alias, info.name


# --------------------------------------------------------------------------------------------------
# Loading


def _read_data() -> dict[str, Any]:
    source = Path(__file__).resolve().parent.parent / "data" / DATA_FILE
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"bot/data/{DATA_FILE}: cannot load the vocabulary ({exc})") from exc


def _weights(table: Mapping[str, Any], where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for term, weight in table.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            raise ConfigError(f"bot/data/{DATA_FILE}: [{where}] '{term}' must have a numeric weight")
        out[term] = float(weight)
    return out


class _TableBuilder:
    """Collects (term, case-sensitivity) -> entries, keeping the largest weight per (kind, key)."""

    def __init__(self) -> None:
        self.table: dict[tuple[str, bool], dict[tuple[str, str], float]] = {}

    def add(self, term: str, kind: str, key: str, weight: float, *, cs: bool | None = None) -> None:
        term = term.strip()
        if term.startswith("="):
            term, cs = term[1:], True
        if not term:
            return
        if cs is None:
            cs = _is_case_sensitive(term)
        if _NON_LATIN.search(term):
            cs = False
        norm = _norm(term, case_sensitive=cs)
        entries = self.table.setdefault((norm, cs), {})
        entries[(kind, key)] = max(weight, entries.get((kind, key), 0.0))

    def build(self) -> dict[tuple[str, bool], tuple[Entry, ...]]:
        # A term swallows the shorter terms inside it ("Nvidia H100" hides "Nvidia", "AI data center"
        # hides "AI"), because a regex match never overlaps; give the long term their entries too.
        ci_index = {t: e for (t, cs), e in self.table.items() if not cs}
        cs_index = {t: e for (t, cs), e in self.table.items() if cs}
        out: dict[tuple[str, bool], tuple[Entry, ...]] = {}
        for (term, cs), entries in self.table.items():
            merged = dict(entries)
            # "GPUs" written as its own term still carries the entries of "GPU".
            for stem in (term[:-1], term[:-2]) if term.lower().endswith("s") else ():
                for found in (self.table.get((stem, cs)), self.table.get((stem.lower(), False))):
                    for key, weight in (found or {}).items():
                        merged[key] = max(weight, merged.get(key, 0.0))
            words = term.split(" ")
            if len(words) > 1:
                for size in range(1, len(words)):
                    for start in range(len(words) - size + 1):
                        sub = " ".join(words[start : start + size])
                        found_in = [ci_index.get(sub.lower())]
                        found_in += [cs_index.get(v) for v in {sub, sub.upper(), sub.title()}]
                        for found in found_in:
                            for key, weight in (found or {}).items():
                                # Only names and AI context: "Treasury yields" must not become
                                # supply-chain evidence through "yields".
                                if key[0] in (ENTITY, AI):
                                    merged[key] = max(weight, merged.get(key, 0.0))
            out[(term, cs)] = tuple(Entry(kind, key, weight) for (kind, key), weight in merged.items())
        return out


_EXTENSION_TYPES = {
    "organizations": "organization",
    "products": "product",
    "regulators": "regulator",
    "places": "place",
    "people": "person",
}
USER_ROLE = "user-entity"


def _build(data: Mapping[str, Any], extension: VocabularyExtension | None) -> Vocabulary:
    where = f"bot/data/{DATA_FILE}"
    try:
        audiences = tuple(data["audiences"]["names"])
        topic_audiences = {k: tuple(v) for k, v in data["topic_audiences"].items()}
        topic_tables = data["topics"]
        relevance = data["relevance"]
        role_tables = data["roles"]
        entity_tables = data["entities"]
        actions = data["importance"]["actions"]
    except KeyError as exc:
        raise ConfigError(f"{where}: missing section {exc}") from exc
    unknown = sorted(set(topic_tables) - set(TOPICS))
    if unknown:
        raise ConfigError(f"{where}: unknown topics {unknown}")

    builder = _TableBuilder()
    topic_terms: dict[str, dict[str, float]] = {}
    for topic in TOPICS:
        terms = _weights(topic_tables.get(topic, {}), f"topics.{topic}")
        if extension is not None:
            for term in extension.topic_terms.get(topic, []):
                terms.setdefault(term, 2.0)
        topic_terms[topic] = terms
        for term, weight in terms.items():
            builder.add(term, TOPIC, topic, weight)
    if extension is not None:
        bad = sorted(set(extension.topic_terms) - set(TOPICS))
        if bad:
            raise ConfigError(f"core.vocabulary.topic_terms: unknown topics {bad}; known: {list(TOPICS)}")
    for term, weight in _weights(relevance.get("ai", {}), "relevance.ai").items():
        builder.add(term, AI, "", weight)
    for cls, table in relevance.get("negative", {}).items():
        for term, weight in _weights(table, f"relevance.negative.{cls}").items():
            builder.add(term, NEGATIVE, cls, weight)
    for term, weight in _weights(relevance.get("pivot", {}), "relevance.pivot").items():
        builder.add(term, PIVOT, "", weight)
    for term in relevance.get("neutral", {}):
        builder.add(term, NEUTRAL, "", 0.0)

    roles: dict[str, RoleInfo] = {}
    for name, spec in role_tables.items():
        roles[name] = RoleInfo(
            name=name,
            weight=float(spec.get("weight", 0)),
            topics=tuple(spec.get("topics", ())),
            label=str(spec.get("label", name)),
            topic_weight=float(spec.get("topic_weight", 0.6)),
        )
    roles.setdefault(USER_ROLE, RoleInfo(USER_ROLE, 1.0, (), "watched entity"))

    entities: dict[str, EntityInfo] = {}
    flags: dict[str, bool] = {}
    bare: set[str] = set()  # names matched only through their aliases
    for name, spec in entity_tables.items():
        if not isinstance(spec, dict) or "type" not in spec or "role" not in spec:
            raise ConfigError(f"{where}: [entities] '{name}' needs a type and a role")
        if spec["role"] not in roles:
            raise ConfigError(f"{where}: [entities] '{name}' has unknown role '{spec['role']}'")
        entities[name] = EntityInfo(
            name=name,
            type=str(spec["type"]),
            role=str(spec["role"]),
            aliases=tuple(spec.get("aliases", ())),
            major=bool(spec.get("major", False)),
            ambiguous=bool(spec.get("ambiguous", False)),
        )
        flags[name] = bool(spec.get("cs", False))
        if spec.get("match_name", True) is False:
            bare.add(name)
    if extension is not None:
        for attr, etype in _EXTENSION_TYPES.items():
            for name, extra in getattr(extension, attr).items():
                old = entities.get(name)
                if old is not None:
                    merged = tuple(dict.fromkeys((*old.aliases, *extra)))
                    entities[name] = EntityInfo(
                        old.name, old.type, old.role, merged, old.major, old.ambiguous
                    )
                else:
                    entities[name] = EntityInfo(name, etype, USER_ROLE, tuple(extra))
                    flags[name] = False

    aliases: dict[str, str] = {}
    for info in entities.values():
        names = info.aliases if info.name in bare else (info.name, *info.aliases)
        for alias in names:
            builder.add(alias, ENTITY, info.name, 1.0, cs=True if flags.get(info.name) else None)
            aliases.setdefault(_norm(alias, case_sensitive=False), info.name)
        aliases.setdefault(_norm(info.name, case_sensitive=False), info.name)

    return Vocabulary(
        topics=TOPICS,
        audiences=audiences,
        topic_audiences=MappingProxyType(topic_audiences),
        topic_terms=MappingProxyType({k: MappingProxyType(v) for k, v in topic_terms.items()}),
        roles=MappingProxyType(roles),
        entities=MappingProxyType(entities),
        export_actions=frozenset(w.casefold() for w in actions.get("export-control", ())),
        novelty_words=frozenset(w.casefold() for w in actions.get("novelty", ())),
        matcher=Matcher(builder.build()),
        _aliases=MappingProxyType(aliases),
    )


@lru_cache(maxsize=1)
def _default() -> Vocabulary:
    return _build(_read_data(), None)


def _is_empty(extension: VocabularyExtension) -> bool:
    return not any(getattr(extension, attr) for attr in (*_EXTENSION_TYPES, "topic_terms"))


def load_vocabulary(extension: VocabularyExtension | None = None) -> Vocabulary:
    """The shipped vocabulary, plus the user's additions from config. The default is built once."""
    if extension is None or _is_empty(extension):
        return _default()
    return _build(_read_data(), extension)


AUDIENCES: tuple[str, ...] = tuple(_read_data()["audiences"]["names"])
