"""Seasonal robust scoring of campaign metrics (anomaly_scoring, anomaly_batch)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from streams.marketing.anomaly_batch import score_latest
from streams.marketing.anomaly_scoring import (
    DEFAULT_POLICY,
    METRICS,
    Array,
    Metric,
    components,
    score_columns,
    seasonal_baseline,
    trailing_ratio,
)
from streams.simulators.anomalies import simulate

WEEKS = 6


Counters = tuple[Array, Array, Array, Array, Array]


def clean(campaigns: int = 4, seed: int = 3) -> Counters:
    sim = simulate(campaigns=campaigns, weeks=WEEKS, seed=seed, events_per_campaign=0, late_share=0.0)
    return (sim.impressions.copy(), sim.clicks.copy(), sim.cost.copy(), sim.conversions.copy(),
            sim.value.copy())


def severities(metric: Metric, counters: Counters, first: int) -> NDArray[np.int8]:
    num, den, vol = components(metric, *counters)
    return score_columns(metric, num, den, vol, first).severity


def test_a_fivefold_spend_hour_alerts_upwards_and_ordinary_hours_do_not() -> None:
    counters = clean()
    first = 4 * 168
    before = severities("spend", counters, first)
    busiest = int(np.nanargmax(counters[2][0, -30:-6])) + counters[2].shape[1] - 30
    counters[2][0, busiest] *= 5
    after = severities("spend", counters, first)
    num, den, vol = components("spend", *counters)
    z = score_columns("spend", num, den, vol, first).z
    col = busiest - first
    assert after[0, col] > 0 and z[0, col] > 0
    assert before[0, col] == 0
    # Clean weeks of a clean campaign: almost nothing fires.
    assert (before > 0).mean() < 0.01


def test_a_zero_spend_afternoon_alerts_downwards() -> None:
    counters = clean()
    first = 4 * 168
    day = counters[2].shape[1] - 24
    for arr in counters:
        arr[1, day + 14:day + 24] = 0.0
    num, den, vol = components("spend", *counters)
    scores = score_columns("spend", num, den, vol, first)
    cols = slice(day + 14 - first, day + 24 - first)
    assert (scores.severity[1, cols] > 0).any()
    assert (scores.z[1, cols][scores.severity[1, cols] > 0] < 0).all()


def test_ctr_needs_volume_a_one_click_hour_never_alarms() -> None:
    hours = 5 * 168
    impressions = np.full((2, hours), 20_000.0)
    clicks = np.full((2, hours), 400.0) + np.tile([0.0, 12.0, -12.0, 4.0], hours // 4)
    # Series 1 is tiny: 10 impressions an hour, usually no click; its last hour has one.
    impressions[1] = 10.0
    clicks[1] = 0.0
    clicks[1, ::50] = 1.0
    clicks[1, -1] = 1.0
    cost = clicks * 0.5
    zeros = np.zeros((2, hours))
    num, den, vol = components("ctr", impressions, clicks, cost, zeros, zeros)
    scores = score_columns("ctr", num, den, vol, hours - 1)
    assert scores.severity[1, 0] == 0 and np.isnan(scores.z[1, 0])
    # The large series' CTR halving is judged and alerts downwards.
    clicks[0, -1] = 200.0
    num, den, vol = components("ctr", impressions, clicks, cost, zeros, zeros)
    scores = score_columns("ctr", num, den, vol, hours - 1)
    assert scores.severity[0, 0] > 0 and scores.z[0, 0] < 0


def test_a_few_conversions_missing_is_not_a_tracking_break() -> None:
    hours = 5 * 168
    rng = np.random.default_rng(1)
    conversions = rng.poisson(5.0, (1, hours)).astype(float)
    ones = np.ones((1, hours))
    conversions[0, -1] = 0.0  # P(0 | 5) = 0.7 %: unusual, not an alert on its own
    num, den, vol = components("conversions", ones * 1000, ones * 100, ones * 50, conversions, conversions)
    assert score_columns("conversions", num, den, vol, hours - 1).severity[0, 0] == 0
    conversions[0, -6:] = 0.0  # six hours without any: the 6-hour window alerts
    num, den, vol = components("conversions", ones * 1000, ones * 100, ones * 50, conversions, conversions)
    scores = score_columns("conversions", num, den, vol, hours - 1)
    assert scores.severity[0, 0] > 0 and scores.z[0, 0] < 0 and scores.window[0, 0] >= 6


def test_short_history_falls_back_to_the_same_hour_of_day() -> None:
    hours = 10 * 24
    daily = np.tile(np.arange(24, dtype=float) + 10.0, hours // 24)[None, :]
    base, short = seasonal_baseline(daily, hours - 24, DEFAULT_POLICY)
    assert short.all()
    np.testing.assert_allclose(base, daily[:, -24:])
    weekly = np.tile(np.arange(168, dtype=float) + 1.0, 5)[None, :]
    base, short = seasonal_baseline(weekly, 4 * 168, DEFAULT_POLICY)
    assert not short.any()
    np.testing.assert_allclose(base, weekly[:, -168:])


def test_scores_are_causal_later_hours_do_not_change_an_earlier_score() -> None:
    counters = clean(campaigns=2)
    first = 5 * 168
    num, den, vol = components("cpc", *counters)
    full = score_columns("cpc", num, den, vol, first)
    cut = first + 10
    part = score_columns("cpc", num[:, :cut + 1], den[:, :cut + 1], vol[:, :cut + 1], first)
    np.testing.assert_array_equal(full.z[:, :11], part.z)


def test_the_screened_batch_scorer_gives_the_full_scorers_severities() -> None:
    sim = simulate(campaigns=60, weeks=WEEKS, seed=11, events_per_campaign=2, warmup_weeks=4)
    counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
    fired = 0
    for end in (sim.hours - 1, sim.hours - 30, sim.hours - 77):
        for metric in METRICS:
            num, den, vol = (a[:, :end + 1] for a in components(metric, *counters))
            full = score_columns(metric, num, den, vol, end)
            fast = score_latest(metric, num, den, vol)
            np.testing.assert_array_equal(fast.severity, full.severity)
            alerted = full.severity[:, 0] > 0
            np.testing.assert_allclose(fast.z[alerted], full.z[alerted])
            fired += int(alerted.sum())
    assert fired > 0


def test_the_trailing_ratio_of_one_column_is_that_of_the_running_totals() -> None:
    rng = np.random.default_rng(5)
    top, bottom = rng.gamma(2.0, 50.0, (40, 400)), rng.gamma(2.0, 5.0, (40, 400))
    top[rng.random(top.shape) < 0.2] = np.nan
    bottom[rng.random(bottom.shape) < 0.1] = np.nan
    top[3] = np.nan  # a series with nothing known: no ratio
    for first, length in ((399, 168), (100, 168), (0, 168), (399, 24)):
        n = first + 1
        one = trailing_ratio(top[:, :n], bottom[:, :n], length, first)  # one column
        # the running totals' path: the same column, with one more after it
        wider = np.concatenate([top[:, :n], np.full((40, 1), 1.0)], axis=1)
        running = trailing_ratio(wider, np.concatenate([bottom[:, :n], np.ones((40, 1))], axis=1),
                                 length, first)[:, :1]
        assert one.shape == (40, 1)
        np.testing.assert_allclose(one, running, rtol=1e-12)
        assert np.isnan(one[3, 0])
