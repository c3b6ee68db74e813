"""The campaigns page's shaping: KPIs from sums at one level, pacing, anomalies with their
drivers, recommendations from the audit trail, and JSON-ready values."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from streams.marketing import approval
from streams.marketing import campaign_views as views
from streams.marketing.drilldown import drill_down
from streams.marketing.rules import Recommendation

H0 = dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)
H1 = dt.datetime(2026, 12, 4, 11, tzinfo=dt.UTC)


def row(hour: dt.datetime, campaign: str = "c1", platform: str = "GOOGLE_ADS", *,
        impressions: int = 1000, clicks: int = 50, conversions: float = 2.0,
        spend: float | None = 20.0, revenue: float | None = 60.0, **extra: Any
        ) -> dict[str, Any]:
    return {"hour": hour, "platform": platform, "campaign_id": campaign, "impressions": impressions,
            "clicks": clicks, "conversions": conversions, "spend_reporting": spend,
            "revenue_reporting": revenue, "account_currency": "EUR", **extra}


def rec(campaign: str, effect: float, confidence: float, rationale: str = "why") -> Recommendation:
    proposed = 1.0 + effect / 100  # a request id is derived from the proposal
    return Recommendation("bid", "set_bid", f"campaign:{campaign}", campaign, 1_000, 1.0,
                          proposed, proposed - 1.0, effect, confidence, rationale,
                          {"clicks": 120.0})


def test_kpis_come_from_the_sums_not_from_averaged_rates() -> None:
    k = views.kpis([row(H0, impressions=1000, clicks=10, spend=10.0, revenue=0.0,
                        conversions=0.0),
                    row(H1, impressions=3000, clicks=290, spend=50.0, revenue=150.0,
                        conversions=6.0)])
    assert (k.impressions, k.clicks, k.conversions) == (4000, 300, 6.0)
    assert k.ctr == pytest.approx(300 / 4000)  # not the mean of 1% and 9.67%
    assert k.cpc == pytest.approx(60 / 300) and k.cpm == pytest.approx(15.0)
    assert k.cpa == pytest.approx(10.0) and k.conversion_rate == pytest.approx(6 / 300)
    assert k.roas == pytest.approx(2.5) and k.roi == pytest.approx(1.5)


def test_undefined_rates_and_unconverted_money_are_none_not_zero() -> None:
    empty = views.kpis([row(H0, impressions=0, clicks=0, conversions=0.0, spend=0.0,
                            revenue=0.0)])
    assert (empty.ctr, empty.cpc, empty.cpa, empty.roas, empty.roi) == (None,) * 5
    no_rate = views.kpis([row(H0), row(H1, spend=None, revenue=None)])
    assert no_rate.spend is None and no_rate.revenue is None
    assert no_rate.cpc is None and no_rate.roas is None and no_rate.roi is None
    assert no_rate.ctr == pytest.approx(0.05)  # counts need no rate


def test_each_campaign_is_read_at_its_coarsest_level() -> None:
    by_level = {
        "CAMPAIGN": [row(H0, "c1")],
        "AD_GROUP": [row(H0, "c1", spend=999.0), row(H0, "c2", spend=5.0),
                     row(H1, "c2", spend=7.0)],
        "AD": [row(H0, "c2", spend=999.0), row(H0, "c3", spend=1.0)],
    }
    picked = views.coarsest(by_level)
    assert {k: (level, len(rows)) for k, (level, rows) in picked.items()} == {
        ("GOOGLE_ADS", "c1"): ("CAMPAIGN", 1), ("GOOGLE_ADS", "c2"): ("AD_GROUP", 2),
        ("GOOGLE_ADS", "c3"): ("AD", 1)}
    ledger, _ = approval.submit(approval.Ledger(), rec("GOOGLE_ADS:c2", 5.0, 0.5), "o", 1)
    alerts = [{"platform": "GOOGLE_ADS", "campaign_id": "c2"}] * 2
    pacing = [{"platform": "GOOGLE_ADS", "campaign_id": "c2", "spend_today": 12.0,
               "daily_budget": 10.0, "pacing": 1.6, "projected_spend": 16.0, "status": "over"}]
    out = views.summaries(views.Window(24, "USD"), by_level, pacing,
                          {("GOOGLE_ADS", "c2"): "Brand"}, alerts, ledger)
    assert [(s.campaign_id, s.kpis.spend) for s in out] == [
        ("c1", 20.0), ("c2", 12.0), ("c3", 1.0)]  # largest spend first, no level added up
    c2 = out[1]
    assert (c2.name, c2.level, c2.anomalies, c2.pending, c2.currency) == (
        "Brand", "AD_GROUP", 2, 1, "USD")
    assert c2.pacing is not None and c2.pacing.status == "over" and out[0].pacing is None


def test_hours_are_latest_first_with_their_own_kpis() -> None:
    hours = views.hourly([row(H0, clicks=10), row(H1, clicks=20), row(H1, clicks=30)])
    assert [(h.hour, h.kpis.clicks) for h in hours] == [(H1, 50), (H0, 10)]


def test_window_of_a_query_string() -> None:
    assert views.window_of({}) == views.Window(48, "USD")
    assert views.window_of({"hours": "6", "currency": "eur"}) == views.Window(6, "EUR")
    for bad in ({"hours": "0"}, {"hours": "-3"}, {"hours": "1e3"}, {"hours": "9999"},
                {"currency": "US"}, {"currency": "<b>"}):
        with pytest.raises(ValueError):
            views.window_of(bad)


def test_an_anomaly_carries_its_drivers_ranked_by_share() -> None:
    def ad(group: str, device: str, cost: float) -> dict[str, Any]:
        return {"level": "AD_GROUP", "campaign_id": "c1", "ad_group_id": group, "ad_id": None,
                "device": device, "interval_start": 0, "reported_at": 1, "impressions": 100,
                "clicks": 10, "cost": cost, "conversions": 1.0, "conversion_value": 5.0}

    drilled = drill_down("spend", [ad("g1", "MOBILE", 50.0), ad("g2", "DESKTOP", 10.0)],
                         [ad("g1", "MOBILE", 10.0), ad("g2", "DESKTOP", 10.0)])
    alert = {"platform": "GOOGLE_ADS", "campaign_id": "c1", "metric": "spend", "direction": "up",
             "status": "new", "severity": "high", "hour": 1_764_842_400_000, "value": 60.0,
             "baseline": 20.0, "change": 2.0, "z": 7.5, "window_hours": 1}
    view = views.anomaly_view(alert, drilled)
    assert view.hour == dt.datetime(2025, 12, 4, 10, tzinfo=dt.UTC)
    assert [(d.key, d.share, d.contribution) for d in view.drivers["ad_group_id"]] == [
        ("g1", 1.0, 40.0), ("g2", 0.0, 0.0)]
    assert view.drivers["device"][0].key == "MOBILE"
    assert views.anomaly_view(alert, None).drivers == {}
    assert views.alerts_of([alert, {**alert, "campaign_id": "c2"}], "GOOGLE_ADS", "c1") == [alert]


def test_recommendations_by_status_and_campaign_with_their_history() -> None:
    ledger = approval.Ledger()
    ledger, low = approval.submit(ledger, rec("GOOGLE_ADS:c1", 1.0, 0.5), "optimiser", 10)
    ledger, high = approval.submit(ledger, rec("GOOGLE_ADS:c1", 9.0, 0.9), "optimiser", 10)
    ledger, other = approval.submit(ledger, rec("META:c9", 50.0, 1.0), "optimiser", 10)
    ledger = approval.reject(ledger, low, "ana", 20, "not now")
    assert [r.request_id for r in views.recommendations(ledger, status="pending")] == [other, high]
    mine = views.recommendations(ledger, campaign=("GOOGLE_ADS", "c1"))
    assert [(r.request_id, r.status, r.pending) for r in mine] == [
        (high, "pending", True), (low, "rejected", False)]
    rejected = mine[1]
    assert (rejected.platform, rejected.campaign_id, rejected.dry_run) == (
        "GOOGLE_ADS", "c1", True)
    assert [(s.actor, s.from_status, s.to_status, s.reason) for s in rejected.history] == [
        ("optimiser", None, "pending", "dry run: why"), ("ana", "pending", "rejected", "not now")]


def test_plain_values_are_json_ready() -> None:
    summary = views.HourKpis(H0, views.kpis([row(H0, clicks=0, spend=math.nan)]))
    out = views.plain({"rows": [summary], "window": views.Window()})
    text = json.dumps(out, allow_nan=False)  # raises on NaN or a datetime
    assert out["rows"][0]["hour"] == "2026-12-04T10:00:00+00:00"
    assert out["rows"][0]["kpis"]["spend"] is None and out["window"]["hours"] == 48
    assert json.loads(text) == out


def test_every_anomaly_has_a_drill_down_path_that_names_its_row() -> None:
    alert = {"platform": "META", "campaign_id": "c/1 ?x", "metric": "ctr",
             "direction": "down", "status": "ongoing", "severity": "warning",
             "hour": 1_764_842_400_000, "value": 0.01, "baseline": 0.02, "change": -0.5,
             "z": -6.0, "window_hours": 6}
    view = views.anomaly_view(alert, None)
    path = views.anomaly_path("META", "c/1 ?x", view)
    assert path == "/campaigns/META/c%2F1%20%3Fx/anomalies/1764842400000/ctr/down/ongoing"
    assert views.anomaly_key("META", "c/1 ?x", "1764842400000", "ctr", "down", "ongoing") == (
        views.AnomalyKey("META", "c/1 ?x", 1_764_842_400_000, "ctr", "down", "ongoing"))
    for bad in ("", "-1", "1.5", "soon", "9" * 16):
        with pytest.raises(ValueError):
            views.anomaly_key("META", "c1", bad, "ctr", "down", "ongoing")
