"""Shoppers with known tastes and contact habits, for the recommendation tests and benchmark.

A catalogue of ``categories x per_category`` products (``p<category>-<n>``), each category's
products Zipf-popular; a few products launch late (so recency matters to popularity). Each
person has a taste, a Dirichlet draw over categories (``concentration`` small: two or three
categories carry most of it), a segment (``office``: weekdays 9-17, ``evening``: 18-23 every
day; within a segment some hours are much likelier, ``SEGMENT_WEIGHTS``) and a favourite hour
of the week drawn from the segment's hours. A person's sessions (Poisson over the period)
happen at the favourite hour with probability ``habit``, else at an hour drawn as the
segment's; a session picks a category from the taste (or uniformly with probability
``noise``), views one to three of its products (touchpoints, ``site_visit`` with
``properties.product_id``) and may buy one of them (a ``purchase`` conversion with
``properties.product_id``).

Invariants: the draws depend only on the arguments (a seeded generator gives the same shoppers
every time); events are valid ``touchpoints`` and ``conversions`` values keyed by the person's
``customer_id``, in time order; the truth (tastes, segments, favourite hours) is returned
beside the events and never inside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000
T0: Final = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a Thursday
#: hours of the week (0 = Monday 00:00 UTC) of each segment
SEGMENT_HOURS: Final[dict[str, tuple[int, ...]]] = {
    "office": tuple(d * 24 + h for d in range(5) for h in range(9, 17)),
    "evening": tuple(d * 24 + h for d in range(7) for h in range(18, 23)),
}
#: how much more often some hours of the day are chosen than others, per segment
_HOUR_WEIGHTS: Final[dict[str, dict[int, float]]] = {
    "office": {9: 1.0, 10: 4.0, 11: 3.0, 12: 1.0, 13: 1.0, 14: 2.0, 15: 2.0, 16: 1.0},
    "evening": {18: 1.0, 19: 2.0, 20: 5.0, 21: 3.0, 22: 1.0},
}
SEGMENT_WEIGHTS: Final[dict[str, np.ndarray]] = {
    name: np.array([_HOUR_WEIGHTS[name][h % 24] for h in hours]) / sum(
        _HOUR_WEIGHTS[name][h % 24] for h in hours)
    for name, hours in SEGMENT_HOURS.items()}


@dataclass
class Shoppers:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, value)
    taste: dict[str, np.ndarray] = field(default_factory=dict)  # person -> category weights
    segment: dict[str, str] = field(default_factory=dict)
    favourite_hour: dict[str, int] = field(default_factory=dict)  # hour of the week
    category_of: dict[str, int] = field(default_factory=dict)  # product id -> category


def hour_of_week(ms: int) -> int:
    """0 = Monday 00:00 UTC."""
    days = ms // DAY_MS
    return int(((days + 3) % 7) * 24 + (ms % DAY_MS) // HOUR_MS)  # 1970-01-01 was a Thursday


def _at_hour(rng: np.random.Generator, day: int, how: int) -> int:
    """A time on the week of ``day`` (days since T0) at hour of week ``how``."""
    start = T0 + day * DAY_MS
    week_start = start - hour_of_week(start) * HOUR_MS
    return int(week_start + how * HOUR_MS + rng.integers(0, HOUR_MS))


def _touchpoint(event_id: str, at: int, person: str, product: str) -> dict[str, Any]:
    return {"touchpoint_id": event_id, "occurred_at": at, "type": "site_visit",
            "channel": "direct", "platform": "WEB_ANALYTICS", "campaign_id": None,
            "ad_group_id": None, "ad_id": None,
            "utm": {"source": None, "medium": None, "campaign": None, "term": None,
                    "content": None},
            "identifiers": {"customer_id": person, "email": None, "phone": None,
                            "anonymous_id": None, "device_id": None},
            "url": f"https://shop.example.com/products/{product}", "referrer": None,
            "properties": {"product_id": product}}


def _purchase(event_id: str, at: int, person: str, product: str, value: float
              ) -> dict[str, Any]:
    return {"conversion_id": event_id, "occurred_at": at, "type": "purchase", "value": value,
            "currency": "EUR", "order_id": f"o-{event_id}",
            "identifiers": {"customer_id": person, "email": None, "phone": None,
                            "anonymous_id": None, "device_id": None},
            "properties": {"product_id": product}}


def shoppers(persons: int = 2000, days: int = 120, categories: int = 20, per_category: int = 15,
             seed: int = 0, concentration: float = 0.15, sessions_per_week: float = 1.5,
             noise: float = 0.1, buy: float = 0.3, habit: float = 0.6) -> Shoppers:
    rng = np.random.default_rng(seed)
    out = Shoppers()
    zipf = 1.0 / np.arange(1, per_category + 1) ** 1.1
    launch = np.zeros((categories, per_category), np.int64)  # day each product appears
    late = rng.random((categories, per_category)) < 0.1
    launch[late] = rng.integers(days // 3, days, late.sum())
    products = [[f"p{c:02d}-{n:02d}" for n in range(per_category)] for c in range(categories)]
    for c in range(categories):
        for n in range(per_category):
            out.category_of[products[c][n]] = c
    prices = rng.lognormal(3.5, 0.6, (categories, per_category)).round(2)
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for p in range(persons):
        person = f"c{p:05d}"
        taste = rng.dirichlet(np.full(categories, concentration))
        segment = "office" if rng.random() < 0.5 else "evening"
        hours, shape = SEGMENT_HOURS[segment], SEGMENT_WEIGHTS[segment]
        favourite = int(hours[rng.choice(len(hours), p=shape)])
        out.taste[person], out.segment[person], out.favourite_hour[person] = (
            taste, segment, favourite)
        rate = rng.gamma(2.0, sessions_per_week / 2.0)
        for s in range(rng.poisson(rate * days / 7)):
            day = int(rng.integers(days))
            how = favourite if rng.random() < habit else int(
                hours[rng.choice(len(hours), p=shape)])
            at = _at_hour(rng, day, how)
            if at < T0 or at >= T0 + days * DAY_MS:
                continue
            c = int(rng.integers(categories)) if rng.random() < noise else int(
                rng.choice(categories, p=taste))
            weights = zipf * (launch[c] <= day)
            if not weights.any():
                continue
            views = rng.choice(per_category, size=min(int(rng.integers(1, 4)),
                                                      int((weights > 0).sum())),
                               replace=False, p=weights / weights.sum())
            for v, n in enumerate(views):
                rows.append((at + v * 60_000, "touchpoint",
                             _touchpoint(f"{person}-{s}-{v}", at + v * 60_000, person,
                                         products[c][n])))
            if rng.random() < buy:
                n = int(views[0])
                when = at + len(views) * 60_000
                rows.append((when, "conversion", _purchase(f"{person}-{s}-b", when, person,
                                                           products[c][n],
                                                           float(prices[c, n]))))
    rows.sort(key=lambda r: (r[0], r[1], str(r[2].get("touchpoint_id")
                                            or r[2].get("conversion_id"))))
    out.events = [(kind, value) for _, kind, value in rows]
    return out


__all__ = ["SEGMENT_HOURS", "Shoppers", "hour_of_week", "shoppers"]
