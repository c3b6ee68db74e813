"""Bad report rows on ``ad.metrics`` through the real broker and worker: each lands in
``dead_letters`` with its reason, and the good rows around them in ``campaign_kpis``."""

from __future__ import annotations

import time
from typing import Any

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from streams.marketing.kpis import metric_key
from tests.integration.conftest import Pipeline
from tests.integration.test_marketing_connectors import worker_querier

pytestmark = pytest.mark.integration

HOUR = 3_600_000
NOW = int(time.time() * 1000) // HOUR * HOUR


def metric(campaign: str, hour: int, **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "platform": "META", "account_id": "act_1", "campaign_id": campaign,
        "campaign_name": None, "level": "CAMPAIGN", "ad_group_id": None, "ad_id": None,
        "device": None, "interval_start": NOW - hour * HOUR,
        "interval_end": NOW - (hour - 1) * HOUR, "impressions": 500 + hour, "clicks": 9,
        "cost_micros": 4_000_000, "conversions": 1.0, "conversion_value": 30.0,
        "currency": "EUR", "bid_micros": None, "budget_micros": None, "audience": None,
        "reported_at": NOW, "extra": {"frequency": 1.2}}
    value.update(changes)
    return value


BAD = {
    "nan": (metric("b1", 1, conversions=float("nan")), "conversions is not finite (nan)"),
    "inf": (metric("b2", 1, extra={"frequency": float("inf")}), "frequency is not finite (inf)"),
    "negative": (metric("b3", 1, clicks=-2), "clicks is negative (-2)"),
    "clicks": (metric("b4", 1, clicks=900), "clicks (900) exceed impressions (501)"),
    "currency": (metric("b5", 1, currency="EURO"), "currency 'EURO' is not a known ISO 4217 code"),
    "reversed": (metric("b6", 1, interval_end=NOW - 2 * HOUR),
                 "interval_end is not after interval_start"),
    "future": (metric("b7", -100, interval_end=NOW + 101 * HOUR), "interval starts in the future"),
}


def record(value: dict[str, Any]) -> OutputRecord:
    return OutputRecord(topics.AD_METRICS, metric_key(value["platform"], value["campaign_id"]),
                        value)


def test_bad_rows_are_dead_lettered_with_their_reasons(pipeline: Pipeline) -> None:
    good = [metric(f"g{c}", hour) for c in range(3) for hour in range(1, 7)]
    mixed = [record(v) for v in good[:9]] + [record(v) for v, _ in BAD.values()] + [
        record(v) for v in good[9:]]
    pipeline.start_worker()
    produce_records(pipeline.settings, mixed, encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.AD_METRICS: end_offsets(pipeline.settings, topics.AD_METRICS)})
    q = worker_querier(pipeline)
    landed = q.sql("SELECT campaign_id, impressions, conversions FROM campaign_kpis FINAL "
                   "ORDER BY campaign_id, impressions").rows
    assert landed == sorted((v["campaign_id"], v["impressions"], v["conversions"]) for v in good)
    dead = q.sql("SELECT error, reason, dlq_topic FROM dead_letters "
                 "WHERE _topic = {t:String}", {"t": pipeline.settings.topic(topics.AD_METRICS)}
                 ).rows
    assert sorted(r[1] for r in dead) == sorted(reason for _, reason in BAD.values())
    assert {r[0] for r in dead} == {"invalid_field"}
    assert {r[2] for r in dead} == {pipeline.settings.topic(topics.dlq(topics.AD_METRICS))}
    ends = end_offsets(pipeline.settings, topics.dlq(topics.AD_METRICS))
    assert sum(ends.values()) == len(BAD)
