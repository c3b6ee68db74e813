"""Anomaly detection in the running worker (on by default): simulated campaigns with labelled anomalies
produced to ``ad.metrics`` land as alerts in the ``anomalies`` table and topic, once each, on
the labels; the drill-down reads the campaign's rows back from ClickHouse."""

from __future__ import annotations

from typing import Any

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from streams.marketing import contract as names
from streams.marketing.kpis import metric_key
from streams.ops.optimise_anomalies import anomalous_campaigns, drill, recent_alerts
from streams.simulators.anomalies import HOUR_MS, rows, simulate
from tests.integration.conftest import Pipeline, eventually
from tests.integration.test_marketing_connectors import worker_querier

pytestmark = pytest.mark.integration

DEFAULTS: dict[str, Any] = {"campaign_name": None, "ad_group_id": None, "ad_id": None,
                            "device": None, "bid_micros": None, "budget_micros": None,
                            "audience": None, "extra": {}}


def test_labelled_anomalies_become_alerts_once(pipeline: Pipeline) -> None:
    sim = simulate(campaigns=3, weeks=6, seed=5, events_per_campaign=2)
    values = sorted(({**DEFAULTS, **r} for r in rows(sim)), key=lambda v: v["interval_start"])
    records = [OutputRecord(topics.AD_METRICS, metric_key(v["platform"], v["campaign_id"]), v)
               for v in values]
    pipeline.start_worker()
    produce_records(pipeline.settings, records, encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.AD_METRICS: end_offsets(pipeline.settings, topics.AD_METRICS)})
    q = worker_querier(pipeline)

    def query(sql: str, params: Any) -> list[dict[str, Any]]:
        return q.sql(sql, params).dicts()

    def published() -> int:
        return sum(end_offsets(pipeline.settings, names.ANOMALIES).values())

    eventually(lambda: published() > 0, timeout=30)
    alerts = recent_alerts(query, 0, limit=10_000)
    assert len(alerts) == published()  # one record per row, nothing raised twice
    hits = sum(any(a["campaign_id"] == f"c{label.campaign:04d}"
                   and sim.start_ms + label.start * HOUR_MS <= a["hour"]
                   < sim.start_ms + (label.end + 6) * HOUR_MS for a in alerts)
               for label in sim.labels)
    assert hits >= len(sim.labels) // 2
    ranked = drill(query, alerts[0], top=1000)  # campaign rows: the hours explain it
    assert abs(sum(c.share for c in ranked["hour"]) - 1) < 1e-6
    latest = max(a["hour"] for a in alerts)
    flagged = anomalous_campaigns(query, latest + HOUR_MS, hours=24)
    assert flagged and all(c.startswith("GOOGLE_ADS:") for c in flagged)
