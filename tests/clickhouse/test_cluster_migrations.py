"""The cluster migrations (``schemas/clickhouse/cluster/``) against the single-node ones.

The embedded engine cannot run ``ON CLUSTER`` (it needs a server's distributed DDL queue and
Keeper) nor Replicated tables (Keeper), but it runs Distributed tables over a cluster its
configuration declares. So the statements run here rendered for a one-shard local cluster,
with ``ON CLUSTER`` removed and ``Replicated*MergeTree(path, replica, ...)`` swapped for
``*MergeTree(...)``: every table the single-node migrations leave behind must come out of the
cluster ones as ``<table>_local`` with the same columns, engine and keys, and a Distributed
``<table>`` over it sharded by columns of its dedup key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import chdb
import pytest
from click.testing import CliRunner

from streams.io.clickhouse import ClickHouse, QueryResult
from streams.io.migrate import (
    CLUSTER_MIGRATIONS_DIR,
    CLUSTER_MIGRATIONS_TABLE,
    MIGRATIONS_DIR,
    MIGRATIONS_TABLE,
    MigrationError,
    discover,
    migrate,
    render,
)

CLUSTER = "touchstream_test"
_PORT = 59321  # never listened on: a shard on the engine's own tcp_port is read locally
_CONFIG = f"""<clickhouse>
  <tcp_port>{_PORT}</tcp_port>
  <remote_servers>
    <{CLUSTER}>
      <shard><replica><host>localhost</host><port>{_PORT}</port></replica></shard>
    </{CLUSTER}>
  </remote_servers>
</clickhouse>
"""


class Engine:
    """The embedded engine with a one-shard local cluster, through chDB's DB-API."""

    def __init__(self, directory: Path) -> None:
        config = directory / "config.xml"
        config.write_text(_CONFIG)
        self._conn = chdb.connect(  # type: ignore[no-untyped-call]
            f"file:{directory / 'data'}?config-file={config}")
        self._cur = self._conn.cursor()

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        self._cur.execute(sql)
        return [tuple(r) for r in self._cur.fetchall()]

    def close(self) -> None:
        self._cur.close()
        self._conn.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = Engine(tmp_path)
    try:
        yield e
    finally:
        e.close()


def declustered(statement: str) -> str:
    """A rendered cluster statement as the embedded engine can run it."""
    statement = statement.replace(f" ON CLUSTER '{CLUSTER}'", "")
    return re.sub(r"Replicated(\w*)MergeTree\('[^']*',\s*'[^']*'(?:,\s*)?", r"\1MergeTree(",
                  statement)


def tables(engine: Engine, database: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, eng, full, sorting, partition, primary in engine.run(
            "SELECT name, engine, engine_full, sorting_key, partition_key, primary_key "
            f"FROM system.tables WHERE database = '{database}'"):
        columns = engine.run(
            "SELECT name, type, default_kind, default_expression FROM system.columns "
            f"WHERE database = '{database}' AND table = '{name}' ORDER BY position")
        out[name] = {"engine": eng, "full": full, "sorting": sorting, "partition": partition,
                     "primary": primary, "columns": columns}
    return out


def test_every_single_node_table_has_a_cluster_counterpart(engine: Engine) -> None:
    for database, directory, for_cluster in (("single", MIGRATIONS_DIR, None),
                                             ("cluster", CLUSTER_MIGRATIONS_DIR, CLUSTER)):
        engine.run(f"CREATE DATABASE {database}")
        engine.run(f"USE {database}")
        for m in discover(directory, cluster=for_cluster):
            for statement in m.statements():
                engine.run(declustered(statement) if for_cluster else statement)
    single = tables(engine, "single")
    cluster = tables(engine, "cluster")
    assert len(single) >= 17  # every domain's tables, not an empty directory
    assert set(cluster) == set(single) | {f"{t}_local" for t in single}
    for name, want in single.items():
        local, dist = cluster[f"{name}_local"], cluster[name]
        # same columns (names, types, defaults, order), engine with its version column,
        # partitioning and keys: the engine clause as the single node's
        assert local["columns"] == want["columns"], name
        assert local["full"].replace(name + "_local", name) == want["full"], name
        assert dist["engine"] == "Distributed", name
        assert dist["columns"] == want["columns"], name
        # sharded by columns of the dedup key: a key's versions meet on one shard, where
        # ReplacingMergeTree (and FINAL) can collapse them
        match = re.search(rf"'{name}_local', cityHash64\(([^)]*)\)\)$", dist["full"])
        assert match, dist["full"]
        shard_by = {c.strip() for c in match.group(1).split(",")}
        assert shard_by <= {c.strip() for c in want["sorting"].split(",")}, name


def test_a_duplicate_through_a_distributed_table_is_kept_once(engine: Engine) -> None:
    engine.run("CREATE DATABASE cluster")
    engine.run("USE cluster")
    for m in discover(CLUSTER_MIGRATIONS_DIR, cluster=CLUSTER):
        for statement in m.statements():
            engine.run(declustered(statement))
    row = ("'c1', 'e1', 'MESSAGE', now64(3), 'web', 'CUSTOMER', 's', 'en', 'cus', 'hi', "
           "0.5, 0.5, 0.5, 0, 'positive', 'chat.events', 0, {offset}, now64(3), now64(3)")
    for offset in (7, 9):  # the same event produced twice: one key, two offsets
        engine.run("INSERT INTO chat_events SETTINGS distributed_foreground_insert = 1 "
                   f"VALUES ({row.format(offset=offset)})")
    assert engine.run("SELECT count() FROM chat_events_local") == [(2,)]
    assert engine.run("SELECT count(), max(_offset) FROM chat_events FINAL") == [(1, 9)]


def test_the_migrate_command_renders_the_cluster_name() -> None:
    from streams.cli import main

    result = CliRunner().invoke(main, ["db", "migrate", "--cluster", "prod-eu.1", "--print"])
    assert result.exit_code == 0, result.output
    out = result.output
    files = discover(CLUSTER_MIGRATIONS_DIR)
    assert [line[3:] for line in out.splitlines() if line.startswith("-- 00")] == [
        m.name for m in files]
    creates = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) ON CLUSTER '([^']*)'", out)
    assert len(creates) == 2 * len(re.findall(r"ENGINE = Distributed", out)) > 0
    assert {c for _, c in creates} == {"prod-eu.1"}
    assert set(re.findall(r"Distributed\('([^']*)'", out)) == {"prod-eu.1"}
    assert "{cluster}" not in out
    # the server's own macros stay for it to expand
    assert out.count("'{replica}'") == out.count("Replicated") == len(creates) // 2
    assert "/clickhouse/tables/{shard}/{database}/{table}" in out


