"""The three kinds of failure, and where each goes.

- ``InvalidMessage``: this message is bad and will always be. It is raised (chained) at the
  decode/validate boundary; the message is dead-lettered with its ``reason`` and the
  pipeline moves on.
- ``Unavailable``: a dependency (schema registry, ClickHouse, broker) cannot be reached or is
  overloaded. Nothing is wrong with the message: the work pauses and is retried with
  back-off, never dead-lettered and never acknowledged before it is durable.
- ``RowsRejected``: ClickHouse refuses rows for a reason no retry can fix (a type, a
  nullability, an unknown column). The worker stops, naming the table, the column and a
  sample row, and acknowledges nothing of the batch.

Any other exception is a bug: it is neither dead-lettered as the message's fault nor retried
forever; the worker stops and the batch is read again after the restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Reason = Literal[
    "not_framed",  # not the Confluent wire format (no magic byte / too short)
    "unknown_schema",  # schema id not known to the registry
    "wrong_schema",  # schema id belongs to another record type than the topic's
    "undecodable",  # bytes do not decode with the writer schema
    "invalid_field",  # decoded, but a field breaks the contract (empty id, text missing, ...)
    "processing_failed",  # valid by the contract, yet processing it raised (a poison message)
]

Dependency = Literal["schema_registry", "clickhouse", "kafka"]


class InvalidMessage(Exception):
    """A message that can never be processed as it is; its reason goes to the dead letter."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


class Unavailable(Exception):
    """A dependency cannot serve now (network failure, timeout, overload, 5xx): retry
    later. Raised chained from the client's own exception."""

    def __init__(self, dependency: Dependency, detail: str) -> None:
        super().__init__(f"{dependency} unavailable: {detail}")
        self.dependency: Dependency = dependency
        self.detail = detail


#: characters of one value shown in a sample row
_SAMPLE_CHARS = 120


class RowsRejected(ValueError):
    """ClickHouse refuses rows of ``table`` for good: the data does not fit the table.

    ``column`` is the offending column when it is known; ``sample`` one of the rows (the
    offending one when it can be told), its values shortened for a log line.
    """

    def __init__(self, table: str, column: str | None, detail: str,
                 sample: Mapping[str, Any] | None = None) -> None:
        self.table = table
        self.column = column
        self.detail = detail
        self.sample: dict[str, str] = {
            name: _short(value) for name, value in (sample or {}).items()
        }
        where = f"table {table}" + (f", column {column}" if column else "")
        text = f"rows rejected by {where}: {detail}"
        if self.sample:
            text += "; sample row: " + ", ".join(f"{k}={v}" for k, v in self.sample.items())
        super().__init__(text)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SAMPLE_CHARS else text[: _SAMPLE_CHARS - 3] + "..."
