"""Who should care and what to do next: guidance derived from a story's topics (pure).

Nothing here is a claim about the story. Audiences come from the fixed audience vocabulary; the
next steps are imperative suggestions per topic, so they always read as guidance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

INFRA = "infra & platform engineers"
OPERATORS = "data-center operators"
HARDWARE = "hardware & supply-chain analysts"
INVESTORS = "investors"
POLICY = "policy & compliance"
RESEARCHERS = "AI researchers"

DEFAULT_AUDIENCES: tuple[str, ...] = (INFRA, OPERATORS, HARDWARE, INVESTORS, POLICY, RESEARCHERS)

# Most affected audience first.
DEFAULT_TOPIC_AUDIENCES: dict[str, tuple[str, ...]] = {
    "export-controls": (POLICY, HARDWARE, INVESTORS),
    "chips": (HARDWARE, INFRA, INVESTORS),
    "datacenter": (OPERATORS, INFRA, INVESTORS),
    "energy": (OPERATORS, POLICY, INVESTORS),
    "cloud-capacity": (INFRA, RESEARCHERS, OPERATORS),
    "supply-chain": (HARDWARE, INVESTORS),
    "funding-deals": (INVESTORS,),
    "models-compute": (RESEARCHERS, INFRA),
    "policy": (POLICY, INVESTORS),
}

# One imperative step per topic. "{subject}" is the story's main entity (or "this story").
NEXT_STEPS: dict[str, str] = {
    "export-controls": "Check exposure: list the orders, cloud regions and customers that depend on "
    "{subject}, and review licence requirements with compliance before committing new shipments.",
    "chips": "Review hardware plans: confirm delivery dates and second sources for accelerators tied to "
    "{subject}.",
    "datacenter": "Track the site: note where {subject} adds capacity and whether it changes colocation, "
    "lease or latency options in that region.",
    "energy": "Check power assumptions: revisit grid-connection timelines and power contracts for sites "
    "in the affected region.",
    "cloud-capacity": "Review capacity plans: compare your reserved GPU capacity and pricing against "
    "the providers named here, and keep a fallback region.",
    "supply-chain": "Ask suppliers: check whether lead times or allocations for affected components "
    "change, and flag single-source parts.",
    "funding-deals": "Watch the commitments: note who is funding {subject} and what compute or capacity "
    "purchases the deal implies.",
    "models-compute": "Reassess compute needs: consider whether this changes the training or inference "
    "capacity you can get and at what cost.",
    "policy": "Review compliance: check whether the measure applies to your products or regions and "
    "when it takes effect.",
}
FALLBACK_STEP = "Keep watching: no action needed unless {subject} is part of your supply chain or plans."
NOT_RELEVANT_STEP = "No action needed: this item is outside AI-infrastructure news."


def _vocab_mapping(vocab: Any) -> Mapping[str, Sequence[str]] | None:
    """The vocabulary's topic -> audiences mapping, when the shipped vocabulary defines one."""
    for name in ("topic_audiences", "audiences_by_topic"):
        mapping = getattr(vocab, name, None)
        if isinstance(mapping, Mapping) and mapping:
            return mapping
    return None


def audiences_for(topics: Sequence[str], vocab: Any = None, *, limit: int = 4) -> tuple[str, ...]:
    """Audiences for a story's topics, most relevant first, taken from the audience vocabulary."""
    mapping = _vocab_mapping(vocab) or DEFAULT_TOPIC_AUDIENCES
    known = getattr(vocab, "audiences", None) or _shipped_audiences()
    scores: dict[str, float] = {}
    for rank, topic in enumerate(topics):
        for pos, audience in enumerate(mapping.get(topic, ())):
            # The leading topic and its first audience weigh most.
            scores[audience] = scores.get(audience, 0.0) + 2.0 / (1 + rank) / (1 + pos)
    ordered = sorted(scores, key=lambda a: -scores[a])
    if known:
        ordered = [a for a in ordered if a in known] or ordered
    if not ordered:  # relevant but no topic named: the broadest audience
        ordered = [known[0] if known else INFRA]
    return tuple(ordered[:limit])


def _shipped_audiences() -> tuple[str, ...]:
    try:
        from bot.core.taxonomy import AUDIENCES
    except ImportError:  # the vocabulary module is optional for this helper
        return DEFAULT_AUDIENCES
    return tuple(AUDIENCES)


def next_steps(topics: Sequence[str], subject: str | None, *, relevant: bool = True, limit: int = 2) -> str:
    """Imperative guidance for the story's leading topics."""
    if not relevant:
        return NOT_RELEVANT_STEP
    name = subject or "this story"
    steps = [NEXT_STEPS[t].format(subject=name) for t in topics if t in NEXT_STEPS][:limit]
    if not steps:
        steps = [FALLBACK_STEP.format(subject=name)]
    return " ".join(steps)
