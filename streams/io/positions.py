"""How far a source topic has been sunk into ClickHouse, per partition.

Every sunk row carries its Kafka partition and offset, so ``max(_offset) + 1`` of a table is
the next offset it still needs; a dead letter counts as sunk. A slice that writes several
tables is as far as its least advanced table. The demo and the benchmarks wait on this; the
agents resume from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from streams.io.clickhouse import QueryResult
from streams.kernel.topics import DEAD_LETTERS_TABLE

Query = Callable[[str, Mapping[str, Any]], QueryResult]


def _next_offsets(query: Query, table: str, physical_topic: str) -> dict[int, int]:
    rows = query(
        f"SELECT _partition, max(_offset) FROM {table} WHERE _topic = {{t:String}} "
        "GROUP BY _partition",
        {"t": physical_topic},
    ).rows
    return {int(p): int(o) + 1 for p, o in rows}


def sunk_next(
    query: Query, physical_topic: str, tables: Iterable[str],
    partitions: Iterable[int] | None = None,
) -> dict[int, int]:
    """Next offset per partition that every table (or the dead letters) holds. Without
    ``partitions``: the partitions any of them has seen."""
    dead = _next_offsets(query, DEAD_LETTERS_TABLE, physical_topic)
    per_table = [_next_offsets(query, table, physical_topic) for table in tables]
    wanted = set(dead).union(*per_table) if partitions is None else set(partitions)
    return {
        p: min((max(t.get(p, 0), dead.get(p, 0)) for t in per_table), default=dead.get(p, 0))
        for p in wanted
    }
