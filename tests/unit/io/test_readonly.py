"""Read-only queries against the real embedded engine: what the engine refuses, and what it
still answers; the writing client next to it keeps writing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.readonly import (
    QueryLimitExceeded,
    ReadOnlyQueries,
    ReadOnlyRefused,
    explain,
    readonly_settings,
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ClickHouse, ReadOnlyQueries]]:
    # one engine for the module (opening one costs ~0.2 s); no test changes ``notes``
    ch = ClickHouse(f"chdb://{tmp_path_factory.mktemp('readonly') / 'clickhouse'}")
    try:
        ch.command("CREATE TABLE notes (id String, body String) ENGINE = MergeTree ORDER BY id")
        ch.insert("notes", {"id": ["a", "b"], "body": ["one", "two"]})
        yield ch, ReadOnlyQueries(ch, max_rows=1000, max_seconds=1.0)
    finally:
        ch.close()


def test_readonly_is_applied_last() -> None:
    # readonly=1 forbids changing any setting after it, so it must come after the limits
    assert list(readonly_settings(10, 1.0))[-1] == "readonly"


def test_selects_and_parameters_still_work(engine: tuple[ClickHouse, ReadOnlyQueries]) -> None:
    _, ro = engine
    assert ro.query("SELECT id FROM notes ORDER BY id").rows == [("a",), ("b",)]
    assert ro.query("SELECT body FROM notes WHERE id = {id:String}", {"id": "b"}).rows == [("two",)]
    assert ro.query("SHOW TABLES").rows == [("notes",)]


@pytest.mark.parametrize("sql", [
    "DROP TABLE notes",
    "TRUNCATE TABLE notes",
    "CREATE TABLE other (a Int8) ENGINE = Memory",
    "INSERT INTO notes VALUES ('c', 'three')",
    "ALTER TABLE notes DELETE WHERE 1",
    "ALTER TABLE notes UPDATE body = 'x' WHERE 1",
    "DELETE FROM notes WHERE id = 'a'",
    "OPTIMIZE TABLE notes FINAL",
    "RENAME TABLE notes TO gone",
    "SET readonly = 0",
    "SELECT * FROM notes SETTINGS readonly = 0",
    "SELECT * FROM notes SETTINGS max_result_rows = 100000000",
    "SELECT 1; DROP TABLE notes",
])
def test_writes_ddl_and_setting_changes_are_refused(
        engine: tuple[ClickHouse, ReadOnlyQueries], sql: str) -> None:
    ch, ro = engine
    with pytest.raises(ReadOnlyRefused, match="read-only"):
        ro.query(sql)
    assert ch.query("SELECT count() FROM notes").rows == [(2,)]
    assert ch.query("EXISTS TABLE notes").rows == [(1,)]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM file('/etc/hostname', LineAsString)",
    "SELECT * FROM file('/etc/hostname', LineAsString) --",
    "SELECT * FROM url('http://127.0.0.1:9/', LineAsString)",
    "SELECT * FROM s3('http://127.0.0.1:9/bucket/x.csv', 'CSV')",
    "SELECT * FROM remote('127.0.0.1:9000', system.one)",
    "SELECT * FROM remoteSecure('127.0.0.1:9440', system.one)",
    "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')",
    "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')",
    "SELECT * FROM executable('ls', TSV, 'a String')",
    "SELECT * FROM sqlite('/etc/passwd', 't')",
    "SELECT * FROM hdfs('hdfs://127.0.0.1:9/x', 'CSV')",
    "SELECT * FROM azureBlobStorage('http://127.0.0.1:9', 'c', 'b', 'CSV')",
    "SELECT * FROM jdbc('a', 'b', 'c')",
    "SELECT * FROM odbc('a', 'b', 'c')",
    "INSERT INTO notes SELECT 'x', * FROM file('/etc/hostname', LineAsString)",
])
def test_table_functions_reaching_files_or_network_are_refused(
        engine: tuple[ClickHouse, ReadOnlyQueries], sql: str) -> None:
    _, ro = engine
    with pytest.raises(ReadOnlyRefused):
        ro.query(sql)


def test_row_and_time_limits(engine: tuple[ClickHouse, ReadOnlyQueries]) -> None:
    _, ro = engine
    assert len(ro.query("SELECT number FROM numbers(1000)").rows) == 1000
    with pytest.raises(QueryLimitExceeded, match="row limit"):
        ro.query("SELECT number FROM numbers(1001)")
    with pytest.raises(QueryLimitExceeded, match="time limit"):
        ro.query("SELECT count() FROM numbers(100000000000)")


def test_the_writing_client_is_untouched(engine: tuple[ClickHouse, ReadOnlyQueries]) -> None:
    ch, ro = engine
    with pytest.raises(ReadOnlyRefused):
        ro.query("DROP TABLE notes")
    ch.command("CREATE TABLE scratch (k UInt8, id String) ENGINE = MergeTree ORDER BY k")
    ch.insert("scratch", {"k": [1], "id": ["c"]})
    ch.command("ALTER TABLE scratch UPDATE id = 'd' WHERE 1 SETTINGS mutations_sync = 1")
    assert ro.query("SELECT id FROM scratch").rows == [("d",)]
    assert ch.query("SELECT getSetting('readonly')").rows == [(0,)]


def test_other_errors_pass_through(engine: tuple[ClickHouse, ReadOnlyQueries]) -> None:
    _, ro = engine
    with pytest.raises(Exception) as info:
        ro.query("SELECT no_such_column FROM notes")
    assert not isinstance(info.value, ReadOnlyRefused | QueryLimitExceeded)
    assert isinstance(explain(RuntimeError("Code: 164. DB::Exception: x (READONLY)")),
                      ReadOnlyRefused)


def test_a_refused_multi_statement_text_leaves_the_next_query_correct(
        engine: tuple[ClickHouse, ReadOnlyQueries]) -> None:
    _, ro = engine
    with pytest.raises(ReadOnlyRefused):
        ro.query("SELECT 1; DROP TABLE notes")
    # chDB's session answered the next query with stale data before its client was replaced
    assert len(ro.query("SELECT number FROM numbers(1000)").rows) == 1000