def test_a_bad_cluster_name_or_the_embedded_engine_is_refused(tmp_path: Path) -> None:
    from streams.cli import main

    with pytest.raises(MigrationError, match="not a cluster name"):
        render("ON CLUSTER '{cluster}'", "x' OR '1")
    bad = CliRunner().invoke(main, ["db", "migrate", "--cluster", "a'b", "--print"])
    assert bad.exit_code == 1 and "not a cluster name" in bad.output
    embedded = CliRunner().invoke(
        main, ["db", "migrate", "--cluster", "c1"],
        env={"TOUCHSTREAM_CLICKHOUSE_URL": f"chdb://{tmp_path / 'ch'}"})
    assert embedded.exit_code == 1
    assert "cannot run ON CLUSTER" in " ".join(embedded.output.split())


class Recording:
    """Stands in for a cluster node: records what it is sent, remembers inserted versions."""

    def __init__(self, *, single_node_migrated: bool = False) -> None:
        self.commands: list[str] = []
        self.recorded: list[tuple[int, str, str]] = []
        self.single_node_migrated = single_node_migrated

    def command(self, sql: str, parameters: object = None) -> None:
        self.commands.append(sql)

    def query(self, sql: str, parameters: object = None) -> QueryResult:
        if sql == f"EXISTS TABLE {MIGRATIONS_TABLE}":
            return QueryResult(("result",), [(int(self.single_node_migrated),)])
        assert sql.startswith(f"SELECT version, name, checksum FROM {CLUSTER_MIGRATIONS_TABLE}")
        return QueryResult(("version", "name", "checksum"), list(self.recorded))

    def insert(self, table: str, columns: dict[str, list[Any]]) -> None:
        assert table == CLUSTER_MIGRATIONS_TABLE
        self.recorded.append((columns["version"][0], columns["name"][0],
                              columns["checksum"][0]))


def test_migrate_on_a_cluster_sends_the_rendered_statements_once() -> None:
    node = Recording()
    applied = migrate(cast(ClickHouse, node), cluster="c1")
    files = discover(CLUSTER_MIGRATIONS_DIR, cluster="c1")
    assert applied == [m.name for m in files]
    bookkeeping, *statements = node.commands
    assert f"{CLUSTER_MIGRATIONS_TABLE} ON CLUSTER 'c1'" in bookkeeping
    assert "ReplicatedReplacingMergeTree(" in bookkeeping and "{shard}" not in bookkeeping
    assert statements == [s for m in files for s in m.statements()]
    assert all("{cluster}" not in s for s in node.commands)
    node.commands.clear()
    assert migrate(cast(ClickHouse, node), cluster="c1") == []  # recorded: nothing again
    assert len(node.commands) == 1
    # a different cluster name renders differently: recorded files count as changed
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(cast(ClickHouse, node), cluster="c2")


def test_the_two_sets_never_mix(tmp_path: Path) -> None:
    # the cluster migrations refuse a database with the single-node tables ...
    node = Recording(single_node_migrated=True)
    with pytest.raises(MigrationError, match="single-node tables"):
        migrate(cast(ClickHouse, node), cluster="c1")
    assert node.commands == []
    # ... and the single-node migrate (a worker runs it at start) leaves a cluster-migrated
    # database alone: no 0030 exchanging a Distributed chat_events for a local table
    ch = ClickHouse(f"chdb://{tmp_path / 'ch'}")
    try:
        ch.command(f"CREATE TABLE {CLUSTER_MIGRATIONS_TABLE} (version UInt32) "
                   "ENGINE = MergeTree ORDER BY version")
        assert migrate(ch) == []
        names = {r[0] for r in ch.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()").rows}
        assert names == {CLUSTER_MIGRATIONS_TABLE}
        ch.command(f"DROP TABLE {CLUSTER_MIGRATIONS_TABLE}")
        assert len(migrate(ch)) == len(discover())  # without it: the single-node set
    finally:
        ch.close()
