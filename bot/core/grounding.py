"""Checking a generated card against its source articles (pure).

A card written by a language model may only say what the sources say. Every number and every name
in it must appear in the source text, and every key takeaway must be supported by one source
sentence. Unsupported parts are dropped; a card whose core ("what changed") is unsupported, or that
keeps too few takeaways, is rejected so the caller falls back to the extractive card.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.models import Card

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A name: a capitalised word (or an all-caps/mixed token such as "H100", "xAI") not at a
# sentence start, possibly followed by more capitalised words.
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    """a an and are as at be been but by can could for from has have in into is it its may might more
    most new not of on or over said says than that the their them there these they this to under
    up was were which while who will with would""".split()
)
_CAPITALISED_COMMON = frozenset(
    """the a an this that these those it its in on at for by with from as of and but or if when while
    what why who how which where after before during since until because although however also
    investors engineers operators analysts teams buyers watch check review monitor consider plan
    expect key source sources us u.s""".split()
)

MIN_TAKEAWAYS = 2
SUPPORT_THRESHOLD = 0.6  # share of a takeaway's content words found in one source sentence


@dataclass(frozen=True, slots=True)
class GroundingResult:
    card: Card | None  # None: reject the whole card
    dropped: tuple[str, ...]  # human-readable notes on what was removed and why


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("’", "'").replace("‘", "'")


def _numbers(text: str) -> set[str]:
    out = set()
    for match in _NUMBER.findall(text):
        digits = match.replace(",", "")
        # "1.50" and "1.5" are the same figure; "2026." at a sentence end is "2026".
        if "." in digits:
            digits = digits.rstrip("0").rstrip(".")
        out.add(digits)
    return out


def _names(text: str) -> set[str]:
    """Capitalised or mixed-case tokens, except at the start of a sentence or common words."""
    names = set()
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for index, token in enumerate(_TOKEN.findall(sentence)):
            word = token.strip(".'’-")
            if not word or word.casefold() in _CAPITALISED_COMMON:
                continue
            has_digit_and_letter = any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
            if word[0].isupper() or has_digit_and_letter or (index > 0 and any(c.isupper() for c in word)):
                names.add(word)
    return names


def _source_tokens(text: str) -> set[str]:
    out = set()
    for token in _TOKEN.findall(_fold(text)):
        out.add(token)
        out.add(token.strip(".'’-"))
        # "Nvidia's" supports "Nvidia"; "U.S.-based" supports "U.S".
        for part in re.split(r"['’-]", token):
            out.add(part.strip("."))
    return out


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(_fold(text)) if w not in _STOP and len(w) > 2}


@dataclass(frozen=True, slots=True)
class SourceIndex:
    """What the sources contain, prepared once per card."""

    tokens: frozenset[str]
    numbers: frozenset[str]
    sentences: tuple[frozenset[str], ...]

    @classmethod
    def build(cls, texts: Iterable[str], sentences: Iterable[str]) -> SourceIndex:
        joined = "\n".join(texts)
        return cls(
            tokens=frozenset(_source_tokens(joined)),
            numbers=frozenset(_numbers(joined)),
            sentences=tuple(frozenset(_content_words(s)) for s in sentences),
        )

    def unsupported_facts(self, text: str) -> list[str]:
        """Numbers and names in `text` that the sources never mention."""
        missing = [n for n in sorted(_numbers(text)) if n not in self.numbers]
        missing += [name for name in sorted(_names(text)) if not self._knows(_fold(name))]
        return missing

    def _knows(self, name: str) -> bool:
        # Plurals and possessives of a source name ("H100s", "Nvidia's") are the same name.
        return (
            name in self.tokens
            or name.removesuffix("s") in self.tokens
            or name.removesuffix("'s") in self.tokens
        )

    def supported_by_a_sentence(self, text: str) -> bool:
        words = _content_words(text)
        if not words:
            return False
        return any(len(words & s) / len(words) >= SUPPORT_THRESHOLD for s in self.sentences)


def ground_card(card: Card, sources: SourceIndex, *, guidance: str) -> GroundingResult:
    """Keep only what the sources support; `guidance` replaces an unsupported what-to-do-next."""
    dropped: list[str] = []

    def keep(label: str, text: str, *, needs_sentence: bool) -> bool:
        missing = sources.unsupported_facts(text)
        if missing:
            dropped.append(f"{label}: not in the sources: {', '.join(missing)}")
            return False
        if needs_sentence and not sources.supported_by_a_sentence(text):
            dropped.append(f"{label}: no source sentence supports it")
            return False
        return True

    if not card.what_changed.strip() or not keep("what_changed", card.what_changed, needs_sentence=True):
        return GroundingResult(None, (*dropped, "what_changed is unsupported: card rejected"))
    why = card.why_it_matters if keep("why_it_matters", card.why_it_matters, needs_sentence=False) else ""
    todo = card.what_to_do_next
    if not keep("what_to_do_next", todo, needs_sentence=False):
        todo = guidance
    takeaways = tuple(
        t for i, t in enumerate(card.key_takeaways) if keep(f"key_takeaways[{i}]", t, needs_sentence=True)
    )
    implications = tuple(
        f
        for i, f in enumerate(card.future_implications)
        if keep(f"future_implications[{i}]", f, needs_sentence=True)
    )
    timeline = tuple(
        t
        for i, t in enumerate(card.timeline)
        if keep(f"timeline[{i}]", f"{t.date} {t.event}", needs_sentence=False)
    )
    if len(takeaways) < MIN_TAKEAWAYS:
        return GroundingResult(None, (*dropped, f"only {len(takeaways)} supported takeaways: card rejected"))
    grounded = replace(
        card,
        why_it_matters=why,
        what_to_do_next=todo,
        key_takeaways=takeaways,
        future_implications=implications,
        timeline=timeline,
    )
    return GroundingResult(grounded, tuple(dropped))


def source_index(texts: Sequence[str], sentences: Sequence[str]) -> SourceIndex:
    return SourceIndex.build(texts, sentences)
