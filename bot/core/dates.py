"""Dates written in article sentences, resolved to ISO strings for a story timeline (pure).

Understands "2025-02-14", "January 20, 2025", "20 January 2025", "Jan. 20", "in April 2023",
"last March" / "next March", "in 2023" and weekdays ("on Monday"). Dates without a year, relative
months and weekdays are resolved against the article's published date; without one they are skipped.
The precision is what the text says: "2025", "2025-04" or "2025-04-20".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
FOREIGN_MONTHS = {
    **{m: i + 1 for i, m in enumerate(
        "januar februar märz april mai juni juli august september oktober november dezember".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro".split()
    )},
}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}

# "May" alone is too often the verb; it needs a day or a year next to it (handled by the patterns).
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|" \
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
_ISO = re.compile(r"\b((?:19|20)\d\d)-(0[1-9]|1[0-2])-([0-2]\d|3[01])\b")
_MONTH_DAY = re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+((?:19|20)\d\d)\b)?")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+((?:19|20)\d\d)\b)?")
_MONTH_YEAR = re.compile(_MONTH + r",?\s+((?:19|20)\d\d)\b")
_RELATIVE_MONTH = re.compile(
    r"\b(last|this|next|earlier this|late last|early last)\s+" + _MONTH + r"(?!\s+\d)", re.I
)
_YEAR = re.compile(r"\b(?:in|since|by|during|until|from|through|early|late|mid-?)\s+((?:19|20)\d\d)\b(?!-)")
_WEEKDAY = re.compile(
    r"\b(?:on|last|this past)\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
# Other languages: "15. Februar 2026", "15 février", "15 de febrero de 2026", "2026年2月15日".
_FOREIGN_DAY_MONTH = re.compile(
    r"\b(\d{1,2})\.?\s+(?:de\s+)?(" + "|".join(sorted(FOREIGN_MONTHS, key=len, reverse=True)) + r")\b"
    r"(?:\s+(?:de\s+)?((?:19|20)\d\d)\b)?",
    re.IGNORECASE,
)
_CJK_DATE = re.compile(r"(?:((?:19|20)\d\d)年)?(\d{1,2})月(?:(\d{1,2})日)?")
# Cheap pre-filter so most sentences skip the patterns entirely.
_MAYBE = re.compile(
    r"\d|January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?\s|Feb|Mar\.?\s|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|day\b"
)


@dataclass(frozen=True, slots=True)
class FoundDate:
    iso: str  # "2025", "2025-04" or "2025-04-20"
    start: int  # where the date was written in the sentence
    text: str


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _nearest_year(month: int, day: int, published: date) -> int:
    """The year that puts month/day closest to the published date (news mostly looks back)."""
    best = published.year
    best_gap: float = float("inf")
    for year in (published.year - 1, published.year, published.year + 1):
        if not _valid(year, month, day):
            continue
        gap = (date(year, month, day) - published).days
        # Slight preference for the past: "January 20" in a February article is last month.
        cost = abs(gap) if gap <= 0 else gap * 1.5
        if cost < best_gap:
            best, best_gap = year, cost
    return best


def find_dates(sentence: str, published: datetime | None = None) -> list[FoundDate]:
    """All dates in one sentence, in order of appearance, most precise reading of each span."""
    if not _MAYBE.search(sentence):
        return []
    pub = published.date() if published else None
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def add(iso: str, m: re.Match[str]) -> None:
        a, b = m.span()
        if any(a < y and x < b for x, y in taken):
            return
        taken.append((a, b))
        found.append(FoundDate(iso, a, m.group(0)))

    for m in _ISO.finditer(sentence):
        if _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            add(m.group(0), m)
    for m in _MONTH_DAY.finditer(sentence):
        month, day = _month(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else (_nearest_year(month, day, pub) if pub else None)
        if year is not None and _valid(year, month, day):
            add(f"{year:04d}-{month:02d}-{day:02d}", m)
    for m in _DAY_MONTH.finditer(sentence):
        day, month = int(m.group(1)), _month(m.group(2))
        year = int(m.group(3)) if m.group(3) else (_nearest_year(month, day, pub) if pub else None)
        if year is not None and _valid(year, month, day):
            add(f"{year:04d}-{month:02d}-{day:02d}", m)
    for m in _FOREIGN_DAY_MONTH.finditer(sentence):
        day, month = int(m.group(1)), FOREIGN_MONTHS[m.group(2).lower()]
        year = int(m.group(3)) if m.group(3) else (_nearest_year(month, day, pub) if pub else None)
        if year is not None and _valid(year, month, day):
            add(f"{year:04d}-{month:02d}-{day:02d}", m)
    for m in _CJK_DATE.finditer(sentence) if "月" in sentence else ():
        month = int(m.group(2))
        if not 1 <= month <= 12:
            continue
        if m.group(3):
            day = int(m.group(3))
            year = int(m.group(1)) if m.group(1) else (_nearest_year(month, day, pub) if pub else None)
            if year is not None and _valid(year, month, day):
                add(f"{year:04d}-{month:02d}-{day:02d}", m)
        elif m.group(1):
            add(f"{int(m.group(1)):04d}-{month:02d}", m)
    for m in _MONTH_YEAR.finditer(sentence):
        add(f"{int(m.group(2)):04d}-{_month(m.group(1)):02d}", m)
    if pub is not None:
        for m in _RELATIVE_MONTH.finditer(sentence):
            which, month = m.group(1).lower(), _month(m.group(2))
            if which == "next":
                year = pub.year + 1 if month <= pub.month else pub.year
            elif which == "this" or which == "earlier this":
                year = pub.year
            else:  # "last March" is the previous year's March: this year's would be "in March"
                year = pub.year - 1
            add(f"{year:04d}-{month:02d}", m)
        for m in _WEEKDAY.finditer(sentence):
            back = (pub.weekday() - WEEKDAYS[m.group(1).lower()]) % 7
            add((pub - timedelta(days=back)).isoformat(), m)
    for m in _YEAR.finditer(sentence):
        add(m.group(1), m)
    found.sort(key=lambda f: f.start)
    return found
