"""Generated interaction histories (``customer_events`` rows) whose ground truth makes
conversations matter, for the trainer's tests, the lift benchmark and the demo.

Each person arrives on a random day and, day by day, leaves touchpoints (a rate set by a
hidden interest), sometimes a chat session (a rate set by a chat habit independent of the
interest), sometimes a lead form or a demo request, and purchases with a daily hazard

    sigmoid(base + 0.35 * touchpoints in 7 days + chat_effect * [chat in 14 days]
            + 1.2 * [demo asked] + 0.6 * interest)

so a recent conversation raises the odds of buying by exp(chat_effect) (about 7x by default)
whatever else the person does: a model that sees chat sessions should rank buyers better than
one that does not, by an amount the seed fixes. Interest is never observed directly.

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


def _row(person: str, event_id: str, kind: str, at: int, type_: str | None,
         channel: str | None, identifiers: list[str], value: float | None = None,
         currency: str | None = None) -> dict[str, Any]:
    return {"person_id": person, "event_id": event_id, "kind": kind, "occurred_at": at,
            "type": type_, "channel": channel, "campaign_id": None, "value": value,
            "currency": currency, "identifiers": identifiers}


def histories(persons: int = 2000, days: int = 180, seed: int = 11, chat_effect: float = 2.0,
              base: float = -6.5) -> list[dict[str, Any]]:
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
        chats: list[int] = []
        demo = False
        n = 0
        if "customer_id:" in " ".join(ids):
            rows.append(_row(person, f"crm:{person}", "profile", START_MS + first * DAY_MS, None,
                             None, ids))
        for day in range(first, days):
            base_ms = START_MS + day * DAY_MS
            for _ in range(int(rng.poisson(0.12 + 0.3 * interest))):
                channel = str(rng.choice(CHANNELS, p=CHANNEL_WEIGHTS))
                n += 1
                rows.append(_row(person, f"tp_{p}_{n}", "touchpoint",
                                 base_ms + int(rng.integers(0, DAY_MS)),
                                 "visit" if channel in ("organic_search", "direct") else "click",
                                 channel, ids))
                touches.append(day)
            if rng.random() < min(0.5, 0.04 * chat_habit):
                n += 1
                rows.append(_row(person, f"chat_{p}_{n}", "touchpoint",
                                 base_ms + int(rng.integers(0, DAY_MS)), "chat_session", "chat",
                                 ids))
                chats.append(day)
            if not demo and rng.random() < 0.004 * interest:
                demo = True
                n += 1
                rows.append(_row(person, f"cv_{p}_{n}", "conversion",
                                 base_ms + int(rng.integers(0, DAY_MS)), "demo_request", None, ids))
            recent_touches = sum(1 for d in touches if day - 7 < d <= day)
            chatted = any(day - 14 < d <= day for d in chats)
            logit = (base + 0.35 * recent_touches + chat_effect * chatted + 1.2 * demo
                     + 0.6 * interest)
            if rng.random() < 1.0 / (1.0 + math.exp(-logit)):
                n += 1
                rows.append(_row(person, f"cv_{p}_{n}", "conversion",
                                 base_ms + int(rng.integers(0, DAY_MS)), "purchase", None, ids,
                                 round(float(rng.gamma(2.0, 40.0)), 2), "USD"))
    rows.sort(key=lambda r: (r["person_id"], r["occurred_at"], r["event_id"]))
    return rows
