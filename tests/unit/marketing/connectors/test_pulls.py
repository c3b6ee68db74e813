"""Every connector against the platform simulator: paging, faults, cursor, restatements, rejects."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fastavro
import pytest

from streams.marketing.connectors.base import Cursor, PlatformError, PlatformUnavailable, PullResult
from streams.marketing.connectors.rows import latest_versions, metric_key
from streams.simulators.platforms import (
    ACCOUNTS,
    DEVICES,
    EMAIL,
    GA4,
    GA4_SOURCES,
    GOOGLE,
    META,
    Simulator,
    SimulatorConfig,
    serving,
)
from tests.unit.marketing.connectors.conftest import NOW, PLATFORMS, FakeClock, connector, run

SCHEMA = fastavro.parse_schema(json.loads(
    (Path(__file__).parents[4] / "schemas/avro/ad_metric.v1.avsc").read_text()))
ROWS_PER_HOUR = {GOOGLE: 4 * len(DEVICES), META: 4, EMAIL: 2, GA4: len(GA4_SOURCES)}
BAD_REASONS = {
    GOOGLE: {"clicks (9) exceed impressions (5)", "conversions is not finite (nan)",
             "impressions is negative (-4)", "currency 'XYZ' is not a known ISO 4217 code",
             "interval starts in the future"},
    META: {"spend is not finite ('NaN')", "impressions is negative (-3)",
           "clicks (7) exceed impressions (2)", "currency 'ABC' is not a known ISO 4217 code",
           "interval is reversed (date_stop before date_start)", "interval starts in the future"},
    EMAIL: {"delivered is negative (-1)", "clicks (8) exceed impressions (3)",
            "opens is not finite (inf)", "interval starts in the future"},
    GA4: {"sessions is negative (-1)", "purchaseRevenue is not finite ('Infinity')",
          "clicks (5) exceed impressions (2)", "interval starts in the future"},
}


def expected_rows(sim: Simulator, platform: str, first: date) -> int:
    """Rows the platform holds from ``first`` to now: entities x reporting hours."""
    hours = list(sim.hours(platform, first, date(2026, 3, 17)))
    if platform == EMAIL:  # one row per campaign and day, once the 09:00 send went out
        return ROWS_PER_HOUR[EMAIL] * sum(1 for _, hour in hours if hour == 9)
    return ROWS_PER_HOUR[platform] * len(hours)


def local_midnight_ms(platform: str, day: date) -> int:
    zone = ZoneInfo(ACCOUNTS[platform][1])
    return int(datetime.combine(day, datetime.min.time(), zone).timestamp() * 1000)


async def pull_from(platform: str, config: SimulatorConfig, cursor: Cursor | None = None,
                    **changes: Any) -> tuple[PullResult, Simulator, Any]:
    clock = FakeClock()
    async with serving(config) as sim:
        conn = connector(platform, sim, clock, **changes)
        return await conn.pull(cursor or Cursor()), sim, (conn, clock)


def sim_config(**changes: Any) -> SimulatorConfig:
    return SimulatorConfig(now=lambda: NOW, **changes)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_pull_reads_every_row_of_every_page(platform: str) -> None:
    result, sim, (conn, _) = run(lambda: pull_from(platform, sim_config()))
    first = date(2026, 3, 12)  # today (UTC) minus max(initial_days, restatement_days)
    assert len(result.metrics) == expected_rows(sim, platform, first) > 0
    assert len({metric_key(m) for m in result.metrics}) == len(result.metrics)
    assert result.rejects == () and result.touchpoints == ()
    assert conn.stats.requests >= 3  # several ranges of days and, but for searchStream, pages
    assert result.cursor.to_json()["next_start"] == {ACCOUNTS[platform][0]: "2026-03-12"}
    for record in result.metrics:
        assert fastavro.validation.validate(record, SCHEMA, raise_errors=True)
        assert record["interval_start"] >= local_midnight_ms(platform, first)
        assert record["reported_at"] == int(NOW * 1000)


@pytest.mark.parametrize("platform", [GOOGLE, META])
def test_delivery_totals_match_what_the_platform_holds(platform: str) -> None:
    result, sim, _ = run(lambda: pull_from(platform, sim_config()))
    truth_impressions, truth_cost = 0, 0.0
    for day, hour in sim.hours(platform, date(2026, 3, 12), date(2026, 3, 17)):
        for ad in sim.ads[platform]:
            for device, share in DEVICES if platform == GOOGLE else (("", 1.0),):
                imps, _, cost, _, _ = sim.figures(platform, ad, day, hour, share, device)
                truth_impressions += imps
                truth_cost += round(cost / 1e6, 2) if platform == META else cost / 1e6
    assert sum(m["impressions"] for m in result.metrics) == truth_impressions
    assert sum(m["cost_micros"] for m in result.metrics) / 1e6 == pytest.approx(truth_cost, abs=1e-6)
    by_device = {m["device"] for m in result.metrics}
    assert by_device == ({"DESKTOP", "MOBILE", "TABLET"} if platform == GOOGLE else {None})


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limits_and_server_errors_are_waited_out_without_changing_the_data(platform: str) -> None:
    clean, _, _ = run(lambda: pull_from(platform, sim_config()))
    script = [429, 503, 500, 429, 502] + ([200] if platform == GOOGLE else [])  # 200: in-stream error
    faulty = sim_config(rate_429=0.1, rate_5xx=0.1)

    async def body() -> tuple[PullResult, Simulator, Any]:
        clock = FakeClock()
        async with serving(faulty) as sim:
            sim.fail_next.extend(script)
            conn = connector(platform, sim, clock, max_attempts=10)
            return await conn.pull(Cursor()), sim, (conn, clock)

    result, sim, (conn, clock) = run(body)
    assert list(result.metrics) == list(clean.metrics)
    limited = (400, 429) if platform == META else (429,)  # Meta: HTTP 400 with error code 17
    assert sum(n for (_, status), n in sim.served.items() if status in limited) >= 2
    assert sum(n for (_, status), n in sim.served.items() if status >= 500) >= 3
    assert conn.stats.rate_limited >= 2 and conn.stats.retries >= 3
    if platform != GA4:  # GA4 gives no hint: it backs off; the others say how long to wait
        assert 2.0 in clock.slept


def test_retries_back_off_exponentially_with_jitter() -> None:
    async def body() -> list[float]:
        clock = FakeClock()
        async with serving(sim_config(history_days=0)) as sim:
            sim.fail_next.extend([503] * 5)
            conn = connector(GOOGLE, sim, clock, max_attempts=6, initial_days=0, restatement_days=1,
                             days_per_request=10)
            await conn.pull(Cursor())
        return clock.slept

    slept = run(body)
    assert len(slept) == 5
    ceilings = [min(8.0, 0.5 * 2 ** k) for k in range(5)]
    assert all(0 <= s <= c for s, c in zip(slept, ceilings, strict=True))
    assert len(set(slept)) == 5 and sum(slept) < sum(ceilings)  # jittered, not the ceilings


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_that_stays_down_raises_and_leaves_the_cursor(platform: str) -> None:
    async def body() -> list[PullResult]:
        clock = FakeClock()
        got: list[PullResult] = []
        async with serving(sim_config()) as sim:
            sim.fail_next.extend([503] * 20)
            conn = connector(platform, sim, clock, max_attempts=3)
            with pytest.raises(PlatformUnavailable, match="3 attempts failed"):
                async for chunk in conn.pull_chunks(Cursor()):
                    got.append(chunk)
            assert sim.served[(platform, 503)] == 3
        return got

    assert run(body) == []  # no rows and no cursor out of a failed request


def test_a_wait_longer_than_allowed_is_unavailable_and_bad_credentials_are_fatal() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with serving(sim_config()) as sim:
            sim.fail_next.append(429)  # asks for 2 s
            with pytest.raises(PlatformUnavailable, match="rate limited"):
                await connector(GOOGLE, sim, clock, max_rate_limit_wait=1.0).pull(Cursor())
            for platform in PLATFORMS:
                conn = connector(platform, sim, clock, token="expired")
                with pytest.raises(PlatformError):
                    await conn.pull(Cursor())
                assert conn.stats.requests == 1  # refused for good: not retried

    run(body)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_restart_resumes_from_the_saved_cursor(platform: str) -> None:
    settings: dict[str, Any] = {"initial_days": 6, "restatement_days": 1}
    full, _, _ = run(lambda: pull_from(platform, sim_config(), None, **settings))

    async def body() -> tuple[PullResult, str, PullResult, PullResult]:
        clock = FakeClock()
        async with serving(sim_config()) as sim:
            chunks = connector(platform, sim, clock, **settings).pull_chunks(Cursor())
            async with contextlib.aclosing(chunks):
                first = await anext(chunks)  # then the process dies
            saved = json.dumps(first.cursor.to_json())
            resumed = await connector(platform, sim, clock, **settings).pull(
                Cursor.from_json(json.loads(saved)))
            later = await connector(platform, sim, clock, **settings).pull(resumed.cursor)
        return first, saved, resumed, later

    first, saved, resumed, later = run(body)
    account = ACCOUNTS[platform][0]
    assert json.loads(saved)["next_start"] == {account: "2026-03-11"}  # after 03-09..03-10
    assert min(m["interval_start"] for m in resumed.metrics) >= local_midnight_ms(platform, date(2026, 3, 11))
    keys = {metric_key(m) for m in (*first.metrics, *resumed.metrics)}
    assert keys == {metric_key(m) for m in full.metrics}
    assert resumed.cursor.to_json()["next_start"] == {account: "2026-03-14"}
    assert later.metrics and min(m["interval_start"] for m in later.metrics) >= local_midnight_ms(
        platform, date(2026, 3, 14))  # the next scheduled pull reads only the restatement window


@pytest.mark.parametrize("platform", PLATFORMS)
def test_restated_figures_replace_the_old_version(platform: str) -> None:
    async def body() -> tuple[PullResult, PullResult]:
        clock = FakeClock()
        async with serving(sim_config(history_days=8)) as sim:
            conn = connector(platform, sim, clock, initial_days=6)
            first = await conn.pull(Cursor())
            clock.t += 60
            second = await conn.pull(first.cursor)
        return first, second

    first, second = run(body)
    reread_from = local_midnight_ms(platform, date(2026, 3, 12))
    assert min(m["interval_start"] for m in second.metrics) >= reread_from
    latest = latest_versions([*first.metrics, *second.metrics])
    assert len(latest) == len(first.metrics)
    newer = {metric_key(m): m for m in second.metrics}
    for key, record in latest.items():
        if key in newer:
            assert record is newer[key] and record["reported_at"] == int((NOW + 60) * 1000)
        else:
            assert record["interval_start"] < reread_from and record["reported_at"] == int(NOW * 1000)
    older = {metric_key(m): m for m in first.metrics}
    changed = [k for k, m in newer.items() if m != {**older[k], "reported_at": m["reported_at"]}]
    assert changed, "the platform revised recent days, the second pull must see it"
    stable = ("impressions", "clicks", "cost_micros")
    assert all(newer[k][name] == older[k][name] for k in changed for name in stable)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_bad_rows_come_back_as_rejects_with_reasons(platform: str) -> None:
    clean, _, _ = run(lambda: pull_from(platform, sim_config()))
    result, _, _ = run(lambda: pull_from(platform, sim_config(bad_rows=True)))
    assert {r.reason for r in result.rejects} == BAD_REASONS[platform]
    assert list(result.metrics) == list(clean.metrics)  # good rows unaffected, bad ones kept out
    for reject in result.rejects:
        assert reject.platform == clean.metrics[0]["platform"] and isinstance(reject.row, dict)
        assert reject.account_id == ACCOUNTS[platform][0]


def test_meta_resubmits_a_failed_report_job_and_respects_usage_headers() -> None:
    async def body() -> tuple[PullResult, Any, Simulator]:
        clock = FakeClock()
        async with serving(sim_config(meta_fail_first_job=True, meta_job_polls=4)) as sim:
            conn = connector(META, sim, clock, throttle_pause_seconds=30.0)
            return await conn.pull(Cursor()), clock, sim

    result, clock, sim = run(body)
    assert len(result.metrics) == expected_rows(sim, META, date(2026, 3, 12))
    assert len(sim.jobs) == 4  # three ranges of days, the first job submitted twice
    assert clock.slept.count(1.0) >= 3 * 4 - 3  # polls at poll_seconds until each job completes
    assert 30.0 in clock.slept  # usage reached 90 %: held off before the next call


def test_a_platform_that_answers_too_late_is_asked_again() -> None:
    async def body() -> tuple[PullResult, Any]:
        clock = FakeClock()
        async with serving(sim_config(history_days=1)) as sim:
            sim.stall_next, sim.stall_seconds = 2, 0.3
            conn = connector(GOOGLE, sim, clock, timeout_seconds=0.1)
            return await conn.pull(Cursor()), conn

    result, conn = run(body)
    assert result.metrics and conn.stats.retries == 2


def test_requests_are_paced_and_every_account_has_its_own_cursor() -> None:
    accounts = ("1234567890", "5550001111")

    async def body() -> tuple[PullResult, list[float]]:
        clock = FakeClock()
        async with serving(sim_config(history_days=1)) as sim:
            conn = connector(GOOGLE, sim, clock, account_ids=accounts, min_request_interval=0.25)
            return await conn.pull(Cursor()), clock.slept

    result, slept = run(body)
    assert slept == [0.25] * 5  # 2 accounts x 3 ranges of days, the first request unpaced
    assert set(result.cursor.next_start) == set(accounts)
    assert {m["account_id"] for m in result.metrics} == set(accounts)
