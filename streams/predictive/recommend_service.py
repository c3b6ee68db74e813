"""Service suggestions from a person's conversation history: what support or service offer
their recent conversations call for.

Each conversation of the history (its intent from the intent model's taxonomy,
``schemas/models/intent_taxonomy.yaml``, when it ended, whether it was resolved or escalated,
its mean customer sentiment) adds weight to its intent: ``0.5 ** (age / half_life)``, times
``unresolved_weight`` when unresolved, ``escalated_weight`` when escalated and
``1 + negative_weight * max(0, -sentiment)``. The intent with the largest weight, when it
reaches ``min_weight``, gives the suggestion (``SERVICES``); intents that ask for no service
(``other``, ``human_request``) and unknown ones add nothing.

Invariants: pure and deterministic (equal weights: the intent first in alphabetical order);
conversations after ``as_of`` are ignored; the reason names the intent and the figures that
chose it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

DAY_MS: Final = 86_400_000
#: intent -> (service, what it offers)
SERVICES: Final[Mapping[str, tuple[str, str]]] = {
    "technical_issue": ("technical_support_session", "a session with a support engineer"),
    "billing": ("billing_review", "a review of the invoices"),
    "refund": ("refund_follow_up", "a follow-up on the refund"),
    "cancellation": ("retention_call", "a call about staying, with an offer"),
    "complaint": ("service_recovery", "a service recovery call"),
    "account": ("account_help", "help with the account set-up"),
    "pricing": ("plan_review", "a comparison of plans for their use"),
    "purchase_inquiry": ("product_advice", "product advice from a specialist"),
}


class Conversation(NamedTuple):
    intent: str
    ended_at: int  # epoch ms
    resolved: bool
    escalated: bool
    sentiment: float  # mean customer sentiment, -1..1


class ServiceSuggestion(NamedTuple):
    service: str
    intent: str
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    half_life_days: float = 30.0
    unresolved_weight: float = 2.0
    escalated_weight: float = 1.5
    negative_weight: float = 1.0
    min_weight: float = 0.5  # about one resolved, neutral conversation a month ago


DEFAULT_SERVICE_POLICY: Final = ServicePolicy()


def suggest_service(history: Iterable[Conversation], as_of: int,
                    policy: ServicePolicy = DEFAULT_SERVICE_POLICY) -> ServiceSuggestion | None:
    weights: dict[str, float] = {}
    counts: dict[str, list[int]] = {}  # intent -> [conversations, unresolved, escalated]
    for c in history:
        if c.ended_at > as_of or c.intent not in SERVICES:
            continue
        w = 0.5 ** ((as_of - c.ended_at) / (policy.half_life_days * DAY_MS))
        w *= policy.unresolved_weight if not c.resolved else 1.0
        w *= policy.escalated_weight if c.escalated else 1.0
        w *= 1.0 + policy.negative_weight * max(0.0, -c.sentiment)
        weights[c.intent] = weights.get(c.intent, 0.0) + w
        n = counts.setdefault(c.intent, [0, 0, 0])
        n[0] += 1
        n[1] += not c.resolved
        n[2] += c.escalated
    if not weights:
        return None
    intent = min(weights, key=lambda i: (-weights[i], i))
    if weights[intent] < policy.min_weight:
        return None
    service, offer = SERVICES[intent]
    total, unresolved, escalated = counts[intent]
    reason = (f"SERVICE_{intent.upper()}: {total} conversation(s) about {intent.replace('_', ' ')}"
              f", {unresolved} unresolved, {escalated} escalated: offer {offer}")
    return ServiceSuggestion(service, intent, round(weights[intent], 4), reason)


__all__ = ["DEFAULT_SERVICE_POLICY", "SERVICES", "Conversation", "ServicePolicy",
           "ServiceSuggestion", "suggest_service"]
