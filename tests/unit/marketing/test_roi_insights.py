"""The ROI insights on the embedded engine: money in one reporting currency through the rates
table (the rate of the day or the latest earlier one; none known: null), ratios from sums,
budget pacing against the reported budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.io.clickhouse import ClickHouse
from streams.io.insights import run_insight
from streams.io.migrate import migrate
from streams.kernel.records import Raw
from streams.marketing import kpis, rates, recommendations
from streams.settings import Settings

HOUR = 3_600_000
NOW = int(time.time() * 1000)
THIS_HOUR = NOW // HOUR * HOUR
TODAY = datetime.fromtimestamp(NOW / 1000, UTC).date()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    path: Path = tmp_path_factory.mktemp("roi") / "clickhouse"
    ch = ClickHouse(f"chdb://{path}")
    try:
        migrate(ch)
        yield ch
    finally:
        ch.close()


def metric(platform: str, campaign: str, currency: str, hour_ms: int, spend: float,
           value: float, **kw: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "platform": platform, "account_id": "a", "campaign_id": campaign, "campaign_name": None,
        "level": "CAMPAIGN", "ad_group_id": None, "ad_id": None, "device": None,
        "interval_start": hour_ms, "interval_end": hour_ms + HOUR, "impressions": 1000,
        "clicks": 50, "cost_micros": int(spend * 1_000_000), "conversions": 5.0,
        "conversion_value": value, "currency": currency, "bid_micros": None,
        "budget_micros": None, "audience": None, "reported_at": NOW, "extra": {}}
    m.update(kw)
    return m


def insert(ch: ClickHouse, metrics: list[dict[str, Any]]) -> None:
    raws = [Raw("ad.metrics", 0, i, NOW, None, None) for i in range(len(metrics))]
    ch.insert("campaign_kpis", kpis.kpi_columns(raws, metrics))
    levers = recommendations.lever_columns(raws, metrics)
    if levers["platform"]:
        ch.insert("campaign_levers", levers)


def test_money_is_reported_in_one_currency(engine: ClickHouse) -> None:
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    csv = f"day,currency,rate\n{yesterday},EUR,1.10\n{(TODAY - timedelta(days=9)).isoformat()},EUR,1.30\n"
    records = rates.records_from_csv(csv, "USD", "test", NOW)
    codec = AvroCodec.from_settings(Settings())  # as the worker's stage decodes them
    decoded = codec.decoder("currency.rates")([codec.encode("currency.rates", r.value)
                                               for r in records])
    raws = [Raw("currency.rates", 0, i, NOW, None, None) for i in range(len(records))]
    assert all(isinstance(d, dict) for d in decoded)
    engine.insert("currency_rates", rates.rate_columns(raws, [d for d in decoded
                                                              if isinstance(d, dict)]))
    insert(engine, [metric("META", "m1", "EUR", THIS_HOUR - HOUR, 20.0, 60.0),
                    metric("GOOGLE_ADS", "g1", "USD", THIS_HOUR - HOUR, 10.0, 5.0),
                    metric("EMAIL", "e1", "GBP", THIS_HOUR - HOUR, 4.0, 8.0)])
    rows = {r["campaign_id"]: r for r in run_insight(engine, "campaign_roi_hourly", {}).dicts()}
    meta, google, email = rows["m1"], rows["g1"], rows["e1"]
    assert meta["rate"] == pytest.approx(1.10)  # yesterday's rate, not the older one
    assert meta["spend_reporting"] == pytest.approx(22.0)
    assert meta["revenue_reporting"] == pytest.approx(66.0)
    assert meta["cpc"] == pytest.approx(22.0 / 50) and meta["cpa"] == pytest.approx(22.0 / 5)
    assert meta["cpm"] == pytest.approx(22.0) and meta["ctr"] == pytest.approx(0.05)
    assert meta["roas"] == pytest.approx(3.0) and meta["roi"] == pytest.approx(2.0)
    assert meta["conversion_rate"] == pytest.approx(0.1)
    assert google["rate"] == 1.0 and google["roi"] == pytest.approx(-0.5)
    assert email["rate"] is None and email["spend_reporting"] is None
    assert email["roas"] == pytest.approx(2.0)  # ratios of one currency need no rate
    assert {r["revenue_source"] for r in rows.values()} == {"platform"}
    eur = {r["campaign_id"]: r for r in run_insight(engine, "campaign_roi_hourly",
                                                    {"currency": "EUR"}).dicts()}
    assert eur["m1"]["rate"] == 1.0 and eur["g1"]["rate"] is None


def test_rates_refuse_what_cannot_be_a_rate() -> None:
    for bad, reason in (("2026-01-01,EUR,-1", "positive"), ("2026-01-01,EURO,1.1", "ISO 4217"),
                        ("2026-01-01,USD,1", "the same"), ("yesterday,EUR,1.1", "line 2")):
        with pytest.raises(ValueError, match=reason):
            rates.records_from_csv(f"day,currency,rate\n{bad}\n", "USD", "test", NOW)
    [good] = rates.records_from_csv("day,currency,rate\n2026-01-01,eur,1.1\n", "usd", "f", NOW)
    assert good.key == "USD:EUR:2026-01-01" and good.value["day"] == date(2026, 1, 1)


def test_pacing_compares_todays_spend_with_the_budget(engine: ClickHouse) -> None:
    # today as the query will see it (the module's NOW is from collection, perhaps yesterday)
    now = int(time.time() * 1000)
    today = datetime.fromtimestamp(now / 1000, UTC).date()
    start = int(datetime.combine(today, datetime.min.time(), UTC).timestamp() * 1000)
    hours = max(1, (now // HOUR * HOUR - start) // HOUR)
    insert(engine, [metric("GOOGLE_ADS", "p1", "USD", start + h * HOUR, 5.0, 10.0, level="AD",
                           ad_group_id="ag", ad_id="ad", device=device,
                           budget_micros=240_000_000)
                    for h in range(hours) for device in ("MOBILE", "DESKTOP")])
    [row] = [r for r in run_insight(engine, "campaign_pacing", {}).dicts()
             if r["campaign_id"] == "p1"]
    spent = 10.0 * hours
    assert row["spend_today"] == pytest.approx(spent)
    assert row["daily_budget"] == 240.0 and row["budget_spent"] == pytest.approx(spent / 240, abs=1e-4)
    day_gone = row["day_gone"]
    assert 0 < day_gone <= 1
    # day_gone comes rounded to 4 places: just after midnight that alone moves the ratio
    assert row["pacing"] == pytest.approx(spent / 240 / day_gone,
                                          rel=1e-3 + 0.5e-4 / day_gone, abs=1e-3)
    assert row["status"] == ("over" if row["pacing"] > 1.2 else
                             "under" if row["pacing"] < 0.8 else "on pace")


def test_attributed_revenue_replaces_the_platforms_and_says_so(engine: ClickHouse) -> None:
    # runs after the first test: META m1 spent 20 EUR (22 USD) an hour ago
    touch = THIS_HOUR - HOUR + 60_000
    engine.insert("attribution_credits", {
        "person_id": ["p1", "p2"], "conversion_id": ["c1", "c2"],
        "conversion_at": [touch + 1000, touch + 2000], "model": ["linear", "first_touch"],
        "model_version": ["1", "1"], "touchpoint_id": ["t1", "t2"], "channel": ["paid_social"] * 2,
        "campaign_id": ["m1", "m1"], "occurred_at": [touch, touch], "credit": [0.5, 1.0],
        "revenue_credit": [40.0, 99.0], "currency": ["EUR", "EUR"], "_topic": ["x", "x"],
        "_partition": [0, 0], "_offset": [1, 2], "_version": [1, 2]})
    found = [r for r in run_insight(engine, "campaign_roi_attributed", {}).dicts()
             if r["campaign_id"] == "m1"]
    today = {r["day"]: r for r in found}[datetime.fromtimestamp(touch / 1000, UTC).date()]
    assert today["attributed_revenue_reporting"] == pytest.approx(44.0)  # 40 EUR at 1.10
    assert today["attributed_conversions"] == pytest.approx(0.5)
    assert today["roi_attributed"] == pytest.approx((44.0 - 22.0) / 22.0, abs=1e-4)
    assert today["revenue_source"] == "attribution:linear"
