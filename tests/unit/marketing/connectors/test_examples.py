"""The sample platform payloads in schemas/examples/platforms map to the expected records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro

from streams.marketing.connectors.analytics import report_metrics
from streams.marketing.connectors.email import stats_metrics, webhook_touchpoints
from streams.marketing.connectors.google_ads import GoogleAdsConfig, GoogleAdsConnector, search_stream_metrics
from streams.marketing.connectors.meta import MetaConfig, MetaConnector, insights_metrics

ROOT = Path(__file__).parents[4] / "schemas"
NOW_MS = 1_773_570_600_000  # 2026-03-15 10:30 UTC
METRIC = fastavro.parse_schema(json.loads((ROOT / "avro/ad_metric.v1.avsc").read_text()))
TOUCHPOINT = fastavro.parse_schema(json.loads((ROOT / "avro/touchpoint.v1.avsc").read_text()))


def example(name: str) -> Any:
    return json.loads((ROOT / "examples/platforms" / name).read_text())


def utc_ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def valid(records: list[dict[str, Any]], schema: Any) -> list[dict[str, Any]]:
    for record in records:
        assert fastavro.validation.validate(record, schema, raise_errors=True)
    return records


def test_google_ads_search_stream() -> None:
    metrics, rejects = search_stream_metrics(example("google_ads_search_stream.json"), "1234567890",
                                             NOW_MS, 3_600_000)
    first, zeros = valid(metrics, METRIC)
    assert rejects == []
    assert first["interval_start"] == utc_ms(2026, 3, 14, 17)  # 13:00 in New York (EDT)
    assert first["interval_end"] == utc_ms(2026, 3, 14, 18)
    assert (first["impressions"], first["clicks"], first["cost_micros"]) == (4812, 377, 214_530_000)
    assert (first["conversions"], first["conversion_value"], first["currency"]) == (18.5, 1432.75, "USD")
    assert (first["bid_micros"], first["budget_micros"], first["level"]) == (650_000, 2_500_000_000, "AD")
    # REST JSON leaves out zeros: hour 0 and zero metrics are absent from the second row
    assert zeros["interval_start"] == utc_ms(2026, 3, 14, 4) and zeros["device"] == "TABLET"
    assert (zeros["impressions"], zeros["clicks"], zeros["cost_micros"]) == (12, 0, 0)
    assert zeros["conversions"] == 0.0


def test_google_ads_quota_error_waits_the_retry_delay() -> None:
    config = GoogleAdsConfig(base_url="http://x", account_ids=("1",), developer_token="d", access_token="t")
    failure = GoogleAdsConnector(config).classify(429, {}, example("google_ads_quota_error.json"))
    assert failure is not None and (failure.kind, failure.retry_after) == ("rate_limited", 30.0)


def test_meta_insights_page() -> None:
    page = example("meta_insights_page.json")
    metrics, rejects = insights_metrics(page["data"], "act_884120337", example("meta_ad_account.json"),
                                        ("purchase",), NOW_MS, 3_600_000)
    evening, night = valid(metrics, METRIC)
    assert rejects == [] and page["paging"]["next"].endswith("after=MQZDZD")
    assert evening["interval_start"] == utc_ms(2026, 3, 14, 19)  # 20:00 in Berlin (CET)
    assert (evening["cost_micros"], evening["conversions"], evening["conversion_value"]) == (
        18_370_000, 2.0, 131.8)  # the pixel's copy of the purchase is not counted twice
    assert (evening["ad_group_id"], evening["currency"]) == ("120208771340912", "EUR")
    assert night["interval_start"] == utc_ms(2026, 3, 14, 2) and night["conversions"] == 0.0


def test_meta_rate_limit_error_waits_for_the_regained_access() -> None:
    config = MetaConfig(base_url="http://x", account_ids=("act_1",), access_token="t")
    sample = example("meta_rate_limit_error.json")
    failure = MetaConnector(config).classify(sample["status"], sample["headers"], sample["body"])
    assert failure is not None and (failure.kind, failure.retry_after) == ("rate_limited", 300.0)
    assert example("meta_report_run.json")["report_run_id"] == example("meta_async_job.json")["id"]


def test_email_statistics_and_webhook_events() -> None:
    page = example("email_singlesend_stats_page.json")
    metrics, rejects = stats_metrics(page["results"], "esp_acme", "USD", NOW_MS, 3_600_000)
    sent, later = valid(metrics, METRIC)
    assert rejects == []
    assert (sent["interval_start"], sent["interval_end"]) == (utc_ms(2026, 3, 14), utc_ms(2026, 3, 15))
    assert (sent["impressions"], sent["clicks"], sent["extra"]["sends"]) == (18640, 712, 18900.0)
    assert later["impressions"] == 0 and later["extra"]["opens"] == 1190.0
    touchpoints, rejects = webhook_touchpoints(example("email_event_webhook_batch.json"),
                                               account_id="esp_acme", now_ms=NOW_MS)
    assert rejects == [] and len(valid(touchpoints, TOUCHPOINT)) == 6
    click = next(t for t in touchpoints if t["type"] == "email_click")
    assert click["utm"] == {"source": "newsletter", "medium": "email", "campaign": "march_news",
                            "term": None, "content": "hero"}
    bounce = next(t for t in touchpoints if t["type"] == "email_bounce")
    assert bounce["campaign_id"] == "cmp_2026_03_newsletter" and bounce["properties"]["status"] == "5.1.1"


def test_ga4_run_report() -> None:
    metrics, rejects = report_metrics([example("ga4_run_report.json")], "properties/318840021",
                                      NOW_MS, 3_600_000)
    paid, direct = valid(metrics, METRIC)
    assert rejects == []
    assert paid["interval_start"] == utc_ms(2026, 3, 14, 19)  # London is on GMT until 29 March
    assert (paid["campaign_id"], paid["ad_group_id"]) == ("spring_sale_2026", "google / cpc")
    assert paid["level"] == "AD_GROUP"
    assert (paid["impressions"], paid["clicks"], paid["conversions"], paid["conversion_value"]) == (
        331, 204, 6.0, 512.05)
    assert (paid["currency"], paid["extra"]) == ("GBP", {"total_users": 287.0})
    assert direct["ad_group_id"] == "(direct) / (none)"
