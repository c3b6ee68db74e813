"""Recall, precision and delay floors of the detector on a small seeded simulator set.

The thresholds were tuned on seed 7; this set (seed 32) is not the tuning set. The full figures
on held-out seeds come from ``python -m benchmarks.anomaly_quality``.
"""

from __future__ import annotations

from streams.marketing.anomaly_evaluation import KindQuality, Label, evaluate, series_alerts
from streams.simulators.anomalies import simulate

FIRST = 168
RECALL_FLOORS = {"spend_spike": 0.6, "ctr_drop": 0.7, "tracking_break": 0.6, "budget_exhausted": 0.9}


def test_each_kind_is_found_soon_and_alerts_are_mostly_true() -> None:
    sim = simulate(campaigns=16, weeks=7, seed=32)
    counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
    labels = [Label(lb.campaign, lb.kind, lb.start, lb.end) for lb in sim.labels]
    report = evaluate(series_alerts(counters, FIRST), labels, series_weeks=16 * 6)
    for kind, floor in RECALL_FLOORS.items():
        quality = report[kind]
        assert isinstance(quality, KindQuality)
        assert quality.events >= 8
        assert quality.recall >= floor, (kind, quality)
        assert quality.precision >= 0.8, (kind, quality)
        assert quality.delay_median_h <= 6, (kind, quality)
    precision, false_rate = report["precision_all_metrics"], report["false_per_series_week"]
    assert isinstance(precision, float) and isinstance(false_rate, float)
    assert precision >= 0.85
    assert false_rate <= 0.2


def test_campaigns_without_anomalies_raise_almost_nothing() -> None:
    sim = simulate(campaigns=16, weeks=7, seed=32, events_per_campaign=0)
    counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
    alerts = [a for a in series_alerts(counters, FIRST) if a.status == "new"]
    assert len(alerts) / (16 * 6) <= 0.2
