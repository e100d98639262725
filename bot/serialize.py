"""JSON-safe dicts for the core's dataclasses, and back. One place, used by the store and `analyze`."""

from __future__ import annotations

from typing import Any

from bot.models import Card, Entity, SourceRef, TimelineEvent, Triage

# The card's own content, in display order: what `analyze --json` prints and an LLM must write.
CARD_FIELDS: tuple[str, ...] = (
    "what_changed",
    "why_it_matters",
    "who_should_care",
    "what_to_do_next",
    "key_takeaways",
    "future_implications",
    "timeline",
)


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    out: dict[str, Any] = {"name": entity.name, "type": entity.type}
    if entity.value is not None:
        out["value"] = entity.value
    if entity.unit is not None:
        out["unit"] = entity.unit
    return out


def entity_from_dict(data: dict[str, Any]) -> Entity:
    return Entity(name=data["name"], type=data["type"], value=data.get("value"), unit=data.get("unit"))


def triage_to_dict(triage: Triage) -> dict[str, Any]:
    return {
        "relevant": triage.relevant,
        "relevance": round(triage.relevance, 4),
        "topics": list(triage.topics),
        "entities": [entity_to_dict(e) for e in triage.entities],
        "importance": triage.importance,
        "explanation": triage.explanation,
    }


def triage_from_dict(data: dict[str, Any]) -> Triage:
    return Triage(
        relevant=bool(data["relevant"]),
        relevance=float(data["relevance"]),
        topics=tuple(data.get("topics", ())),
        entities=tuple(entity_from_dict(e) for e in data.get("entities", ())),
        importance=int(data["importance"]),
        explanation=str(data.get("explanation", "")),
    )


def card_to_dict(card: Card) -> dict[str, Any]:
    return {
        "title": card.title,
        "what_changed": card.what_changed,
        "why_it_matters": card.why_it_matters,
        "who_should_care": list(card.who_should_care),
        "what_to_do_next": card.what_to_do_next,
        "key_takeaways": list(card.key_takeaways),
        "future_implications": list(card.future_implications),
        "timeline": [{"date": t.date, "event": t.event} for t in card.timeline],
        "sources": [{"name": s.name, "url": s.url} for s in card.sources],
        "backend": card.backend,
    }


def card_from_dict(data: dict[str, Any]) -> Card:
    return Card(
        title=data.get("title", ""),
        what_changed=data.get("what_changed", ""),
        why_it_matters=data.get("why_it_matters", ""),
        who_should_care=tuple(data.get("who_should_care", ())),
        what_to_do_next=data.get("what_to_do_next", ""),
        key_takeaways=tuple(data.get("key_takeaways", ())),
        future_implications=tuple(data.get("future_implications", ())),
        timeline=tuple(TimelineEvent(date=t["date"], event=t["event"]) for t in data.get("timeline", ())),
        sources=tuple(SourceRef(name=s["name"], url=s.get("url")) for s in data.get("sources", ())),
        backend=data.get("backend", "extractive"),
    )
