"""A generated lead feature table with a planted signal, for tests and benchmarks.

Invariants: deterministic for a seed; features are built from a generated event log with
``window_counts``, so they obey the as-of rule (events strictly before each row's cut-off);
the outcome depends mostly on ``pricing_visits_7d`` (the planted signal), a little on
``demo_requested`` and ``email_opens_30d``, and not at all on the ``noise_*`` columns.
"""

from __future__ import annotations

import numpy as np

from streams.predictive.reasons import ReasonCode
from streams.predictive.training import FeatureTable, window_counts

DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01 UTC
HORIZON_MS = 14 * DAY_MS  # the outcome: converted within 14 days after the cut-off

LEAD_REASON_CODES = {
    "pricing_visits_7d": ReasonCode("PRICING_INTEREST", "visited pricing {value} times in 7 days",
                                    "visited pricing only {value} times in 7 days"),
    "email_opens_30d": ReasonCode("EMAIL_ENGAGED", "opened {value} emails in 30 days",
                                  "opened only {value} emails in 30 days"),
    "demo_requested": ReasonCode("DEMO", "requested a demo", "has not requested a demo"),
    "company_size": ReasonCode("COMPANY_SIZE", "company of {value} employees"),
}


def lead_table(persons: int = 4000, days: int = 360, seed: int = 7, noise_features: int = 3) -> FeatureTable:
    """One row per person, cut-offs spread over ``days``; label = converted within the horizon."""
    rng = np.random.default_rng(seed)
    cutoff = START_MS + rng.integers(30 * DAY_MS, days * DAY_MS, size=persons)
    # Visit and open rates per person; events over the whole span, also after the cut-off (so
    # that a leaky feature would be possible and the as-of rule has something to exclude).
    pricing_rate = rng.gamma(0.6, 0.25, size=persons)  # visits a day
    email_rate = rng.gamma(1.0, 0.1, size=persons)
    keys, times = [], []
    for rate, kind in ((pricing_rate, 0), (email_rate, 1)):
        n = rng.poisson(rate * days)
        person = np.repeat(np.arange(persons), n)
        keys.append(person * 2 + kind)
        times.append(START_MS + rng.integers(0, days * DAY_MS, size=person.size))
    person_ids = np.arange(persons)
    pricing_7d, pricing_latest = window_counts(person_ids * 2, cutoff, keys[0], times[0], 7 * DAY_MS)
    email_30d, email_latest = window_counts(person_ids * 2 + 1, cutoff, keys[1], times[1], 30 * DAY_MS)
    demo = (rng.random(persons) < 0.15).astype(np.float64)
    size = np.round(np.exp(rng.normal(4.0, 1.2, size=persons)))
    logit = -3.4 + 0.9 * pricing_7d + 0.8 * demo + 0.08 * email_30d
    labels = (rng.random(persons) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    noise = rng.normal(size=(persons, noise_features))
    names = ("pricing_visits_7d", "email_opens_30d", "demo_requested", "company_size",
             *(f"noise_{i}" for i in range(noise_features)))
    values = np.column_stack([pricing_7d, email_30d, demo, size, noise]).astype(np.float64)
    return FeatureTable(names, values, labels, cutoff.astype(np.int64),
                        np.maximum(pricing_latest, email_latest))
