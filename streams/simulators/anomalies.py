"""Hourly campaign metrics with injected, labelled anomalies, for tests and quality benchmarks.

Each campaign has its own size (hourly impressions spanning two orders of magnitude), daily
curve, weekday/weekend profile (B2B dips at weekends, B2C rises), slow trend, day-level and
hour-level multiplicative noise (over-dispersed counts), and click, cost, conversion and value
draws that follow from them (binomial clicks and conversions, gamma costs and values). Some
campaigns start late, so the detector's short-history fallback is exercised.

Injected kinds, each labelled with its campaign and hour range ``[start, end)``:
- ``spend_spike``: cost x2.5-5 for 2-8 hours (a bid or budget mistake; clicks rise by the root);
- ``ctr_drop``: click-through rate x0.3-0.6 for 8-36 hours (a broken creative or landing page);
- ``tracking_break``: conversions and their value read zero for 12-72 hours;
- ``budget_exhausted``: nothing delivers from an hour between 10:00 and 17:00 to midnight.

Invariants: deterministic for a seed; no two labels of a campaign overlap or sit within 48 hours
of each other; every label starts after the campaign's ``warmup_weeks``; zero-activity hours are
present as zero rows (an active campaign's connector reports them), never as missing hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

KINDS: Final = ("spend_spike", "ctr_drop", "tracking_break", "budget_exhausted")
HOUR_MS: Final = 3_600_000
START_MS: Final = 1_767_225_600_000  # 2026-01-01T00:00Z, a Thursday
Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Injected:
    """One labelled anomaly: hours are column indexes of the simulated arrays."""

    campaign: int
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Simulated:
    """``(campaigns, hours)`` counters (NaN before a campaign starts) and the labels."""

    impressions: Array
    clicks: Array
    cost: Array
    conversions: Array
    value: Array
    labels: tuple[Injected, ...]
    start_ms: int = START_MS

    @property
    def campaigns(self) -> int:
        return int(self.cost.shape[0])

    @property
    def hours(self) -> int:
        return int(self.cost.shape[1])


def _daily_curve(rng: np.random.Generator) -> Array:
    peak = rng.uniform(11, 20)
    hours = np.arange(24)
    distance = np.minimum(np.abs(hours - peak), 24 - np.abs(hours - peak))
    curve = 0.12 + np.exp(-0.5 * (distance / rng.uniform(3.5, 6.0)) ** 2)
    return np.asarray(curve / curve.mean(), dtype=np.float64)


def _place(rng: np.random.Generator, campaign: int, first: int, hours: int,
           events: int) -> list[Injected]:
    placed: list[Injected] = []
    for _ in range(events * 20):
        if len(placed) >= events:
            break
        kind = str(KINDS[int(rng.integers(len(KINDS)))])
        if kind == "budget_exhausted":
            day = int(rng.integers(first // 24 + 1, hours // 24))
            start = day * 24 + int(rng.integers(10, 18))
            end = (day + 1) * 24
        else:
            low, high = {"spend_spike": (2, 9), "ctr_drop": (8, 37), "tracking_break": (12, 73)}[kind]
            start = int(rng.integers(first, hours - high))
            end = start + int(rng.integers(low, high))
        if end > hours or any(start < p.end + 48 and p.start < end + 48 for p in placed):
            continue
        placed.append(Injected(campaign, kind, start, end))
    return sorted(placed, key=lambda p: p.start)


def simulate(campaigns: int = 40, weeks: int = 9, seed: int = 7, events_per_campaign: int = 3,
             warmup_weeks: int = 4, late_share: float = 0.15) -> Simulated:
    """Simulate ``campaigns`` series of ``weeks`` weeks with labelled anomalies."""
    rng = np.random.default_rng(seed)
    hours = weeks * 168
    shape = (campaigns, hours)
    imps, clicks, cost, conv, value = (np.full(shape, np.nan) for _ in range(5))
    labels: list[Injected] = []
    hour_of_day = np.arange(hours) % 24
    # START_MS is a Thursday: day index 2 and 3 of each week are Saturday and Sunday.
    weekend = np.isin((np.arange(hours) // 24) % 7, (2, 3))
    for c in range(campaigns):
        begin = int(rng.integers(1, 3) * 168) if rng.random() < late_share else 0
        span = hours - begin
        level = np.exp(rng.uniform(np.log(300), np.log(30_000)))
        weekly = np.where(weekend, rng.choice([0.6, 0.8, 1.2]), 1.0)[begin:]
        trend = np.linspace(1.0, rng.uniform(0.8, 1.25), span)
        day_noise = np.repeat(rng.lognormal(0, 0.12, span // 24 + 1), 24)[:span]
        hour_noise = rng.lognormal(0, 0.1, span)
        mean_imps = level * _daily_curve(rng)[hour_of_day[begin:]] * weekly * trend * day_noise * hour_noise
        ctr = rng.uniform(0.008, 0.05) * rng.lognormal(0, 0.06, span)
        cpc = rng.uniform(0.3, 3.0) * np.repeat(rng.lognormal(0, 0.06, span // 24 + 1), 24)[:span]
        cvr = rng.uniform(0.02, 0.1) * rng.lognormal(0, 0.08, span)
        aov = rng.uniform(20, 200)
        first = max(warmup_weeks * 168, begin + 3 * 168)
        events = _place(rng, c, first, hours, events_per_campaign)
        ctr_factor = np.ones(span)
        spend_factor = np.ones(span)
        tracked = np.ones(span)
        live = np.ones(span)
        for e in events:
            window = slice(e.start - begin, e.end - begin)
            if e.kind == "spend_spike":
                spend_factor[window] = rng.uniform(2.5, 5.0)
            elif e.kind == "ctr_drop":
                ctr_factor[window] = rng.uniform(0.3, 0.6)
            elif e.kind == "tracking_break":
                tracked[window] = 0.0
            else:
                live[window] = 0.0
        row_imps = rng.poisson(mean_imps * np.sqrt(spend_factor) * live).astype(np.float64)
        row_clicks = rng.binomial(row_imps.astype(np.int64), np.minimum(ctr * ctr_factor, 1.0))
        row_cost = row_clicks * cpc * np.sqrt(spend_factor) * rng.gamma(40.0, 1 / 40.0, span)
        row_conv = rng.binomial(row_clicks, np.minimum(cvr, 1.0)).astype(np.float64) * tracked
        row_value = np.where(row_conv > 0, rng.gamma(np.maximum(2.0 * row_conv, 1e-9), aov / 2.0), 0.0)
        imps[c, begin:], clicks[c, begin:], cost[c, begin:] = row_imps, row_clicks, np.round(row_cost, 2)
        conv[c, begin:], value[c, begin:] = row_conv, np.round(row_value, 2)
        labels.extend(events)
    return Simulated(imps, clicks, cost, conv, value, tuple(labels))


def rows(sim: Simulated, platform: str = "GOOGLE_ADS") -> Iterator[dict[str, Any]]:
    """The simulated hours as campaign-level ``ad.metrics`` records (cost in micros)."""
    for c in range(sim.campaigns):
        for h in range(sim.hours):
            if np.isnan(sim.cost[c, h]):
                continue
            start = sim.start_ms + h * HOUR_MS
            yield {
                "platform": platform, "account_id": "sim", "campaign_id": f"c{c:04d}",
                "level": "CAMPAIGN", "interval_start": start, "interval_end": start + HOUR_MS,
                "impressions": int(sim.impressions[c, h]), "clicks": int(sim.clicks[c, h]),
                "cost_micros": round(float(sim.cost[c, h]) * 1_000_000),
                "conversions": float(sim.conversions[c, h]),
                "conversion_value": float(sim.value[c, h]), "currency": "EUR",
                "reported_at": start + 2 * HOUR_MS,
            }
