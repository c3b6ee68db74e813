"""Attribution runs and their insights on the embedded engine: a run read from customer_events
and written as a version, the latest version superseding the earlier, every model side by side
over the same conversions, and ROI per channel and campaign in the reporting currency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from streams.customer.attribution import DAY_MS
from streams.customer.attribution_run import RunPolicy, Window
from streams.io.clickhouse import ClickHouse
from streams.io.insights import run_insight
from streams.io.migrate import migrate
from streams.ops import attribution as ops
from tests.unit.marketing.test_roi_insights import insert as insert_kpis
from tests.unit.marketing.test_roi_insights import metric

HOUR = 3_600_000
NOW = int(time.time() * 1000) // HOUR * HOUR
WINDOW = Window(NOW - 10 * DAY_MS, NOW)


def _event(n: int, person: str, event_id: str, kind: str, at: int, channel: str | None = None,
           campaign: str | None = None, value: float | None = None,
           currency: str | None = None) -> dict[str, Any]:
    return {"person_id": person, "event_id": event_id, "kind": kind, "occurred_at": at,
            "type": None, "channel": channel, "platform": None, "campaign_id": campaign,
            "value": value, "currency": currency, "order_id": None, "identifiers": [],
            "flags": [], "attributes": {}, "source_topic": "touchpoints", "source_partition": 0,
            "source_offset": n, "_topic": "customer.events", "_partition": 0, "_offset": n,
            "_kafka_ts": at, "_version": n}


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {k: [r[k] for r in rows] for k in rows[0]}


def _credit(conversion: str, touch: str, channel: str, campaign: str | None, credit: float,
            revenue: float, currency: str, version: int) -> dict[str, Any]:
    return {"person_id": "p", "conversion_id": conversion, "conversion_at": NOW - DAY_MS,
            "model": "linear", "model_version": "lb30d-hl7d", "touchpoint_id": touch,
            "channel": channel, "campaign_id": campaign, "occurred_at": NOW - 2 * DAY_MS,
            "credit": credit, "revenue_credit": revenue, "currency": currency,
            "_topic": "customer.events", "_partition": 0, "_offset": version,
            "_version": version}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    path: Path = tmp_path_factory.mktemp("attribution") / "clickhouse"
    ch = ClickHouse(f"chdb://{path}")
    try:
        migrate(ch)
        ch.insert("customer_events", _columns([
            # p1 and p1b are one person: identity resolution merged p1b into p1
            _event(1, "p1", "t1", "touchpoint", NOW - 5 * DAY_MS, "email"),
            _event(2, "p1b", "t2", "touchpoint", NOW - 4 * DAY_MS, "paid_search", "g1"),
            _event(3, "p1", "v1", "conversion", NOW - 3 * DAY_MS, value=100.0, currency="EUR"),
            _event(4, "p2", "t3", "touchpoint", NOW - 2 * DAY_MS, "paid_search", "g1"),
            _event(5, "p2", "v2", "conversion", NOW - DAY_MS, value=50.0, currency="USD"),
            _event(6, "p3", "t4", "touchpoint", NOW - 2 * DAY_MS, "display", "m1"),
            _event(7, "p4", "v-old", "conversion", NOW - 40 * DAY_MS, value=9.0, currency="USD"),
        ]))
        ch.insert("identity_links", {
            "kind": ["merge"], "person_id": ["p1"], "a": [None], "b": [None], "rule": [None],
            "reason": [None], "other_person": ["p1b"], "source_event": ["t2"],
            "at": [NOW - 4 * DAY_MS], "seq": [0], "_topic": ["identity.observations"],
            "_partition": [0], "_offset": [1], "_version": [1]})
        day = datetime.fromtimestamp((NOW - 20 * DAY_MS) / 1000, UTC).date()
        ch.insert("currency_rates", {
            "day": [day], "currency": ["EUR"], "reporting_currency": ["USD"], "rate": [1.10],
            "source": ["test"], "published_at": [NOW], "_topic": ["currency.rates"],
            "_partition": [0], "_offset": [0], "_version": [NOW]})
        insert_kpis(ch, [metric("GOOGLE_ADS", "g1", "USD", NOW - 2 * HOUR, 30.0, 0.0),
                         metric("META", "m1", "EUR", NOW - 2 * HOUR, 20.0, 0.0)])
        ch.insert("attribution_credits", _columns([
            _credit("v1", "t1", "email", None, 0.5, 50.0, "EUR", 2),
            _credit("v1", "t2", "paid_search", "g1", 0.5, 50.0, "EUR", 2),
            # an earlier attribution of v1, superseded: its touch left the journey
            _credit("v1", "t-stale", "display", "m1", 0.5, 50.0, "EUR", 1),
            _credit("v2", "t3", "paid_search", "g1", 1.0, 50.0, "USD", 3),
        ]))
        yield ch
    finally:
        ch.close()


def _run(ch: ClickHouse, created: int, replicates: int = 0) -> str:
    rid, result = ops.run(ch.query, ch.insert, WINDOW, RunPolicy(replicates=replicates), created)
    assert (result.conversions, result.attributed) == (2, 2)  # v-old is outside the window
    return rid


def test_runs_are_versions_and_the_latest_supersedes(engine: ClickHouse) -> None:
    first = _run(engine, NOW - 2000, replicates=20)
    second = _run(engine, NOW - 1000)
    assert first != second
    runs = engine.query("SELECT run_id, countIf(credit_low IS NOT NULL) FROM "
                        "attribution_model_credits FINAL GROUP BY run_id ORDER BY run_id").rows
    assert [r[0] for r in runs] == sorted([first, second])
    assert dict(runs)[first] > 0 and dict(runs)[second] == 0  # only the first has intervals
    latest = ops.latest(engine.query)
    assert {r[11] for r in latest} == {second}
    conv = {(r[0], r[2], r[5], r[6]): r[7] for r in latest if r[3] == "conversions"}
    # Markov, order 1: email -> paid_search -> conversion, paid_search -> conversion,
    # display -> null; removal effects 1/2 (email) and 1 (paid_search)
    assert conv["markov", "channel", "email", ""] == pytest.approx(2 / 3)
    assert conv["markov", "channel", "paid_search", ""] == pytest.approx(4 / 3)
    assert conv["markov", "channel", "display", ""] == pytest.approx(0.0)
    assert conv["shapley", "campaign", "paid_search", "g1"] == pytest.approx(1.5)
    assert conv["shapley", "campaign", "email", ""] == pytest.approx(0.5)
    # the same run written again leaves the same rows
    again = _run(engine, NOW - 1000)
    assert again == second
    assert engine.query("SELECT count() FROM attribution_model_credits FINAL WHERE run_id = "
                        "{r:String}", {"r": second}).rows[0][0] == len(latest)


def test_every_model_side_by_side(engine: ClickHouse) -> None:
    _run(engine, NOW - 500)
    rows = {r["channel"]: r for r in run_insight(engine, "attribution_models_by_channel",
                                                 {}).dicts()}
    email, paid = rows["email"], rows["paid_search"]
    assert "display" not in rows or rows["display"]["linear"] == 0  # the stale row is gone
    assert (email["linear"], paid["linear"]) == (0.5, 1.5)
    assert (email["shapley"], paid["shapley"]) == (0.5, 1.5)
    assert email["markov"] == pytest.approx(0.667, abs=1e-3)
    assert paid["markov"] == pytest.approx(1.333, abs=1e-3)
    assert email["markov_low"] is None  # the latest run has no intervals
    assert email["revenue_linear"] == pytest.approx(55.0)  # 50 EUR at 1.10
    assert paid["revenue_linear"] == pytest.approx(105.0)
    assert paid["revenue_shapley"] == pytest.approx(105.0)
    assert email["revenue_markov"] + paid["revenue_markov"] == pytest.approx(160.0, abs=0.02)
    assert sum(r["unconverted"] for r in rows.values()) == 0


def test_roi_per_channel_and_campaign_in_the_reporting_currency(engine: ClickHouse) -> None:
    _run(engine, NOW - 400)
    rows = {(r["level"], r["channel"], r["campaign_id"]): r
            for r in run_insight(engine, "attribution_roi", {}).dicts()}
    g1 = rows["campaign", "paid_search", "g1"]
    assert g1["attributed_conversions"] == 1.5 and g1["attributed_revenue"] == pytest.approx(105)
    assert g1["spend"] == 30.0 and g1["roi"] == pytest.approx(2.5) and g1["roas"] == 3.5
    m1 = rows["campaign", "display", "m1"]
    assert m1["spend"] == pytest.approx(22.0) and m1["roi"] == pytest.approx(-1.0)
    assert rows["channel", "paid_search", ""]["roi"] == pytest.approx(2.5)
    assert rows["channel", "display", ""]["spend"] == pytest.approx(22.0)
    assert rows["channel", "email", ""]["roi"] is None  # no spend
    assert ("campaign", "email", "") not in rows
    linear = {(r["level"], r["channel"], r["campaign_id"]): r
              for r in run_insight(engine, "attribution_roi", {"model": "linear"}).dicts()}
    assert linear["campaign", "paid_search", "g1"]["attributed_revenue"] == pytest.approx(105)
    assert ("campaign", "display", "m1") not in linear  # the superseded credit
    markov = {(r["level"], r["channel"]): r
              for r in run_insight(engine, "attribution_roi", {"model": "markov"}).dicts()}
    assert set(markov) == {("channel", "email"), ("channel", "paid_search"),
                           ("channel", "display")}
    assert markov["channel", "paid_search"]["spend"] == 30.0


def test_the_command_writes_a_version_and_prints_it(engine: ClickHouse) -> None:
    from click.testing import CliRunner

    from streams.cli import main
    from streams.settings import get_settings

    until = datetime.fromtimestamp(NOW / 1000, UTC).isoformat()
    before = {r[0] for r in engine.query("SELECT DISTINCT run_id FROM attribution_model_credits").rows}
    ids = []
    for replicates in ("10", "0"):
        get_settings.cache_clear()
        try:  # the engine of this process (one data directory a process)
            result = CliRunner().invoke(
                main, ["attribution", "run", "--since", "10d", "--until", until, "--order",
                       "1..2", "--replicates", replicates],
                env={"TOUCHSTREAM_CLICKHOUSE_URL": engine.url})
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "2 conversions (2 with a journey)" in result.output
        assert "markov-2" in result.output and "55.00 EUR" not in result.output
        ids.append(result.output.split()[1].rstrip(":"))
        time.sleep(0.002)
    latest = ops.latest(engine.query)
    runs = {r[0] for r in engine.query("SELECT DISTINCT run_id FROM attribution_model_credits").rows}
    assert runs - before == set(ids) and len(set(ids)) == 2
    assert {r[11] for r in latest} == {ids[1]}
    assert {(r[0], r[1]) for r in latest} == {("markov", 1), ("markov", 2), ("shapley", 0)}
    bad = CliRunner().invoke(main, ["attribution", "run", "--order", "4"],
                             env={"TOUCHSTREAM_CLICKHOUSE_URL": engine.url})
    assert bad.exit_code != 0 and "between 1 and 3" in bad.output
