"""The anomaly fold: restated hours, de-duplicated alerts, bounded JSON state (anomaly)."""

from __future__ import annotations

import copy
import json

import numpy as np

from streams.marketing.anomaly import (
    HourPoint,
    hourly_points,
    observe,
    observe_series,
    state_key,
    step_episode,
)
from streams.marketing.anomaly_evaluation import series_alerts
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, Metric
from streams.simulators.anomalies import HOUR_MS, rows, simulate

START_HOUR = 1_767_225_600_000 // HOUR_MS


def steady_points(hours: int, campaign: str = "c1", seed: int = 5) -> list[HourPoint]:
    """A large steady campaign with a daily curve: plenty of volume, little noise."""
    rng = np.random.default_rng(seed)
    out = []
    for h in range(hours):
        shape = 1.0 + 0.5 * np.sin(2 * np.pi * (h % 24) / 24)
        imps = float(rng.poisson(20_000 * shape))
        clicks = float(rng.binomial(int(imps), 0.02))
        conv = float(rng.binomial(int(clicks), 0.05))
        out.append(HourPoint(campaign, START_HOUR + h, imps, clicks, clicks * 0.8, conv, conv * 50.0))
    return out


def test_hourly_points_take_the_latest_report_sum_devices_and_skip_ad_rows() -> None:
    base = {"campaign_id": "c1", "level": "CAMPAIGN", "interval_start": 7 * HOUR_MS, "impressions": 100,
            "clicks": 10, "cost_micros": 5_000_000, "conversions": 1.0, "conversion_value": 20.0}
    records = [
        {**base, "device": "MOBILE", "reported_at": 1},
        {**base, "device": "MOBILE", "reported_at": 3, "clicks": 12},  # restated: replaces
        {**base, "device": "DESKTOP", "reported_at": 2},
        {**base, "level": "AD", "ad_id": "a", "reported_at": 5, "clicks": 999},
    ]
    [point] = hourly_points(records)
    assert point == HourPoint("c1", 7, 200.0, 22.0, 10.0, 2.0, 40.0)
    total = {**base, "device": None, "reported_at": 1, "impressions": 250}
    [point] = hourly_points([*records, total])
    assert point.impressions == 250.0 and point.clicks == 10.0


def test_a_spend_spike_raises_one_new_alert_then_stays_quiet_while_it_lasts() -> None:
    history = steady_points(5 * 168)
    state, alerts = observe_series(None, "c1", "spend", history)
    assert alerts == []
    spike = [HourPoint(p.campaign_id, p.hour + 168, p.impressions, p.clicks, p.cost * 4, p.conversions,
                       p.value) for p in history[-168:-165]]
    raised = []
    for point in spike:
        state, new = observe_series(state, "c1", "spend", [point])
        raised.extend(new)
    assert [a.status for a in raised] in (["new"], ["new", "ongoing"])
    first = raised[0]
    assert (first.metric, first.direction, first.campaign_id) == ("spend", "up", "c1")
    assert first.hour_ms == spike[0].hour * HOUR_MS and first.change > 2.0
    # Redelivery of the same hours raises nothing more.
    again, repeat = observe_series(state, "c1", "spend", spike)
    assert repeat == []
    assert again["hours"] == state["hours"]


def test_a_restated_interval_replaces_the_stored_hour() -> None:
    history = steady_points(2 * 168)
    state, _ = observe_series(None, "c1", "spend", history)
    last = history[-1]
    restated = HourPoint("c1", last.hour, last.impressions, last.clicks, 1234.5, last.conversions, last.value)
    before = copy.deepcopy(state)
    after, _ = observe_series(state, "c1", "spend", [restated])
    assert state == before  # the argument is not mutated
    assert after["hours"][str(last.hour)][0] == 1234.5
    assert len(after["hours"]) == len(state["hours"])


def test_the_state_is_json_and_bounded() -> None:
    points = steady_points(DEFAULT_POLICY.lookback_hours + 300)
    state, _ = observe_series(None, "c1", "ctr", points)
    assert len(state["hours"]) == DEFAULT_POLICY.lookback_hours + 1
    assert json.loads(json.dumps(state)) == state


def test_episodes_new_ongoing_on_escalation_and_new_after_the_cooldown() -> None:
    cooldown = DEFAULT_POLICY.cooldown_hours
    episode, status = step_episode(None, 100, 1)
    assert status == "new"
    episode, status = step_episode(episode, 101, 1)
    assert status is None
    episode, status = step_episode(episode, 102, 2)
    assert status == "ongoing"
    episode, status = step_episode(episode, 102 + cooldown, 1)
    assert status is None and episode is not None and episode["last"] == 102 + cooldown
    _, status = step_episode(episode, 102 + 2 * cooldown + 1, 1)
    assert status == "new"


def test_the_fold_hour_by_hour_raises_the_alerts_of_the_whole_series_run() -> None:
    sim = simulate(campaigns=3, weeks=6, seed=21, events_per_campaign=3, warmup_weeks=4, late_share=0.0)
    first = sim.hours - 150
    counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
    metrics: tuple[Metric, ...] = ("spend", "conversions", "ctr")
    expected = {(f"c{a.series:04d}", a.metric, a.direction, a.status, a.column)
                for a in series_alerts(counters, first, metrics=metrics)}
    points = hourly_points(rows(sim))
    history = [p for p in points if p.hour < START_HOUR + first]
    states, _ = observe({}, history, metrics=metrics)
    got = set()
    for h in range(first, sim.hours):
        batch = [p for p in points if p.hour == START_HOUR + h]
        changed, alerts = observe(states, batch, metrics=metrics)
        states = {**states, **changed}
        got |= {(a.campaign_id, a.metric, a.direction, a.status, a.hour_ms // HOUR_MS - START_HOUR)
                for a in alerts}
    assert expected, "the seeded set should raise alerts"
    assert got == expected
    assert set(states) == {state_key(f"c{c:04d}", m) for c in range(3) for m in metrics}


def test_a_restatement_older_than_the_lateness_limit_is_stored_but_not_judged() -> None:
    history = steady_points(5 * 168)
    state, _ = observe_series(None, "c1", "spend", history)
    old = history[-(DEFAULT_POLICY.max_lateness_hours + 10)]
    late = HourPoint("c1", old.hour, old.impressions, old.clicks, old.cost * 10, old.conversions, old.value)
    after, alerts = observe_series(state, "c1", "spend", [late])
    assert alerts == []
    assert after["hours"][str(old.hour)][0] == old.cost * 10
    recent = history[-2]
    fresh = HourPoint("c1", recent.hour, recent.impressions, recent.clicks, recent.cost * 10,
                      recent.conversions, recent.value)
    _, alerts = observe_series(state, "c1", "spend", [fresh])
    assert [(a.status, a.direction) for a in alerts] == [("new", "up")]
