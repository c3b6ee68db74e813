"""The stream's incremental scores (anomaly_columns, through anomaly_stage) against the batch
detector (score_columns over the whole series, anomaly_evaluation.series_alerts).

Tolerance: severities, directions, statuses and hours equal exactly; z, value, baseline and
change within a relative 1e-9 (window and trailing sums are taken in another order than the
batch detector's running sums, so they differ in the last bits), the window exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from streams.marketing import stage as marketing
from streams.marketing.anomaly_columns import Derived, Job, Layout, judge
from streams.marketing.anomaly_evaluation import series_alerts
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, METRICS, Scores, components, score_columns
from streams.simulators.anomalies import HOUR_MS, KINDS, Simulated, rows, simulate
from tests.unit.marketing.test_anomaly_batched import Tables, by_day, feed, raised
from tests.unit.marketing.test_anomaly_stage import DEFAULTS

RTOL = 1e-9
LAYOUT = Layout.of(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(campaigns=6, weeks=7, seed=33, events_per_campaign=3, late_share=0.0)


def scores_of(counters: np.ndarray[Any, Any], first: int) -> dict[str, Scores]:
    """score_columns of every metric, every series, columns from ``first``."""
    return {m: score_columns(m, *components(m, *counters), first) for m in METRICS}


def assert_same(found: tuple[float, float, float, float, int], scores: Scores, series: int,
                column: int) -> None:
    z, value, baseline, change, window = found
    np.testing.assert_allclose([z, value, baseline, change],
                               [scores.z[series, column], scores.value[series, column],
                                scores.baseline[series, column], scores.change[series, column]],
                               rtol=RTOL)
    assert window == int(scores.window[series, column])


def test_injected_anomalies_raise_the_batch_detectors_alerts_with_its_scores(sim: Simulated) -> None:
    assert {lb.kind for lb in sim.labels} == set(KINDS)  # spikes, drops, breaks, budgets
    values = sorted(({**DEFAULTS, **r} for r in rows(sim)), key=lambda v: v["interval_start"])
    got = raised(feed(marketing.stage(), by_day(values)))
    counters = np.stack([sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value])
    # the stage reads cost in micros: the reference too
    counters[2] = np.round(counters[2] * 1_000_000) / 1_000_000
    whole = {(f"c{a.series:04d}", a.metric, a.direction, a.status, sim.start_ms + a.column * HOUR_MS):
             a.severity for a in series_alerts(tuple(counters), 0)}
    stream = {(a["campaign_id"], a["metric"], a["direction"], a["status"], a["hour"]):
              2 if a["severity"] == "critical" else 1 for a in got}
    assert len(whole) > 20
    assert stream == whole
    every = scores_of(counters, 0)
    for a in got:
        column = (a["hour"] - sim.start_ms) // HOUR_MS
        assert_same((a["z"], a["value"], a["baseline"], a["change"], a["window_hours"]),
                    every[a["metric"]], int(a["campaign_id"][1:]), column)
    # every kind is caught somewhere
    caught = {lb.kind for lb in sim.labels
              if any(k[0] == f"c{lb.campaign:04d}"
                     and lb.start <= (k[4] - sim.start_ms) // HOUR_MS < lb.end + 6 for k in stream)}
    assert caught == set(KINDS)


def test_figures_kept_through_restatements_score_as_the_whole_series_as_it_stands(
        sim: Simulated) -> None:
    """Hour by hour in batches of 5, with hours 1-80 hours back restated now and then: every
    judged hour's severity and figures, from the first day that has a baseline, equal
    score_columns over the series as it stands, and the figures kept equal those computed from
    nothing."""
    counters = np.stack([sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value])[:, 0]
    # and anomalies in the first weeks, judged on same-hour-of-day baselines and young scales
    counters[1:3, 100:104] *= 4.0
    counters[3:, 200:230] = 0.0
    held = np.full_like(counters, np.nan)
    rng = np.random.default_rng(3)
    derived = Derived(0, np.empty((LAYOUT.rows, 0)), 0)
    checked = restated = 0
    early = False
    for start in range(0, sim.hours, 5):
        new = list(range(start, min(start + 5, sim.hours)))
        held[:, new] = counters[:, new]
        changed = list(new)
        if start > 400 and rng.random() < 0.3:
            back = start - int(rng.integers(1, 80))
            held[:, back] *= rng.uniform(0.3, 3.0)  # a revised figure (cost, clicks, ...)
            changed.append(back)
            restated += 1
        derived = derived.upto(min(changed))
        targets = sorted(h for h in changed if h >= new[0] - DEFAULT_POLICY.max_lateness_hours)
        job = Job("k", 0, held, derived, derived.end, new[-1] + 1, targets)
        judge(LAYOUT, [job])
        derived = job.derived
        if start < 72:  # from the fourth day on: a same-hour-of-day baseline
            continue
        whole = scores_of(held[:, None, :], 0)
        found = {(i, t): f for i, t, _, f in job.found}
        severity = {(i, t): s for i, t, s, _ in job.found}
        for i, metric in enumerate(METRICS):
            for t in targets:
                assert severity.get((i, t), 0) == int(whole[metric].severity[0, t]), (metric, t)
                if (i, t) in found:
                    assert_same(found[(i, t)], whole[metric], 0, t)
                    checked += 1
                    early |= t < 240
    assert restated > 10 and checked > 10 and early
    fresh = Job("k", 0, held, Derived(derived.origin, np.empty((LAYOUT.rows, 0)), 0),
                derived.origin, derived.end, [])
    judge(LAYOUT, [fresh])
    # (the columns a judged hour reads: the older ones' windows and trailing levels reach
    # before the columns kept)
    readable = LAYOUT.keep_hours - DEFAULT_POLICY.scale_hours
    np.testing.assert_array_equal(fresh.derived.valid[:, -readable:], derived.valid[:, -readable:])
    assert derived.width <= LAYOUT.keep_hours + 5  # bounded


def test_a_restart_rebuilds_the_figures_and_raises_what_the_running_worker_raises(
        sim: Simulated) -> None:
    """A new detector (no memo) half-way through: the same alerts, values and state as the one
    that kept running, restatements of the last days included."""
    values = sorted(({**DEFAULTS, **r} for r in rows(sim)), key=lambda v: v["interval_start"])
    days = by_day(values)
    half = len(days) // 2
    restated = [{**v, "reported_at": v["reported_at"] + 40 * HOUR_MS,
                 "clicks": v["clicks"] + 3, "cost_micros": v["cost_micros"] * 2}
                for v in days[half - 1][::7]]
    later = [days[half] + restated, *days[half + 1:]]
    running, tables = marketing.stage(), Tables()
    feed(running, days[:half], tables)
    copied = Tables()
    copied.tables = {t: dict(v) for t, v in tables.tables.items()}
    kept = feed(running, later, tables, start=10**6)
    restarted = feed(marketing.stage(), later, copied, start=10**6)
    assert raised(kept) and raised(kept) == raised(restarted)
    assert [o.changes for o in kept] == [o.changes for o in restarted]


def test_hours_with_some_counters_missing_score_as_the_whole_series(sim: Simulated) -> None:
    """Hours whose cost, clicks or conversions are missing on their own (not as a platform
    reports them, but possible in the arrays): the trailing unit counts only hours where both
    of its sides are known, as score_columns does."""
    counters = np.stack([sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value])[:, 1]
    counters[1:3, 100:104] *= 4.0
    rng = np.random.default_rng(8)
    for plane in (1, 2, 3):
        counters[plane, rng.choice(sim.hours, 40, replace=False)] = np.nan
    job = Job("k", 0, counters, Derived(0, np.empty((LAYOUT.rows, 0)), 0), 0, sim.hours,
              list(range(72, sim.hours)))
    judge(LAYOUT, [job])
    whole = scores_of(counters[:, None, :], 0)
    severity = {(i, t): s for i, t, s, _ in job.found}
    for i, metric in enumerate(METRICS):
        assert [severity.get((i, t), 0) for t in range(72, sim.hours)] == \
            whole[metric].severity[0, 72:].tolist(), metric
    for i, t, _, figures in job.found:
        assert_same(figures, whole[METRICS[i]], 0, t)
    assert len(job.found) > 5
