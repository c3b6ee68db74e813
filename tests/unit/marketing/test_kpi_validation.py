"""Bad report rows on ``ad.metrics`` are dead-lettered with their reason by the KPI stage, and
never reach ``campaign_kpis``; good rows around them still do."""

from __future__ import annotations

import time
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.kernel.stage import compute
from streams.marketing import contract as names
from streams.marketing import kpis
from streams.marketing import stage as marketing
from streams.settings import Settings

HOUR = 3_600_000
# the stage dates the far future by the wall clock
NOW = int(time.time() * 1000) // HOUR * HOUR


def metric(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "platform": "GOOGLE_ADS", "account_id": "123", "campaign_id": "c1",
        "campaign_name": "Search", "level": "CAMPAIGN", "ad_group_id": None, "ad_id": None,
        "device": None, "interval_start": NOW - 2 * HOUR, "interval_end": NOW - HOUR,
        "impressions": 1000, "clicks": 40, "cost_micros": 20_000_000, "conversions": 2.0,
        "conversion_value": 90.0, "currency": "USD", "bid_micros": 500_000,
        "budget_micros": 50_000_000, "audience": None, "reported_at": NOW, "extra": {}}
    value.update(changes)
    return value


BAD: list[tuple[dict[str, Any], str]] = [
    (metric(conversions=float("nan")), "conversions is not finite (nan)"),
    (metric(conversion_value=float("inf")), "conversion_value is not finite (inf)"),
    (metric(extra={"frequency": float("nan")}), "frequency is not finite (nan)"),
    (metric(impressions=-5), "impressions is negative (-5)"),
    (metric(cost_micros=-1), "cost_micros is negative (-1)"),
    (metric(conversions=-1.0), "conversions is negative (-1.0)"),
    (metric(budget_micros=-10), "budget_micros is negative (-10)"),
    (metric(clicks=1200), "clicks (1200) exceed impressions (1000)"),
    (metric(currency="XYZ"), "currency 'XYZ' is not a known ISO 4217 code"),
    (metric(currency="usd"), "currency 'usd' is not a known ISO 4217 code"),
    (metric(interval_end=NOW - 3 * HOUR), "interval_end is not after interval_start"),
    (metric(interval_start=NOW + 30 * 24 * HOUR, interval_end=NOW + 30 * 24 * HOUR + HOUR),
     "interval starts in the future"),
]


def raw(offset: int, value: bytes, key: str = "GOOGLE_ADS:c1") -> Raw:
    return Raw(names.AD_METRICS, 0, offset, NOW, key.encode(), value)


@pytest.mark.parametrize(("bad", "reason"), BAD)
def test_validate_names_the_problem(bad: dict[str, Any], reason: str) -> None:
    kpis.validate(raw(0, b""), metric(), now_ms=NOW)  # the good row passes
    with pytest.raises(InvalidMessage) as caught:
        kpis.validate(raw(0, b""), bad, now_ms=NOW)
    assert (caught.value.reason, caught.value.detail) == ("invalid_field", reason)


def test_an_interval_starting_within_the_hour_or_a_day_ahead_is_not_the_far_future() -> None:
    kpis.validate(raw(0, b""), metric(interval_start=NOW + HOUR, interval_end=NOW + 2 * HOUR),
                  now_ms=NOW)
    with pytest.raises(InvalidMessage, match="future"):
        kpis.validate(raw(0, b""), metric(interval_start=NOW + 25 * HOUR,
                                          interval_end=NOW + 26 * HOUR), now_ms=NOW)


def test_the_stage_dead_letters_bad_rows_with_reasons_and_keeps_the_good_ones() -> None:
    codec = AvroCodec.from_settings(Settings())
    stage = marketing.stage()
    good = [metric(campaign_id="c1"), metric(campaign_id="c1", interval_start=NOW - 3 * HOUR,
                                             interval_end=NOW - 2 * HOUR)]
    values = [good[0], *(bad for bad, _ in BAD), good[1]]
    raws = [raw(i, codec.encode(names.AD_METRICS, v)) for i, v in enumerate(values)]
    computed = compute(stage, raws, {names.AD_METRICS: codec.decoder(names.AD_METRICS)},
                       {names.AD_METRICS: stage.inputs[0]}, lambda table, key: None,
                       lambda topic: topic + ".dlq", NOW)
    reasons = [(letter.raw.offset, letter.error, letter.reason) for letter in computed.dead]
    assert reasons == [(i + 1, "invalid_field", reason) for i, (_, reason) in enumerate(BAD)]
    rows = computed.outcome.result.inserts[names.CAMPAIGN_KPIS_TABLE]
    assert rows["_offset"] == [0, len(values) - 1]
    assert all(v == v for v in rows["conversions"])  # no NaN reached the table
    dead = computed.outcome.result.inserts["dead_letters"]
    assert dead["reason"] == [reason for _, reason in BAD]
    assert set(dead["dlq_topic"]) == {names.AD_METRICS + ".dlq"}
