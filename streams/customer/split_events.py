"""A split person's past events re-resolved in ``customer_events``: each row goes to the part
holding its strongest remaining identifier, as a new version of the row.

``customer_events`` is a ReplacingMergeTree on ``(kind, event_id)`` by ``_version`` (the
offset on ``identity.observations`` of the observation that resolved the row). When an
unlink or forget splits a person, the rows written before keep the old person id; a timeline
read by person, and the Markov and Shapley runs reading the table with FINAL, would go on
showing them under the old person. On the split notice, the profile stage reads the rows
that carry any identifier of the old person (``history``: every part's and the removed
ones) and writes, for each row whose person changed, the same row with the part's person id
and the split's own observation offset as ``_version``: the new row supersedes the old one.

Invariants:
- a row's person after a split is the part holding its strongest remaining identifier (the
  rule of ``profile.rebuild``); a row none of whose identifiers remains (all forgotten) gets
  the empty person id, as an event with no usable identifier has;
- a row already under its part's person is not written again; the others keep every column
  (``_topic``, ``_partition``, ``_offset`` too: the identity stage's position guard reads
  them) except ``person_id`` and ``_version``;
- the split's offset is greater than every version written before it (the log of
  ``identity.observations`` is one partition, read in order), so the new rows win; a row
  resolved after the split carries its own, greater offset and is never touched here.

Reading happens when the profile stage takes the split notice, which the identity stage
publishes after its ClickHouse rows are in: every row resolved before the split is
readable. It scans ``customer_events`` (splits are operator actions, rare); a failure to read
is ``Unavailable`` (the stage waits and retries), never a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from streams.customer.identity import KIND_RANK
from streams.customer.identity_stage import EVENT_COLUMNS
from streams.kernel.errors import Unavailable
from streams.kernel.records import Columns, empty_columns

#: the columns of ``customer_events`` the identity stage fills, in ``EVENTS_SQL``'s order
COLUMNS: Final = EVENT_COLUMNS
EVENTS_SQL: Final = """
SELECT person_id, event_id, kind, toUnixTimestamp64Milli(occurred_at) AS occurred_at, type,
       channel, platform, campaign_id, value, currency, order_id, identifiers, flags,
       attributes, source_topic, source_partition, source_offset, _topic, _partition, _offset,
       toUnixTimestamp64Milli(_kafka_ts) AS _kafka_ts, _version
FROM customer_events FINAL
WHERE hasAny(identifiers, {nodes:Array(String)})
"""


class Rows(Protocol):
    @property
    def rows(self) -> list[tuple[Any, ...]]: ...


#: a ClickHouse SELECT with ``{name:Type}`` parameters (``ClickHouse.query``)
Query = Callable[[str, Mapping[str, Any]], Rows]
#: node keys -> the ``customer_events`` rows (one mapping of ``COLUMNS`` each) carrying any
History = Callable[[Sequence[str]], list[dict[str, Any]]]


def reader(query: Query) -> History:
    """``History`` over ``query``; any failure is the engine being unavailable."""

    def read(nodes: Sequence[str]) -> list[dict[str, Any]]:
        try:
            rows = query(EVENTS_SQL, {"nodes": sorted(nodes)}).rows
        except Exception as exc:  # reading cannot fail on bad input: it is the engine
            raise Unavailable("clickhouse", f"customer_events of a split: "
                              f"{type(exc).__name__}: {exc}") from exc
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    return read


def _rank(node: str) -> tuple[int, str]:
    return (KIND_RANK.get(node.split(":", 1)[0], len(KIND_RANK)), node)


def owner(identifiers: Iterable[str], part_of: Mapping[str, str]) -> str:
    """The person of the part holding the strongest of ``identifiers`` ('' when none)."""
    for node in sorted(identifiers, key=_rank):
        found = part_of.get(node)
        if found is not None:
            return found
    return ""


def reresolved(rows: Iterable[Mapping[str, Any]], parts: Mapping[str, Iterable[str]],
               version: int) -> Columns:
    """The new versions (``version``) of the ``rows`` whose person the split ``parts``
    (person id -> its node keys) changed."""
    part_of = {node: pid for pid, nodes in parts.items() for node in nodes}
    out = empty_columns(COLUMNS)
    for row in rows:
        person = owner(row["identifiers"], part_of)
        if person == row["person_id"] or row["_version"] >= version:
            continue
        for name in COLUMNS:
            out[name].append(row[name])
        out["person_id"][-1] = person
        out["_version"][-1] = version
    return out
