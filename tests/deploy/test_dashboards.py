"""Every dashboard panel is well-formed, every metric it reads is one the worker or gateway
exports, and every SQL panel runs on the embedded engine after the migrations, over rows
generated from the tables' own structure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agents.metrics import COUNTERS, HISTOGRAMS, PREFIX
from streams.ingest.metrics import COUNTERS as GATEWAY_COUNTERS
from streams.ingest.metrics import GAUGES as GATEWAY_GAUGES
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from tests.deploy.panels import (
    ALERTS,
    CLICKHOUSE_UID,
    PROMETHEUS_UID,
    ROOT,
    dashboards,
    metric_names,
    queries,
    sql,
)

GAUGES = {"worker_info", "table_keys", "consumer_highwater_offset", "consumer_committed_offset",
          "consumer_position_offset", "consumer_lag", "consumer_assigned_partitions",
          "model_info", "gc_pause_seconds", "other_seconds"}


def exported() -> set[str]:
    """Every ``touchstream_*`` metric family the worker and the gateway can export."""
    names = {f"{PREFIX}_{name}_total" for name, _, _ in COUNTERS.values()}
    names |= {f"{PREFIX}_{name}" for name, _, _ in HISTOGRAMS.values()}
    names |= {f"{PREFIX}_{name}" for name in GAUGES}
    names |= {f"{PREFIX}_gateway_{name}_total" for name, _ in GATEWAY_COUNTERS.values()}
    names |= {f"{PREFIX}_gateway_{name}" for name, _ in GATEWAY_GAUGES.values()}
    return names


def test_panels_are_well_formed_and_use_the_provisioned_datasources() -> None:
    provisioned = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/touchstream.yaml").read_text())
    uids = {d["uid"] for d in provisioned["datasources"]}
    assert uids == {PROMETHEUS_UID, CLICKHOUSE_UID}
    boards = dashboards()
    assert {"pipeline-health.json", "business.json"} <= set(boards)
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] in uids, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target.get("expr") or target.get("rawSql"), (name, panel["title"])


def test_every_metric_a_panel_or_alert_reads_is_exported() -> None:
    known = exported()
    read: dict[str, set[str]] = {}
    for q in queries():
        if q.uid == PROMETHEUS_UID:
            read[f"{q.dashboard}: {q.panel}"] = metric_names(q.text)
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            read[f"alert {rule['alert']}"] = metric_names(rule["expr"])
    unknown = {where: names - known for where, names in read.items() if names - known}
    assert not unknown
    # and the check can fail: a misspelt name is caught
    assert metric_names("rate(touchstream_event_consumed_total[5m])") - known


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    path: Path = tmp_path_factory.mktemp("dashboards") / "clickhouse"
    ch = ClickHouse(f"chdb://{path}")
    try:
        migrate(ch)
        tables = [r[0] for r in ch.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine LIKE '%MergeTree' AND name != 'schema_migrations'").rows]
        for table in tables:
            columns = ch.query(f"DESCRIBE TABLE {table}").rows
            structure = ", ".join(f"{c[0]} {c[1]}" for c in columns).replace("'", "\\'")
            # times within the last day (random ones would span a partition per month)
            times = ", ".join(f"now64(3, 'UTC') - toIntervalSecond(rand({i}) % 86400) AS {c[0]}"
                              for i, c in enumerate(columns) if "DateTime" in c[1])
            replace = f" REPLACE ({times})" if times else ""
            ch.command(f"INSERT INTO {table} SELECT *{replace} FROM "
                       f"generateRandom('{structure}', 17, 12, 3) LIMIT 200")
        yield ch
    finally:
        ch.close()


def test_every_sql_panel_runs_after_the_migrations(filled: ClickHouse) -> None:
    ran = 0
    answered = 0
    for q in queries():
        if q.uid != CLICKHOUSE_UID:
            continue
        try:
            result = filled.query(sql(q.text))
        except Exception as exc:
            raise AssertionError(f"{q.dashboard}: {q.panel}: {exc}") from exc
        ran += 1
        answered += bool(result.rows)
    assert ran >= 12
    # random rows fail the panels' equality filters (event_type = 'MESSAGE', ...); the rest
    # must find rows, so a wrong column or time filter that matches nothing shows up here
    assert answered >= ran - 5


def test_a_broken_sql_panel_would_fail(filled: ClickHouse) -> None:
    with pytest.raises(Exception, match=r"(?i)unknown|missing"):
        filled.query(sql("SELECT no_such_column FROM conversations WHERE $__timeFilter(x)"))
