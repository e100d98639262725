"""JSON text for the models the store keeps as columns, on top of bot.serialize's dict mapping."""

from __future__ import annotations

import json

from bot.models import Card, Triage
from bot.serialize import card_from_dict, card_to_dict, triage_from_dict, triage_to_dict


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def card_to_json(card: Card) -> str:
    return _dumps(card_to_dict(card))


def card_from_json(text: str) -> Card:
    return card_from_dict(json.loads(text))


def triage_to_json(triage: Triage) -> str:
    return _dumps(triage_to_dict(triage))


def triage_from_json(text: str) -> Triage:
    return triage_from_dict(json.loads(text))
