"""Generated interaction histories (``customer_events`` rows) whose ground truth makes
conversations matter, for the trainer's tests, the lift benchmark and the demo.

Each person arrives on a random day and, day by day, leaves touchpoints (a rate set by a
hidden interest), sometimes a chat session (a rate set by a chat habit independent of the
interest), sometimes a lead form or a demo request, and purchases with a daily hazard

    sigmoid(base + 0.35 * touchpoints in 7 days + chat_effect * [buying chat in 14 days]
            + plain_chat_effect * [other chat in 14 days] + 1.2 * [demo asked]
            + 0.6 * interest - 1.5 * [discontent])

A chat session carries its conversation's figures in ``attributes``, as the customer inputs
stage writes them from ``conversation.insights`` v2: intent (a buying one, purchase_inquiry or
pricing, in a share of chats independent of the interest), its confidence, sentiment,
messages, escalations and lead signals (a confident buying intent). So a recent conversation
with buying intent raises the odds of buying by exp(chat_effect) (about 7x by default), any
other chat by exp(plain_chat_effect): a model that sees the chat's intent should rank buyers
better than one that sees only that a chat took place, and both better than one blind to chats.

Churn: a customer (after a first purchase) turns discontent with a small daily chance; from
then on their chats are more frequent, negative, escalated and often about cancelling, and
after ``leave_after`` days (10 to 40) they leave: no event after that. Sentiment, escalations
and cancellation intents thus announce churn weeks before the activity stops. Interest and
discontent are never observed directly.

Invariants: deterministic for a seed; rows are in each person's time order; event ids are
unique; every row has the ``customer_events`` columns ``history.HISTORY_SQL`` reads.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

DAY_MS: Final = 86_400_000
START_MS: Final = 1_767_225_600_000  # 2026-01-01 UTC
CHANNELS: Final = ("paid_search", "display", "social", "organic_search", "email", "direct",
                   "referral")
CHANNEL_WEIGHTS: Final = (0.2, 0.1, 0.15, 0.2, 0.2, 0.1, 0.05)
BUYING_INTENTS: Final = ("purchase_inquiry", "pricing")
OTHER_INTENTS: Final = ("billing", "technical_issue", "order_status", "other")
BUYING_SHARE: Final = 0.35  # of the chats of a person who is not discontent


def _row(person: str, event_id: str, kind: str, at: int, type_: str | None,
         channel: str | None, identifiers: list[str], value: float | None = None,
         currency: str | None = None, attributes: dict[str, str] | None = None
         ) -> dict[str, Any]:
    return {"person_id": person, "event_id": event_id, "kind": kind, "occurred_at": at,
            "type": type_, "channel": channel, "campaign_id": None, "value": value,
            "currency": currency, "identifiers": identifiers, "attributes": attributes or {}}


def _chat(rng: np.random.Generator, discontent: bool) -> tuple[dict[str, str], bool]:
    """A chat's attributes (as ``inputs_stage`` writes them) and whether it showed buying intent."""
    if discontent:
        intent = "cancellation" if rng.random() < 0.6 else str(rng.choice(OTHER_INTENTS))
        sentiment = float(np.clip(rng.normal(-0.45, 0.25), -1.0, 1.0))
        escalations = int(rng.random() < 0.5)
    else:
        buying = rng.random() < BUYING_SHARE
        intent = str(rng.choice(BUYING_INTENTS if buying else OTHER_INTENTS))
        sentiment = float(np.clip(rng.normal(0.25, 0.3), -1.0, 1.0))
        escalations = int(rng.random() < 0.05)
    confidence = float(rng.uniform(0.45, 0.95))
    buying = intent in BUYING_INTENTS
    lead = int(buying and confidence >= 0.6)
    return ({"outcome": "ended", "chat_channel": "WEB", "language": "en",
             "messages": str(int(rng.poisson(6)) + 1), "sentiment_mean": f"{sentiment:.4f}",
             "intent": intent, "intent_confidence": f"{confidence:.4f}",
             "escalations": str(escalations), "lead_signals": str(lead)}, buying)


def histories(persons: int = 2000, days: int = 180, seed: int = 11, chat_effect: float = 2.0,
              base: float = -6.5, plain_chat_effect: float = 0.5,
              discontent_rate: float = 0.015) -> list[dict[str, Any]]:
    """Every person's events over ``days`` from ``START_MS``, grouped by person."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for p in range(persons):
        person = f"p_{p:06d}"
        ids = [f"anonymous_id:anon_{p}"]
        if rng.random() < 0.7:
            ids.append(f"email:person{p}@mail.net")
        if rng.random() < 0.35:
            ids.append(f"customer_id:cus_{p}")
        interest = float(rng.gamma(1.0, 1.0))
        chat_habit = float(rng.gamma(2.0, 0.5)) if rng.random() < 0.4 else 0.0
        first = int(rng.integers(0, int(days * 0.8)))
        touches: list[int] = []  # days of touchpoints
        chats: list[tuple[int, bool]] = []  # days of chats, buying intent shown
        demo = purchased = False
        discontent_since: int | None = None
        leave_after = 0
        n = 0
        if "customer_id:" in " ".join(ids):
            rows.append(_row(person, f"crm:{person}", "profile", START_MS + first * DAY_MS, None,
                             None, ids))
        for day in range(first, days):
            if discontent_since is not None and day - discontent_since >= leave_after:
                break  # the customer left
            if purchased and discontent_since is None and rng.random() < discontent_rate:
                discontent_since, leave_after = day, int(rng.integers(10, 41))
            discontent = discontent_since is not None
            base_ms = START_MS + day * DAY_MS
            for _ in range(int(rng.poisson(0.12 + 0.3 * interest))):
                channel = str(rng.choice(CHANNELS, p=CHANNEL_WEIGHTS))
                n += 1
                rows.append(_row(person, f"tp_{p}_{n}", "touchpoint",
                                 base_ms + int(rng.integers(0, DAY_MS)),
                                 "visit" if channel in ("organic_search", "direct") else "click",
                                 channel, ids))
                touches.append(day)
            chat_chance = min(0.5, 0.04 * chat_habit)
            if discontent:
                chat_chance = max(chat_chance, 0.08)
            if rng.random() < chat_chance:
                n += 1
                attributes, buying = _chat(rng, discontent)
                rows.append(_row(person, f"chat_{p}_{n}", "touchpoint",
                                 base_ms + int(rng.integers(0, DAY_MS)), "chat_session", "chat",
                                 ids, attributes=attributes))
                chats.append((day, buying))
            if not demo and rng.random() < 0.004 * interest:
                demo = True
                n += 1
                rows.append(_row(person, f"cv_{p}_{n}", "conversion",
                                 base_ms + int(rng.integers(0, DAY_MS)), "demo_request", None, ids))
            recent_touches = sum(1 for d in touches if day - 7 < d <= day)
            recent_chats = [b for d, b in chats if day - 14 < d <= day]
            logit = (base + 0.35 * recent_touches + chat_effect * any(recent_chats)
                     + plain_chat_effect * (bool(recent_chats) and not any(recent_chats))
                     + 1.2 * demo + 0.6 * interest - 1.5 * discontent)
            if rng.random() < 1.0 / (1.0 + math.exp(-logit)):
                purchased = True
                n += 1
                rows.append(_row(person, f"cv_{p}_{n}", "conversion",
                                 base_ms + int(rng.integers(0, DAY_MS)), "purchase", None, ids,
                                 round(float(rng.gamma(2.0, 40.0)), 2), "USD"))
    rows.sort(key=lambda r: (r["person_id"], r["occurred_at"], r["event_id"]))
    return rows
