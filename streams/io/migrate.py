"""Versioned ClickHouse DDL: apply ``schemas/clickhouse/NNNN_name.sql`` in order, once each.

Every applied file is recorded in ``schema_migrations`` with its sha256; a file already applied
is skipped, and one whose content changed since it was applied is an error (write a new file
instead of editing an applied one). A file may hold several statements separated by ``;``.
A file that fails part-way is not recorded, so it runs again next time: write DDL that can
(``CREATE TABLE IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS``).

A ClickHouse cluster takes the files of ``schemas/clickhouse/cluster/`` instead
(``migrate(ch, cluster=NAME)``): every table as a Replicated table ``<table>_local`` created
``ON CLUSTER`` and a Distributed table of the table's own name over it, sharded by its dedup
key. Their ``{cluster}`` placeholder is replaced by the cluster's name before anything runs
(the server's own macros, ``{shard}`` and ``{replica}``, stay); the record of what was applied
is then ``schema_migrations_cluster``, a table replicated to every node. They describe the
current single-node schema for a fresh cluster: a change to a single-node table needs its
cluster counterpart too (the tests compare the two). The two sets never mix: the single-node
migrate leaves a cluster-migrated database alone (a worker migrates at start), and the
cluster migrate refuses a database the single-node one has migrated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from streams.io.clickhouse import ClickHouse
from streams.kernel.paths import SCHEMAS_DIR

MIGRATIONS_DIR = SCHEMAS_DIR / "clickhouse"
CLUSTER_MIGRATIONS_DIR = MIGRATIONS_DIR / "cluster"
MIGRATIONS_TABLE = "schema_migrations"
CLUSTER_MIGRATIONS_TABLE = "schema_migrations_cluster"
#: what the cluster migrations say where the cluster's name goes
CLUSTER_PLACEHOLDER = "{cluster}"
#: a cluster name as ``remote_servers`` spells it; it is put inside single quotes
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

_FILE_NAME = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")

_CREATE_MIGRATIONS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""

# on a cluster: one replica per node, all of one table (no {shard} in its path), so every
# node knows what was applied
_CREATE_CLUSTER_MIGRATIONS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {CLUSTER_MIGRATIONS_TABLE} ON CLUSTER '{CLUSTER_PLACEHOLDER}'
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{database}}/{{table}}', '{{replica}}',
                                      applied_at)
ORDER BY version
"""


class MigrationError(Exception):
    """The migration files and the database's record of them disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file stem, e.g. ``0001_chat_events``
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        return split_statements(self.sql)


def render(sql: str, cluster: str) -> str:
    """``sql`` with the cluster placeholder replaced by ``cluster``."""
    if not _CLUSTER_NAME.match(cluster):
        raise MigrationError(f"not a cluster name: {cluster!r}")
    return sql.replace(CLUSTER_PLACEHOLDER, cluster)


def discover(directory: Path = MIGRATIONS_DIR, *, cluster: str | None = None
             ) -> list[Migration]:
    """The ``NNNN_name.sql`` files of ``directory``, by version; other files are ignored.
    With ``cluster``, their SQL is rendered for it (and checksummed as rendered)."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations with version {version:04d}: {found[version].path.name} "
                f"and {path.name}"
            )
        sql = path.read_text(encoding="utf-8")
        found[version] = Migration(version, path.stem, path,
                                   sql if cluster is None else render(sql, cluster))
    return [found[v] for v in sorted(found)]


def applied(ch: ClickHouse, table: str = MIGRATIONS_TABLE) -> dict[int, tuple[str, str]]:
    """``{version: (name, checksum)}`` of the migrations recorded in ``ch``."""
    result = ch.query(f"SELECT version, name, checksum FROM {table} FINAL")
    return {int(v): (str(n), str(c)) for v, n, c in result.rows}


def migrate(ch: ClickHouse, directory: Path | None = None, *, cluster: str | None = None
            ) -> list[str]:
    """Apply the migrations of ``directory`` that ``ch`` has not seen; return their names.
    ``cluster``: apply those of ``schemas/clickhouse/cluster/`` (by default) for the cluster
    of that name (``ch`` is any node of it).

    Without ``cluster``, a database the cluster migrations manage is left as it is (nothing
    applied). Raises MigrationError, before applying anything, when an applied file has
    changed, or with ``cluster`` when the single-node migrations have been applied to ``ch``.
    """
    if cluster is None:
        if _exists(ch, CLUSTER_MIGRATIONS_TABLE):
            return []
        ch.command(_CREATE_MIGRATIONS_TABLE)
        table = MIGRATIONS_TABLE
    else:
        if _exists(ch, MIGRATIONS_TABLE):
            raise MigrationError(
                f"this database holds the single-node tables ({MIGRATIONS_TABLE} exists); "
                "the cluster migrations need a database of their own")
        ch.command(render(_CREATE_CLUSTER_MIGRATIONS_TABLE, cluster))
        table = CLUSTER_MIGRATIONS_TABLE
    done = applied(ch, table)
    default = MIGRATIONS_DIR if cluster is None else CLUSTER_MIGRATIONS_DIR
    migrations = discover(directory or default, cluster=cluster)
    for m in migrations:
        if m.version in done and done[m.version][1] != m.checksum:
            raise MigrationError(
                f"{m.path.name} changed after it was applied as {done[m.version][0]} "
                f"(checksum {done[m.version][1][:12]}..., now {m.checksum[:12]}...); "
                "add a new migration file instead of editing an applied one"
            )
    names: list[str] = []
    for m in migrations:
        if m.version in done:
            continue
        for statement in m.statements():
            ch.command(statement)
        now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        ch.insert(
            table,
            {
                "version": [m.version],
                "name": [m.name],
                "checksum": [m.checksum],
                "applied_at": [now_ms],
            },
        )
        names.append(m.name)
    return names


def _exists(ch: ClickHouse, table: str) -> bool:
    return bool(ch.query(f"EXISTS TABLE {table}").rows[0][0])


def split_statements(sql: str) -> list[str]:
    """Split SQL text on ``;`` outside quotes and comments; drop statements that hold only
    comments or whitespace. Handles ``--`` line comments, ``/* */`` block comments,
    and '...', "..." and `...` quoting with backslash or doubled-quote escapes."""
    statements: list[str] = []
    current: list[str] = []
    has_code = False
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == ";":
            if has_code:
                statements.append("".join(current).strip())
            current, has_code = [], False
            i += 1
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif char in "'\"`":
            end = _end_of_quoted(sql, i)
            has_code = True
        else:
            end = i + 1
            has_code = has_code or not char.isspace()
        current.append(sql[i:end])
        i = end
    if has_code:
        statements.append("".join(current).strip())
    return statements


def _end_of_quoted(sql: str, start: int) -> int:
    quote = sql[start]
    i = start + 1
    while i < len(sql):
        if sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            if sql.startswith(quote, i + 1):  # doubled quote: an escaped quote
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(sql)
