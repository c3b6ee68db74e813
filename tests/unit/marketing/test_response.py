"""The simulator's known curves: noise around them, fatigue, diminishing returns, budget caps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from streams.simulators import response


def run(hours: int, seed: int = 1, levers: response.Levers | None = None) -> tuple[
        response.Market, list[response.HourRows]]:
    market, start_levers = response.make_market(8, seed)
    state = response.start(levers or start_levers)
    rng = np.random.default_rng(seed + 1)
    rows = []
    for _ in range(hours):
        state, r = response.step(market, state, rng)
        rows.append(r)
    return market, rows


def test_same_seed_same_rows() -> None:
    _, a = run(48)
    _, b = run(48)
    assert all(np.array_equal(x.clicks, y.clicks) and np.array_equal(x.value, y.value)
               for x, y in zip(a, b, strict=True))


def test_observed_clicks_follow_the_known_curve() -> None:
    market, levers = response.make_market(8, 3)
    levers = replace(levers, budget=levers.budget * 100)  # never paced, never capped
    _, rows = run(7 * 24, seed=3, levers=levers)
    expected = sum(response.expected_hour(market, levers, h)["impressions"]
                   * response.expected_hour(market, levers, h)["ctr"] for h in range(7 * 24))
    observed = sum(r.clicks for r in rows)
    assert np.all(np.abs(observed / expected - 1) < 0.05)


def test_fatigue_and_frequency_grow_with_creative_age() -> None:
    market, levers = response.make_market(8, 4)
    fresh = response.expected_hour(market, replace(levers, creative_start=np.zeros(8, dtype=np.int64)), 0)
    old = response.expected_hour(market, replace(levers, creative_start=np.full(8, -60 * 24)), 0)
    factor = market.fatigue_floor + (1 - market.fatigue_floor) * np.exp(-60 / market.fatigue_days)
    assert np.allclose(old["ctr"] / fresh["ctr"], factor)
    assert np.all(old["frequency"] > fresh["frequency"])


def test_bids_have_diminishing_returns_and_dearer_clicks() -> None:
    market, levers = response.make_market(8, 5)
    low = response.expected_hour(market, levers, 10)
    high = response.expected_hour(market, replace(levers, bid=levers.bid * 2), 10)
    assert np.all(high["impressions"] > low["impressions"])
    assert np.all(high["impressions"] < 2 * low["impressions"])
    assert np.all(high["cpc"] > 2 * low["cpc"] * 0.999)


def test_daily_spend_never_exceeds_the_budget_and_pacing_raises_conversion_rate() -> None:
    market, levers = response.make_market(8, 6)
    tight = replace(levers, budget=response.expected_day_spend(market, levers, 0) * 0.4)
    _, rows = run(3 * 24, seed=6, levers=tight)
    cost = np.array([r.cost for r in rows]).reshape(3, 24, 8).sum(axis=1)
    assert np.all(cost <= tight.budget + 1e-6)
    clicks = np.array([r.clicks for r in rows]).sum(axis=0)
    conversions = np.array([r.conversions for r in rows]).sum(axis=0)
    loose = replace(levers, budget=levers.budget * 100)
    _, free = run(3 * 24, seed=6, levers=loose)
    free_cvr = np.array([r.conversions for r in free]).sum() / np.array([r.clicks for r in free]).sum()
    assert conversions.sum() / clicks.sum() > free_cvr
