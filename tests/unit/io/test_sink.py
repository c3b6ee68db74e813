"""The sink on the embedded engine: rows that do not fit stop at once, naming the table, the
column and the offending row; an engine that cannot take them now is retried until it can."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from streams.io.clickhouse import ClickHouse
from streams.io.clickhouse_errors import classify
from streams.io.sink import Sink
from streams.kernel.errors import RowsRejected, Unavailable
from streams.kernel.metrics import Counters

DDL = """CREATE TABLE {name} (campaign_id String, clicks UInt64, ctr Nullable(Float64),
         id UUID DEFAULT generateUUIDv4(), _offset UInt64) ENGINE = MergeTree ORDER BY _offset"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    path: Path = tmp_path_factory.mktemp("sink") / "clickhouse"
    with ClickHouse(f"chdb://{path}") as clickhouse:
        yield clickhouse


@pytest.fixture
def table(engine: ClickHouse, request: pytest.FixtureRequest) -> str:
    name = "t_" + str(request.node.name).split("[")[0][-40:]
    engine.command(f"DROP TABLE IF EXISTS {name}")
    engine.command(DDL.format(name=name))
    return name


def rows(n: int, **override: list[Any]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        "campaign_id": [f"c{i}" for i in range(n)],
        "clicks": list(range(n)),
        "ctr": [0.5] * n,
        "_offset": list(range(n)),
    }
    columns.update(override)
    return columns


def test_a_none_in_a_column_that_is_not_nullable_names_the_row(engine: ClickHouse,
                                                                table: str) -> None:
    with pytest.raises(RowsRejected) as caught:
        engine.insert(table, rows(5, clicks=[1, 2, None, 4, 5]))
    error = caught.value
    assert (error.table, error.column) == (table, "clicks")
    assert error.sample["campaign_id"] == "'c2'"  # the offending row, not the first
    assert "not Nullable" in str(error)
    assert engine.query(f"SELECT count() FROM {table}").rows == [(0,)]


def test_a_value_of_the_wrong_type_names_the_row(engine: ClickHouse, table: str) -> None:
    with pytest.raises(RowsRejected) as caught:
        engine.insert(table, rows(4, clicks=[1, 2, 3, "many"]))
    assert caught.value.column == "clicks"
    assert caught.value.sample["clicks"] == "'many'"


def test_an_unknown_column_is_named(engine: ClickHouse, table: str) -> None:
    engine.command(f"ALTER TABLE {table} DROP COLUMN ctr")
    with pytest.raises(RowsRejected, match=f"table {table}, column ctr") as caught:
        engine.insert(table, rows(3))
    assert caught.value.sample == {"campaign_id": "'c0'", "clicks": "0", "ctr": "0.5",
                                   "_offset": "0"}


def test_a_value_the_engine_cannot_parse_is_told_apart_from_an_outage(
        engine: ClickHouse, table: str) -> None:
    good = "3f1c1f38-4f8f-4a1b-9c7e-2b6f0b1e7a11"
    with pytest.raises(RowsRejected) as caught:  # our conversion passes it; the engine not
        engine.insert(table, rows(3, id=[good, "not-a-uuid", good]))
    assert caught.value.column == "id"
    assert "CANNOT_PARSE_UUID" in caught.value.detail
    assert caught.value.sample["id"] == "'not-a-uuid'"


def test_a_detached_table_is_unavailable_not_rejected(engine: ClickHouse, table: str) -> None:
    engine.insert(table, rows(1))  # its column types are known now
    engine.command(f"DETACH TABLE {table}")
    try:
        with pytest.raises(Unavailable) as caught:
            engine.insert(table, rows(2))
        assert caught.value.dependency == "clickhouse"
        with pytest.raises(Unavailable):  # described again: still not there
            engine.insert(table, rows(2))
    finally:
        engine.command(f"ATTACH TABLE {table}")


@pytest.mark.parametrize(("exc", "kind", "column"), [
    (DatabaseError("Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)", code=252),
     Unavailable, None),
    (DatabaseError("Code: 241. DB::Exception: Memory limit exceeded. (MEMORY_LIMIT_EXCEEDED)"),
     Unavailable, None),
    (DatabaseError("Code: 159. DB::Exception: Timeout exceeded. (TIMEOUT_EXCEEDED)"),
     Unavailable, None),
    (OperationalError("Error HTTPConnectionPool: Max retries exceeded (Connection refused)"),
     Unavailable, None),
    (ConnectionResetError(104, "Connection reset by peer"), Unavailable, None),
    (DatabaseError("Code: 16. DB::Exception: No such column ctr in table default.t "
                   "(8ea4b41e). (NO_SUCH_COLUMN_IN_TABLE)", code=16), RowsRejected, "ctr"),
    (DatabaseError("Code: 53. DB::Exception: Type mismatch in IN or VALUES section: column "
                   "`clicks`. (TYPE_MISMATCH)"), RowsRejected, "clicks"),
    (DatabaseError("Code: 349. DB::Exception: Cannot convert NULL value to non-Nullable "
                   "type: while converting source column ctr to destination column clicks. "
                   "(CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN)"), RowsRejected, "clicks"),
    (DatabaseError("Code: 27. DB::Exception: Cannot parse input: expected '\"' before: "
                   "'x'. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)"), RowsRejected, None),
])
def test_engine_errors_are_classified(exc: Exception, kind: type[Exception],
                                      column: str | None) -> None:
    classified = classify("t", exc, rows(2))
    assert isinstance(classified, kind)
    if isinstance(classified, RowsRejected):
        assert classified.column == column
        assert classified.sample["campaign_id"] == "'c0'"


def sink_of(engine: ClickHouse, counters: Counters) -> Sink:
    return Sink(engine, counters, retry_initial_seconds=0.05, retry_max_seconds=0.2)


def test_the_sink_stops_at_rows_that_do_not_fit_without_retrying(
        engine: ClickHouse, table: str, caplog: pytest.LogCaptureFixture) -> None:
    counters = Counters()
    sink = sink_of(engine, counters)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(RowsRejected):
            asyncio.run(asyncio.wait_for(
                sink.write({table: rows(3, clicks=[1, None, 3])}), timeout=10))
    finally:
        sink.close()
    assert counters.get("insert.retries", table) == 0
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"table {table}, column clicks" in line and "campaign_id='c1'" in line


def test_the_sink_retries_an_unavailable_engine_until_it_takes_the_rows(
        engine: ClickHouse, table: str) -> None:
    counters = Counters()
    sink = sink_of(engine, counters)
    engine.command(f"DETACH TABLE {table}")

    async def attach_later() -> None:
        await asyncio.sleep(0.4)
        await asyncio.get_running_loop().run_in_executor(
            None, engine.command, f"ATTACH TABLE {table}")

    async def both() -> None:
        await asyncio.gather(sink.write({table: rows(3)}), attach_later())

    try:
        asyncio.run(asyncio.wait_for(both(), timeout=20))
    finally:
        sink.close()
    assert counters.get("insert.retries", table) >= 2
    assert counters.get("rows.inserted", table) == 3
    assert engine.query(f"SELECT count() FROM {table}").rows == [(3,)]
