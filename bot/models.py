"""Plain data that flows between ingest, core, store, routing and adapters.

Everything here is a frozen dataclass: no I/O, no behaviour beyond small derived views.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The topic vocabulary. Order is the display order.
TOPICS: tuple[str, ...] = (
    "chips",
    "export-controls",
    "datacenter",
    "energy",
    "cloud-capacity",
    "supply-chain",
    "funding-deals",
    "models-compute",
    "policy",
)

# Entity types. Quantities carry a numeric value and a unit.
ENTITY_TYPES: tuple[str, ...] = (
    "organization",
    "product",
    "regulator",
    "place",
    "person",
    "gpu_count",
    "power",
    "money",
)


@dataclass(frozen=True, slots=True)
class Article:
    """One news item, already normalised to plain text."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None  # the outlet: feed title or host name
    published: datetime | None = None
    guid: str | None = None
    author: str | None = None
    feed_id: int | None = None
    content_hash: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # canonical name ("Nvidia"), or a normalised quantity ("50,000 GPUs", "1.2 GW", "$10B")
    type: str  # one of ENTITY_TYPES
    value: float | None = None  # quantities only: GPUs, megawatts, US dollars
    unit: str | None = None  # quantities only: "gpus", "mw", "usd"


@dataclass(frozen=True, slots=True)
class Triage:
    relevant: bool
    relevance: float  # 0..1
    topics: tuple[str, ...]
    entities: tuple[Entity, ...]
    importance: int  # 0..100
    explanation: str  # the evidence behind relevance, topics and importance, human-readable


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    date: str  # ISO date as precise as the source says: "2025", "2025-02" or "2025-02-14"
    event: str


@dataclass(frozen=True, slots=True)
class SourceRef:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    what_changed: str
    why_it_matters: str
    who_should_care: tuple[str, ...]
    what_to_do_next: str
    key_takeaways: tuple[str, ...]
    future_implications: tuple[str, ...]
    timeline: tuple[TimelineEvent, ...]
    sources: tuple[SourceRef, ...] = ()
    backend: str = "extractive"  # which summarizer wrote it


@dataclass(frozen=True, slots=True)
class Story:
    """A stored story: one event, possibly reported by several outlets."""

    id: str
    title: str
    first_seen: datetime
    last_seen: datetime
    importance: int
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()  # canonical names of non-quantity entities
    article_ids: tuple[str, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    explanation: str = ""
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class AnalyzedArticle:
    """An article with everything the core found about it."""

    article: Article
    triage: Triage
    story_id: str
    card: Card


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    platform: str  # "console" | "slack" | "discord" | "webhook"
    channel: str  # the platform's channel id
    workspace: str = ""  # Slack team id / Discord guild id
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # words that must appear (any of them)
    exclude: tuple[str, ...] = ()  # words that must not appear
    min_importance: int = 50
    mode: str = "alerts"  # "alerts" | "digest" | "both"
    digest: str | None = None  # None | "daily" | "weekly"
    digest_time: str = "09:00"
    timezone: str = "UTC"
    max_alerts_per_hour: int = 6
    quiet_hours: tuple[str, str] | None = None  # ("22:00", "07:00") in the channel's time zone
    paused_reason: str | None = None
    created_by: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int
    story_id: str
    kind: str  # "alert" | "followup" | "digest"
    status: str  # "pending" | "sending" | "sent" | "failed" | "dropped"
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    update_id: int = 0  # the story update a follow-up reports; 0 for alerts
    last_error: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    payload: dict[str, object] = field(default_factory=dict)
