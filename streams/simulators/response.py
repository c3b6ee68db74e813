"""Simulated campaigns with KNOWN response curves, for measuring optimisation honestly.

Every campaign has a true CTR by hour of week and by creative age (fatigue towards a floor), a
true conversion rate by hour of week, a value per conversion, auction competition by hour of
week and diminishing returns of bid and budget:
- auctions won: 1 - exp(-bid / competition) of the hour's traffic (concave in the bid);
- a click costs bid · (0.55 + 0.35 · win rate): winning more auctions costs more a click;
- ad position: CTR · (0.6 + 0.4 · win rate);
- budget pacing: when the unthrottled day would spend more than the budget, the platform takes
  a share p of auctions, best first, so conversions scale as p^beta (beta < 1) while clicks
  scale as p: value ∝ spend^beta below the budget-limited point;
- frequency of the running creative: 1 + age_days · frequency_per_day.

``step`` advances all campaigns one hour with Poisson / binomial / gamma noise from the
generator it is given (the same seed, the same draws, whatever the levers: common random
numbers for with/without comparisons). ``with_levers`` is how changes are applied. No product
code imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
HOUR_MS: Final = 3_600_000
HOURS_OF_WEEK: Final = 168


def _how(start_ms: int, hour: int) -> int:
    return (start_ms // HOUR_MS + hour + 72) % HOURS_OF_WEEK


@dataclass(frozen=True)
class Market:
    """The true response of every campaign (arrays over campaigns; (n, 168) by hour of week)."""

    campaign_ids: tuple[str, ...]
    start_ms: int
    traffic: Array  # auctions an hour at the mean of the week
    traffic_how: Array
    competition: Array
    competition_how: Array
    base_ctr: Array  # fresh creative, top position, mean hour
    ctr_how: Array
    fatigue_days: Array
    fatigue_floor: Array
    frequency_per_day: Array
    cvr: Array
    cvr_how: Array
    value_per_conversion: Array
    budget_beta: Array


@dataclass(frozen=True)
class Levers:
    bid: Array
    budget: Array  # per day
    hour_modifiers: Array  # (n, 168)
    creative_start: npt.NDArray[np.int64]  # hour the running creative started


@dataclass(frozen=True)
class SimState:
    hour: int
    levers: Levers
    spent_today: Array


@dataclass(frozen=True)
class HourRows:
    """One hour of delivery, arrays over campaigns."""

    impressions: Array
    clicks: Array
    cost: Array
    conversions: Array
    value: Array
    frequency: Array


def _weekly(rng: np.random.Generator, n: int, amplitude: float, peak_spread: float) -> Array:
    """A smooth weekly profile with mean 1: a daily cycle plus a weekday effect."""
    hours = np.arange(HOURS_OF_WEEK)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    day = np.sin(2 * np.pi * (hours % 24) / 24 + phase)
    week = np.cos(2 * np.pi * hours / HOURS_OF_WEEK + rng.uniform(0, 2 * np.pi, size=(n, 1)))
    profile = np.exp(amplitude * day + peak_spread * week)
    out: Array = profile / profile.mean(axis=1, keepdims=True)
    return out


def make_market(n: int, seed: int, start_ms: int = 1_767_225_600_000) -> tuple[Market, Levers]:
    """``n`` campaigns with random true curves, and the starting levers (deliberately untuned)."""
    rng = np.random.default_rng(seed)
    traffic_how = _weekly(rng, n, 0.8, 0.2)
    market = Market(
        campaign_ids=tuple(f"sim-{seed}-{i}" for i in range(n)), start_ms=start_ms,
        traffic=rng.uniform(3000, 12000, n), traffic_how=traffic_how,
        competition=rng.uniform(0.6, 1.6, n), competition_how=_weekly(rng, n, 0.3, 0.1),
        base_ctr=rng.uniform(0.01, 0.04, n), ctr_how=_weekly(rng, n, 0.25, 0.1),
        fatigue_days=rng.uniform(10, 30, n), fatigue_floor=rng.uniform(0.35, 0.7, n),
        frequency_per_day=rng.uniform(0.1, 0.4, n),
        cvr=rng.uniform(0.02, 0.06, n), cvr_how=_weekly(rng, n, 0.5, 0.2),
        value_per_conversion=rng.uniform(30, 120, n), budget_beta=rng.uniform(0.5, 0.85, n))
    levers = Levers(
        bid=rng.uniform(0.5, 2.0, n) * market.competition,
        budget=np.zeros(n), hour_modifiers=np.ones((n, HOURS_OF_WEEK)),
        creative_start=-rng.integers(0, 20 * 24, n).astype(np.int64))
    # Budgets between 60 % and 140 % of what the starting bids would spend: some campaigns
    # are budget-limited, some are not.
    day = expected_day_spend(market, levers, 0)
    return market, replace(levers, budget=day * rng.uniform(0.6, 1.4, n))


def expected_hour(market: Market, levers: Levers, hour: int) -> dict[str, Array]:
    """Noise-free, unpaced expectations of every campaign at ``hour``."""
    rows = np.arange(len(market.campaign_ids))
    how = np.full(rows.shape, _how(market.start_ms, hour))
    bid = levers.bid * levers.hour_modifiers[rows, how]
    win = 1 - np.exp(-bid / (market.competition * market.competition_how[rows, how]))
    impressions = market.traffic * market.traffic_how[rows, how] * win
    age_days = np.maximum(hour - levers.creative_start, 0) / 24
    floor = market.fatigue_floor
    fatigue = floor + (1 - floor) * np.exp(-age_days / market.fatigue_days)
    ctr = market.base_ctr * market.ctr_how[rows, how] * (0.6 + 0.4 * win) * fatigue
    cpc = bid * (0.55 + 0.35 * win)
    return {"impressions": impressions, "ctr": ctr, "cpc": cpc, "cost": impressions * ctr * cpc,
            "cvr": market.cvr * market.cvr_how[rows, how],
            "frequency": 1 + age_days * market.frequency_per_day}


def expected_day_spend(market: Market, levers: Levers, hour: int) -> Array:
    """Unpaced spend of the calendar day (UTC) that contains ``hour``."""
    first = hour - (market.start_ms // HOUR_MS + hour) % 24
    spend: Array = sum((expected_hour(market, levers, k)["cost"] for k in range(first, first + 24)),
                       np.zeros(len(levers.bid)))
    return spend


def start(levers: Levers, hour: int = 0) -> SimState:
    return SimState(hour, levers, np.zeros(len(levers.bid)))


def with_levers(state: SimState, levers: Levers) -> SimState:
    """Apply changes: the next hours run on the new levers."""
    return replace(state, levers=levers)


def step(market: Market, state: SimState, rng: np.random.Generator) -> tuple[SimState, HourRows]:
    """One hour of delivery for every campaign, then the state at the next hour."""
    h, lv = state.hour, state.levers
    n = len(lv.bid)
    spent = state.spent_today if (market.start_ms // HOUR_MS + h) % 24 else np.zeros(n)
    e = expected_hour(market, lv, h)
    day_spend = expected_day_spend(market, lv, h)
    pace = np.clip(lv.budget / np.maximum(day_spend, 1e-9), 0.0, 1.0)
    # Every draw has a fixed shape whatever the levers, so two arms with one seed stay aligned.
    u_imp, u_clk, u_conv, u_val = (rng.random(n) for _ in range(4))
    impressions = _poisson(e["impressions"] * pace, u_imp)
    clicks = np.minimum(_poisson(impressions * e["ctr"], u_clk), impressions)
    cost = clicks * e["cpc"]
    # The hard daily cap: the platform stops serving when the budget is spent.
    room = np.maximum(lv.budget - spent, 0.0)
    scale = np.where(cost > room, room / np.maximum(cost, 1e-12), 1.0)
    clicks = np.floor(clicks * scale)
    impressions = np.floor(impressions * scale)
    cost = clicks * e["cpc"]
    cvr = np.clip(e["cvr"] * np.power(np.maximum(pace, 1e-6), market.budget_beta - 1), 0, 1)
    conversions = _poisson(clicks * cvr, u_conv)
    value = conversions * market.value_per_conversion * (0.75 + 0.5 * u_val)
    rows = HourRows(impressions, clicks, cost, conversions, value, e["frequency"])
    return SimState(h + 1, lv, spent + cost), rows


def _poisson(mean: Array, u: Array) -> Array:
    """Poisson quantile at ``u`` (normal approximation with continuity above a mean of 30)."""
    mean = np.maximum(mean, 0.0)
    out = np.zeros_like(mean)
    small = mean < 30
    if small.any():
        m, uu = mean[small], u[small]
        k = np.zeros_like(m)
        p = np.exp(-m)
        cdf = p.copy()
        for i in range(1, 80):
            below = cdf < uu
            if not below.any():
                break
            p = p * m / i
            k = np.where(below, i, k)
            cdf = cdf + p
        out[small] = k
    big = ~small
    if big.any():
        from statistics import NormalDist

        z = np.array([NormalDist().inv_cdf(min(max(x, 1e-12), 1 - 1e-12)) for x in u[big]])
        out[big] = np.maximum(np.round(mean[big] + z * np.sqrt(mean[big])), 0)
    return out
