"""Pure pieces: number and money parsing, intervals, cursor, windows, rate-limit hints."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from streams.marketing.connectors.base import (
    ConnectorConfig,
    Cursor,
    PlatformError,
    day_chunks,
    next_link,
    pull_end,
    reread_start,
    retry_after,
)
from streams.marketing.connectors.google_ads import GoogleAdsConfig, rpc_failure
from streams.marketing.connectors.meta import MetaConfig, MetaConnector, usage
from streams.marketing.connectors.rows import (
    RowError,
    count,
    latest_versions,
    local_interval,
    metric,
    metric_problem,
    micros,
    minor_units,
)

NOW = 1_773_570_600.0  # 2026-03-15 10:30 UTC


def test_money_is_converted_exactly_and_bad_numbers_are_row_errors() -> None:
    assert micros("12.34", "spend") == 12_340_000
    assert micros("0.000001", "spend") == 1 and micros(0.1, "spend") == 100_000
    assert count("42", "clicks") == 42 and count(7.0, "clicks") == 7
    for bad, reason in (("NaN", "not finite"), ("1.5", "not a whole number"), ("-2", "negative"),
                        (None, "missing"), ("abc", "not a number"), (True, "missing")):
        with pytest.raises(RowError, match=reason):
            count(bad, "clicks")
    assert minor_units(25_500_000, "EUR") == 2550
    assert minor_units(2_550_000_000, "JPY") == 2550
    assert minor_units(1_234_567, "KWD") == 1234


def test_local_reporting_hours_and_days_become_utc_intervals() -> None:
    # New York is on daylight time (UTC-4) from 2026-03-08
    assert local_interval("2026-03-15", 13, "America/New_York") == (1773594000000, 1773597600000)
    start, end = local_interval("2026-03-29", None, "Europe/Berlin")  # clocks go forward
    assert end - start == 23 * 3_600_000
    for args in (("2026-02-30", 1, "UTC"), ("2026-03-01", 24, "UTC"), ("2026-03-01", 1, "Mars/Base")):
        with pytest.raises(RowError):
            local_interval(*args)


def record(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "platform": "GOOGLE_ADS", "account_id": "1", "campaign_id": "c", "interval_start": 0,
        "interval_end": 3_600_000, "impressions": 10, "clicks": 2, "cost_micros": 5,
        "currency": "EUR", "reported_at": 1}
    values.update(changes)
    return metric(**values)


def test_contract_checks_name_the_problem() -> None:
    assert metric_problem(record(), now_ms=0, max_future_ms=0) is None
    cases = {
        "clicks (11) exceed impressions (10)": record(clicks=11),
        "conversions is not finite (inf)": record(conversions=float("inf")),
        "currency 'EURO' is not a known ISO 4217 code": record(currency="EURO"),
        "interval_end is not after interval_start": record(interval_end=0),
        "interval starts in the future": record(interval_start=10**13, interval_end=10**13 + 1),
        "cost_micros is negative (-1)": record(cost_micros=-1),
        "total_users is negative (-1.0)": record(extra={"total_users": -1.0}),
    }
    for reason, bad in cases.items():
        assert metric_problem(bad, now_ms=0, max_future_ms=3_600_000) == reason


def test_the_latest_report_of_an_interval_wins_whatever_the_order() -> None:
    old, new = record(conversions=1.0, reported_at=10), record(conversions=2.5, reported_at=20)
    other = record(device="MOBILE", reported_at=5)
    for order in ([old, new, other], [new, old, other], [other, new, old]):
        latest = latest_versions(order)
        assert sorted(r["conversions"] for r in latest.values()) == [0.0, 2.5]


def test_the_cursor_round_trips_through_json_and_never_moves_back() -> None:
    cursor = Cursor().advanced("a", date(2026, 3, 11)).advanced("b", date(2026, 3, 2))
    again = Cursor.from_json(json.loads(json.dumps(cursor.to_json())))
    assert again == cursor and again.start("a") == date(2026, 3, 11) and again.start("z") is None
    assert cursor.advanced("a", date(2026, 3, 9)) is cursor
    assert Cursor.from_json(None) == Cursor()
    with pytest.raises(ValueError):
        Cursor.from_json({"version": 2, "next_start": {}})
    with pytest.raises(ValueError):
        Cursor.from_json({"version": 1, "next_start": {"a": "yesterday"}})


def test_windows_cover_today_everywhere_and_split_into_chunks() -> None:
    assert pull_end(NOW) == date(2026, 3, 16)  # already the 16th east of UTC+13:30
    assert reread_start(NOW, 3) == date(2026, 3, 12)
    assert day_chunks(date(2026, 3, 1), date(2026, 3, 5), 2) == [
        (date(2026, 3, 1), date(2026, 3, 2)), (date(2026, 3, 3), date(2026, 3, 4)),
        (date(2026, 3, 5), date(2026, 3, 5))]
    assert day_chunks(date(2026, 3, 5), date(2026, 3, 1), 2) == []


def test_rate_limit_hints_are_read_from_each_platform() -> None:
    assert retry_after({"Retry-After": "7"}, NOW) == 7.0
    assert retry_after({"Retry-After": "Sun, 15 Mar 2026 10:30:30 GMT"}, NOW) == 30.0
    assert retry_after({"Retry-After": "soon"}, NOW) is None
    quota = {"status": "RESOURCE_EXHAUSTED", "details": [{"errors": [{"details": {
        "quotaErrorDetails": {"retryDelay": "42s"}}}]}]}
    assert rpc_failure(quota).retry_after == 42.0 and rpc_failure(quota).kind == "rate_limited"
    assert rpc_failure({"status": "INTERNAL"}).kind == "transient"
    assert rpc_failure({"status": "PERMISSION_DENIED"}).kind == "fatal"
    buc = json.dumps({"123": [{"type": "ads_insights", "call_count": 95, "total_cputime": 20,
                               "total_time": 20, "estimated_time_to_regain_access": 3}]})
    assert usage({"x-business-use-case-usage": buc}) == (95.0, 180.0)
    assert usage({"x-business-use-case-usage": "not json"}) == (0.0, 0.0)


def test_configs_refuse_nonsense_and_keep_secrets_out_of_repr() -> None:
    config = GoogleAdsConfig(base_url="http://x", account_ids=("1",), developer_token="dev-secret",
                             access_token="oauth-secret")
    assert "secret" not in repr(config) and config.schedule_seconds == 300
    bads: list[dict[str, Any]] = [{"account_ids": ()}, {"restatement_days": 0}, {"page_size": 0}]
    for bad in bads:
        with pytest.raises(ValueError):
            ConnectorConfig(**{"base_url": "http://x", "account_ids": ("1",), **bad})


def test_next_page_links_must_stay_on_the_platform() -> None:
    root = "https://graph.facebook.com"
    assert next_link(None, root) is None
    assert next_link(f"{root}/v23.0/1/insights?after=x", root + "/") == f"{root}/v23.0/1/insights?after=x"
    for bad in ("https://graph.facebook.com.evil.example/x", "http://graph.facebook.com/x", 7):
        with pytest.raises(PlatformError):
            next_link(bad, root)


def test_meta_error_codes_are_classified() -> None:
    meta = MetaConnector(MetaConfig(base_url="http://x", account_ids=("act_1",), access_token="t"))
    for code, kind in ((17, "rate_limited"), (613, "rate_limited"), (80004, "rate_limited"),
                       (4, "rate_limited"), (2, "transient"), (190, "fatal"), (100, "fatal")):
        failure = meta.classify(400, {}, {"error": {"code": code, "message": "m"}})
        assert failure is not None and failure.kind == kind, code
    assert meta.classify(200, {}, {"data": []}) is None
    assert meta.cooldown({"x-app-usage": json.dumps({"call_count": 95})}) == 60.0
    assert meta.cooldown({"x-app-usage": json.dumps({"call_count": 40})}) == 0.0
