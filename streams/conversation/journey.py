"""The emotional journey of a conversation: the sentiment of its customer messages over time.

Bounded: the last ``MAX_POINTS`` points plus running aggregates (count, mean, EWMA, first,
worst, best after the worst), so a long conversation costs the same as a short one. The trend
is the least-squares slope of the last ``TREND_POINTS`` compounds against their message index
(change of compound per message).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import mul
from typing import Final, TypedDict

MAX_POINTS: Final = 20
TREND_POINTS: Final = 5
EWMA_ALPHA: Final = 0.4
POSITIVE: Final = 0.05  # VADER's label thresholds
NEGATIVE: Final = -0.05
RECOVERY_LOW: Final = -0.3  # a worst point at or below this ...
RECOVERY_GAIN: Final = 0.35  # ... followed by a rise of at least this much is a recovery
WORSENING_SLOPE: Final = -0.1


class Journey(TypedDict):
    count: int
    at: list[int]  # event times of the kept points, oldest first
    compound: list[float]  # compounds of the kept points
    total: float
    ewma: float | None
    first: float | None
    worst: float | None
    worst_at: int | None
    best_after_worst: float | None  # highest compound after the worst point
    trend: float
    state: str  # positive | neutral | negative | recovered | worsening


def empty() -> Journey:
    return Journey(count=0, at=[], compound=[], total=0.0, ewma=None, first=None, worst=None,
                   worst_at=None, best_after_worst=None, trend=0.0, state="neutral")


# Least-squares slope over x = 0..n-1: sum((x - mean_x) * y) / sum((x - mean_x)^2).
_WEIGHTS: Final = tuple(
    tuple((x - (n - 1) / 2) / sum((i - (n - 1) / 2) ** 2 for i in range(n)) for x in range(n))
    if n >= 2 else ()
    for n in range(TREND_POINTS + 1)
)


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of the last ``TREND_POINTS`` values per step (0 below 2)."""
    tail = values[-TREND_POINTS:]
    weights = _WEIGHTS[len(tail)]
    return sum(map(mul, weights, tail)) if weights else 0.0


def add(journey: Journey, at: int, compound: float) -> Journey:
    """A new journey with one more customer message (the argument is not changed)."""
    new = journey.copy()
    new["count"] = journey["count"] + 1
    values = new["compound"] = [*journey["compound"][-(MAX_POINTS - 1):], compound]
    new["at"] = [*journey["at"][-(MAX_POINTS - 1):], at]
    new["total"] = journey["total"] + compound
    ewma = journey["ewma"]
    new["ewma"] = compound if ewma is None else EWMA_ALPHA * compound + (1 - EWMA_ALPHA) * ewma
    if journey["first"] is None:
        new["first"] = compound
    worst, best = journey["worst"], journey["best_after_worst"]
    if worst is None or compound < worst:
        new["worst"], new["worst_at"], new["best_after_worst"] = compound, at, None
    elif best is None or compound > best:
        new["best_after_worst"] = compound
    new["trend"] = slope(values)
    new["state"] = final_state(new)
    return new


def recovery(journey: Journey) -> float | None:
    """How far the last message rose above the worst point (None before a later message)."""
    worst = journey["worst"]
    if worst is None or journey["best_after_worst"] is None:
        return None
    return journey["compound"][-1] - worst


def final_state(journey: Journey) -> str:
    """recovered: fell to RECOVERY_LOW or below, then rose by RECOVERY_GAIN to non-negative;
    worsening: a downward trend over 3+ messages ending negative; else the EWMA's label."""
    if not journey["count"]:
        return "neutral"
    last = journey["compound"][-1]
    gain = recovery(journey)
    worst = journey["worst"]
    if (gain is not None and worst is not None and worst <= RECOVERY_LOW
            and gain >= RECOVERY_GAIN and last >= NEGATIVE):
        return "recovered"
    if journey["count"] >= 3 and journey["trend"] <= WORSENING_SLOPE and last <= NEGATIVE:
        return "worsening"
    ewma = journey["ewma"]
    assert ewma is not None
    if ewma >= POSITIVE:
        return "positive"
    if ewma <= NEGATIVE:
        return "negative"
    return "neutral"


def mean(journey: Journey) -> float | None:
    return journey["total"] / journey["count"] if journey["count"] else None


def last(journey: Journey) -> float | None:
    return journey["compound"][-1] if journey["compound"] else None
