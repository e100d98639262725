"""The one argument grammar of chat commands, for every platform. Pure: text in, values or errors out.

    subscribe [topics...] [min N] [mode alerts|digest|both] [digest daily|weekly|off [at HH:MM]
              [tz ZONE]] [include WORD,...] [exclude WORD,...] [entity NAME,...]
              [quiet HH:MM-HH:MM|off] [pace N]
    recap [day|week|month] [topic]

It is forgiving about form ("min importance 70", "min=70", "export controls", "semis", "tz
europe/berlin") and strict about meaning: an unknown word is an error that names the word.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import CommandError
from bot.models import TOPICS, Subscription

MODES = ("alerts", "digest", "both")
DIGESTS = ("daily", "weekly")

TOPIC_ALIASES: dict[str, str] = {
    "chip": "chips",
    "semis": "chips",
    "semiconductor": "chips",
    "semiconductors": "chips",
    "gpu": "chips",
    "gpus": "chips",
    "silicon": "chips",
    "accelerators": "chips",
    "export": "export-controls",
    "exports": "export-controls",
    "export-control": "export-controls",
    "exportcontrols": "export-controls",
    "controls": "export-controls",
    "sanctions": "export-controls",
    "data-center": "datacenter",
    "data-centers": "datacenter",
    "datacenters": "datacenter",
    "data-centre": "datacenter",
    "data-centres": "datacenter",
    "datacentre": "datacenter",
    "dc": "datacenter",
    "power": "energy",
    "grid": "energy",
    "electricity": "energy",
    "cloud": "cloud-capacity",
    "capacity": "cloud-capacity",
    "gpu-cloud": "cloud-capacity",
    "supply": "supply-chain",
    "supplychain": "supply-chain",
    "funding": "funding-deals",
    "deals": "funding-deals",
    "deal": "funding-deals",
    "investment": "funding-deals",
    "investments": "funding-deals",
    "m&a": "funding-deals",
    "models": "models-compute",
    "compute": "models-compute",
    "labs": "models-compute",
    "training": "models-compute",
    "regulation": "policy",
    "government": "policy",
    "law": "policy",
}
MODE_ALIASES = {
    "alert": "alerts",
    "alerts": "alerts",
    "digest": "digest",
    "digests": "digest",
    "both": "both",
}
DIGEST_ALIASES = {
    "daily": "daily",
    "day": "daily",
    "weekly": "weekly",
    "week": "weekly",
    "off": None,
    "none": None,
    "no": None,
}
PERIOD_ALIASES = {
    "day": "day",
    "daily": "day",
    "today": "day",
    "24h": "day",
    "1d": "day",
    "week": "week",
    "weekly": "week",
    "7d": "week",
    "month": "month",
    "monthly": "month",
    "30d": "month",
}

_MIN_WORDS = {
    "min",
    "minimum",
    "threshold",
    "importance",
    "min-importance",
    "min_importance",
    "minimportance",
}
_TZ_WORDS = {"tz", "timezone", "zone", "in"}
_LIST_WORDS = {
    "include": "include",
    "exclude": "exclude",
    "entity": "entities",
    "entities": "entities",
}
_PACE_WORDS = {"pace", "max", "max-alerts", "rate"}
_FILLER = {"topics", "topic", "on", "for", "about", "and"}
_ALL_TOPICS = {"all", "everything", "any"}
_KEYWORDS = (
    _MIN_WORDS | _TZ_WORDS | set(_LIST_WORDS) | _PACE_WORDS | {"mode", "digest", "digests", "at", "quiet"}
)
_CLEAR = {"none", "off", "clear", "-"}
_HHMM = re.compile(r"^(\d{1,2})(?::?(\d{2}))?$")

SUBSCRIBE_USAGE = (
    "subscribe [topics...] [min N] [mode alerts|digest|both] [digest daily|weekly|off [at HH:MM] "
    "[tz ZONE]] [include WORD,...] [exclude WORD,...] [entity NAME,...] [quiet HH:MM-HH:MM|off] [pace N]"
)
RECAP_USAGE = "recap day|week|month [topic]"


def tokens(text: str) -> list[str]:
    """Split like a shell (quotes keep phrases together); "key=value" becomes two tokens."""
    try:
        raw = shlex.split(text)
    except ValueError:
        raise CommandError("unbalanced quotes") from None
    out: list[str] = []
    for tok in raw:
        if "=" in tok and not tok.startswith("="):
            out.extend(p for p in tok.split("=") if p)
        else:
            out.append(tok)
    return out


def topic_name(word: str) -> str | None:
    key = word.strip().lower().replace("_", "-").replace(" ", "-").strip(",")
    if key in TOPICS:
        return key
    return TOPIC_ALIASES.get(key)


def parse_time(value: str) -> str:
    match = _HHMM.match(value.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise CommandError(f"{value!r} is not a time of day; use HH:MM, e.g. 08:30")


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


def parse_zone(value: str) -> str:
    candidates = [value, _zones_by_lower().get(value.lower(), "")]
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    raise CommandError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin or UTC")


@dataclass(frozen=True, slots=True)
class SubscribeArgs:
    """What a subscribe command sets; None means "leave as it is"."""

    topics: tuple[str, ...] | None = None
    min_importance: int | None = None
    mode: str | None = None
    digest: str | None = None
    digest_off: bool = False
    digest_time: str | None = None
    timezone: str | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    entities: tuple[str, ...] | None = None
    quiet: tuple[str, str] | None = None
    quiet_off: bool = False
    max_alerts_per_hour: int | None = None

    def apply(self, sub: Subscription) -> Subscription:
        """The subscription with these settings applied."""
        out = sub
        for name in ("topics", "min_importance", "mode", "digest_time", "timezone", "include", "exclude"):
            value = getattr(self, name)
            if value is not None:
                out = replace(out, **{name: value})
        if self.entities is not None:
            out = replace(out, entities=self.entities)
        if self.max_alerts_per_hour is not None:
            out = replace(out, max_alerts_per_hour=self.max_alerts_per_hour)
        if self.digest is not None:
            out = replace(out, digest=self.digest)
        elif self.digest_off:
            out = replace(out, digest=None)
        if self.quiet is not None:
            out = replace(out, quiet_hours=self.quiet)
        elif self.quiet_off:
            out = replace(out, quiet_hours=None)
        # A digest-mode channel needs a digest schedule; daily is the natural default.
        if out.mode in ("digest", "both") and out.digest is None:
            out = replace(out, digest="daily")
        return out


def _topic_or_error(word: str) -> str:
    name = topic_name(word)
    if name is None:
        raise CommandError(f"unknown word {word!r}; topics are {', '.join(TOPICS)} (or all)")
    return name


def _int(value: str | None, what: str, low: int, high: int) -> int:
    if value is None:
        raise CommandError(f"{what} needs a number from {low} to {high}")
    try:
        number = int(value.rstrip("%"))
    except ValueError:
        raise CommandError(f"{what} needs a number from {low} to {high}, not {value!r}") from None
    if not low <= number <= high:
        raise CommandError(f"{what} must be from {low} to {high}, not {number}")
    return number


def _split_list(parts: list[str]) -> tuple[str, ...]:
    """Comma-separated items ("HBM, CoWoS"); without commas, each token is one item."""
    joined = " ".join(parts)
    items = joined.split(",") if "," in joined else parts
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


def parse_subscribe(args: list[str]) -> SubscribeArgs:
    values: dict[str, object] = {}
    topics: list[str] = []
    all_topics = False
    i = 0

    def take(what: str) -> str | None:
        nonlocal i
        i += 1
        return args[i] if i < len(args) else None

    while i < len(args):
        tok = args[i]
        word = tok.lower()
        if word in _MIN_WORDS:
            # "min importance 70", "min >= 70", "importance 70"
            while i + 1 < len(args) and args[i + 1].lower() in _MIN_WORDS | {">=", ">", "of"}:
                i += 1
            values["min_importance"] = _int(take("min"), "min importance", 0, 100)
        elif word == "mode":
            value = (take("mode") or "").lower()
            if value not in MODE_ALIASES:
                raise CommandError(f"mode must be alerts, digest or both, not {value or 'nothing'!r}")
            values["mode"] = MODE_ALIASES[value]
        elif word in ("digest", "digests"):
            value = (take("digest") or "").lower()
            if value not in DIGEST_ALIASES:
                raise CommandError(f"digest must be daily, weekly or off, not {value or 'nothing'!r}")
            schedule = DIGEST_ALIASES[value]
            if schedule is None:
                values["digest_off"] = True
            else:
                values["digest"] = schedule
        elif word == "at":
            values["digest_time"] = parse_time(take("at") or "")
        elif word in _TZ_WORDS:
            zone = take("tz")
            if zone is None:
                raise CommandError("tz needs a time zone name, e.g. Europe/Berlin")
            values["timezone"] = parse_zone(zone)
        elif word in _LIST_WORDS:
            key = _LIST_WORDS[word]
            parts: list[str] = []
            while i + 1 < len(args) and args[i + 1].lower() not in _KEYWORDS:
                i += 1
                parts.append(args[i])
            if not parts:
                raise CommandError(f"{word} needs one or more words (or 'none' to clear)")
            values[key] = () if [p.lower() for p in parts] in ([c] for c in _CLEAR) else _split_list(parts)
        elif word == "quiet":
            quiet, consumed = _parse_quiet(args, i)
            if quiet is None:
                values["quiet_off"] = True
            else:
                values["quiet"] = quiet
            i += consumed
        elif word in _PACE_WORDS:
            values["max_alerts_per_hour"] = _int(take("pace"), "pace (alerts per hour)", 1, 60)
            while i + 1 < len(args) and args[i + 1].lower() in {"alerts", "per", "an", "a", "hour", "/hour"}:
                i += 1
        elif word in _FILLER:
            pass
        elif word in _ALL_TOPICS:
            all_topics = True
        elif "," in tok.strip(","):  # "chips,energy"
            for piece in filter(None, tok.split(",")):
                topics.append(_topic_or_error(piece))
        else:
            name = topic_name(tok)
            if name is None and i + 1 < len(args):
                # two-word topics: "export controls", "data center", "supply chain"
                name = topic_name(f"{tok}-{args[i + 1]}")
                if name is not None:
                    i += 1
            topics.append(name or _topic_or_error(tok))
        i += 1
    topics = list(dict.fromkeys(topics))
    if all_topics and topics:
        raise CommandError("say either 'all' or some topics, not both")
    if topics or all_topics:
        values["topics"] = tuple(t for t in TOPICS if t in topics)
    return SubscribeArgs(**values)  # type: ignore[arg-type]


def _parse_quiet(args: list[str], i: int) -> tuple[tuple[str, str] | None, int]:
    """quiet off | quiet 22:00-07:00 | quiet 22:00 07:00 | quiet 22:00 to 07:00

    Returns the hours (None for off) and how many tokens after "quiet" they took."""
    rest = args[i + 1 : i + 4]
    if not rest:
        raise CommandError("quiet needs hours like 22:00-07:00, or off")
    if rest[0].lower() in _CLEAR:
        return None, 1
    if "-" in rest[0] and not rest[0].startswith("-"):
        start, _, end = rest[0].partition("-")
        return (parse_time(start), parse_time(end)), 1
    if len(rest) >= 3 and rest[1].lower() in ("to", "-", "until"):
        return (parse_time(rest[0]), parse_time(rest[2])), 3
    if len(rest) >= 2:
        return (parse_time(rest[0]), parse_time(rest[1])), 2
    raise CommandError(f"quiet needs hours like 22:00-07:00, or off, not {rest[0]!r}")


def parse_recap(args: list[str]) -> tuple[str, str | None]:
    """(period, topic) of `recap [day|week|month] [topic]`; the period defaults to day."""
    period: str | None = None
    topic: str | None = None
    i = 0
    while i < len(args):
        tok = args[i]
        word = tok.lower()
        if word in ("last", "past", "this", "the"):
            i += 1
            continue
        if word in PERIOD_ALIASES and period is None:
            period = PERIOD_ALIASES[word]
        else:
            name = topic_name(tok)
            if name is None and i + 1 < len(args):
                name = topic_name(f"{tok}-{args[i + 1]}")
                if name is not None:
                    i += 1
            if name is None or topic is not None:
                raise CommandError(
                    f"unknown word {tok!r}; say day, week or month and optionally one topic "
                    f"({', '.join(TOPICS)})"
                )
            topic = name
        i += 1
    return period or "day", topic
