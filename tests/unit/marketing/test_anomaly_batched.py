"""The batched in-stream detector (anomaly_stage, anomaly_batch.screen): its alerts are those
of the whole-series run however the rows are cut into batches; a restated hour of an alerted
episode never alerts again; the memoised series change nothing; the screen never rejects a
window that the full score would alert on; the arrays are built as ``components`` builds
them; hours restated days late are judged with the newest as the whole series judges them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Events, Outcome, Stage, Value
from streams.marketing import contract as names
from streams.marketing import stage as marketing
from streams.marketing.anomaly import hourly_points
from streams.marketing.anomaly_batch import screen, stacked_components
from streams.marketing.anomaly_evaluation import series_alerts
from streams.marketing.anomaly_scoring import METRICS, Metric, components, score_columns
from streams.simulators.anomalies import HOUR_MS, Simulated, rows, simulate
from tests.unit.marketing.test_anomaly_stage import DEFAULTS

Key = tuple[str, str, str, str, int]


class Tables:
    """The stage's tables; ``keep_identity``: store the values as given (as the runtime does
    when they carry their partition), else copies (every memoised series misses)."""

    def __init__(self, keep_identity: bool = True) -> None:
        self.tables: dict[str, dict[str, Value]] = {}
        self.keep_identity = keep_identity

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            held = self.tables.setdefault(table, {})
            for key, (_, value) in changed.items():
                if value is None:
                    held.pop(key, None)
                else:
                    held[key] = value if self.keep_identity else dict(value)


def feed(stage: Stage, batches: list[list[dict[str, Any]]], tables: Tables | None = None,
         start: int = 0) -> list[Outcome]:
    tables = tables or Tables()
    out = []
    offset = start
    for values in batches:
        raws = [Raw(names.AD_METRICS, 0, offset + i, 0, None, None) for i in range(len(values))]
        offset += len(values)
        outcome = stage.step(Events(raws, values), tables.lookup, 0)
        tables.apply(outcome.changes)
        out.append(outcome)
    return out


def raised(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [r.value for o in outcomes for r in o.result.outputs if r.topic == names.ANOMALIES]


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(campaigns=3, weeks=6, seed=21, events_per_campaign=3, warmup_weeks=4,
                    late_share=0.0)


@pytest.fixture(scope="module")
def values(sim: Simulated) -> list[dict[str, Any]]:
    return sorted(({**DEFAULTS, **r} for r in rows(sim)), key=lambda v: v["interval_start"])


def whole_series(sim: Simulated, values: list[dict[str, Any]]) -> set[Key]:
    """Alerts of ``score_columns`` over every hour of the series the rows make."""
    counters = np.full((5, sim.campaigns, sim.hours), np.nan)
    for p in hourly_points(values):
        counters[:, int(p.campaign_id[1:]), p.hour - sim.start_ms // HOUR_MS] = (
            p.impressions, p.clicks, p.cost, p.conversions, p.value)
    return {(f"c{a.series:04d}", a.metric, a.direction, a.status,
             sim.start_ms + a.column * HOUR_MS) for a in series_alerts(tuple(counters), 0)}


def keys(alerts: list[dict[str, Any]]) -> list[Key]:
    return [(a["campaign_id"], a["metric"], a["direction"], a["status"], a["hour"])
            for a in alerts]


def by_day(values: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    days: dict[int, list[dict[str, Any]]] = {}
    for v in values:
        days.setdefault(v["interval_start"] // (24 * HOUR_MS), []).append(v)
    return [days[d] for d in sorted(days)]


def in_steps(size: int) -> Callable[[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    return lambda values: [values[i:i + size] for i in range(0, len(values), size)]


@pytest.mark.parametrize("cut", [by_day, in_steps(200), in_steps(5000), in_steps(10**6)],
                         ids=["daily", "200", "5000", "all-at-once"])
def test_the_alerts_are_those_of_the_whole_series_however_the_batches_are_cut(
        sim: Simulated, values: list[dict[str, Any]],
        cut: Callable[[list[dict[str, Any]]], list[list[dict[str, Any]]]]) -> None:
    expected = whole_series(sim, values)
    assert len(expected) > 5, "the seeded set should raise alerts"
    got = keys(raised(feed(marketing.stage(), cut(values))))
    assert len(got) == len(set(got))  # nothing raised twice
    assert set(got) == expected


def test_a_restated_hour_of_an_alerted_episode_raises_nothing_however_late(
        sim: Simulated, values: list[dict[str, Any]]) -> None:
    stage, tables = marketing.stage(), Tables()
    newest = values[-1]["interval_start"]
    # every hour until two days before the end, then the rest: restatements can still reach
    # the alerts of the last three days
    early = [v for v in values if v["interval_start"] < newest - 48 * HOUR_MS]
    alerts = raised(feed(stage, by_day(early), tables))
    rest = [v for v in values if v["interval_start"] >= newest - 48 * HOUR_MS]
    alerts += raised(feed(stage, by_day(rest), tables, start=len(early)))
    recent = [a for a in alerts if a["hour"] >= newest - 60 * HOUR_MS]
    assert recent, "the seeded set should alert in its last days"
    hours = {(a["campaign_id"], a["hour"]) for a in recent}
    restated = [{**v, "reported_at": v["reported_at"] + 30 * HOUR_MS,
                 "cost_micros": v["cost_micros"] + 1_000_000}
                for v in values if (v["campaign_id"], v["interval_start"]) in hours]
    again = feed(stage, [restated], tables, start=10**6)
    assert raised(again) == []
    assert raised(feed(stage, [restated], tables, start=2 * 10**6)) == []  # and redelivered


def test_memoised_series_change_nothing(values: list[dict[str, Any]]) -> None:
    cut = in_steps(300)(values)
    hits, misses = Tables(keep_identity=True), Tables(keep_identity=False)
    with_memo = feed(marketing.stage(), cut, hits)
    without = feed(marketing.stage(), cut, misses)
    assert raised(with_memo) == raised(without)
    assert [o.changes for o in with_memo] == [o.changes for o in without]
    assert hits.tables == misses.tables


def test_the_screen_keeps_every_window_the_full_score_alerts_on() -> None:
    sim = simulate(campaigns=30, weeks=7, seed=13, events_per_campaign=3, warmup_weeks=4)
    counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
    first = sim.hours - 96
    mixed: list[Metric] = [m for m in METRICS for _ in range(sim.campaigns)]
    parts = [components(m, *counters) for m in METRICS]
    num, den, vol = (np.concatenate([p[k] for p in parts]) for k in range(3))
    candidate = screen(mixed, num, den, vol, first)
    alerted = 0
    for i, metric in enumerate(METRICS):
        block = slice(i * sim.campaigns, (i + 1) * sim.campaigns)
        full = score_columns(metric, num[block], den[block], vol[block], first)
        assert not np.any((full.severity > 0) & ~candidate[block]), metric
        alerted += int((full.severity > 0).sum())
    assert alerted > 0
    assert candidate.mean() < 0.5  # and it does screen


def test_stacked_components_are_each_metrics_components(sim: Simulated) -> None:
    counters = np.stack([sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value])
    counters[2, 1, 5] = np.nan  # an hour without a report
    num, den, vol = stacked_components(METRICS, counters)
    for i, metric in enumerate(METRICS):
        block = slice(i * sim.campaigns, (i + 1) * sim.campaigns)
        for got, want in zip((num[block], den[block], vol[block]),
                             components(metric, *counters), strict=True):
            np.testing.assert_array_equal(got, want)


def test_hours_restated_from_days_before_and_the_newest_in_one_batch(
        sim: Simulated, values: list[dict[str, Any]]) -> None:
    """A batch holding the newest hours and hours restated from days before: the figures kept
    from the restated hours on are computed again, and the newest hours are judged as the
    whole-series run of the restated rows judges them."""
    # the batch starts a few hours before the seeded set's last alert
    recent = max(k[4] for k in whole_series(sim, values)) - 5 * HOUR_MS
    early = [v for v in values if v["interval_start"] < recent]
    stage, tables = marketing.stage(), Tables()
    feed(stage, by_day(early), tables)
    late = {recent - 50 * HOUR_MS, recent - 25 * HOUR_MS, recent - 12 * HOUR_MS}
    restated = [{**v, "reported_at": v["reported_at"] + 100 * HOUR_MS, "clicks": v["clicks"] + 1}
                for v in values if v["interval_start"] in late]
    rest = [v for v in values if v["interval_start"] >= recent]
    got = keys(raised(feed(stage, [restated + rest], tables, start=len(early))))
    whole = {k for k in whole_series(sim, values + restated) if k[4] >= recent}
    assert whole
    assert {k for k in got if k[4] >= recent} == whole
