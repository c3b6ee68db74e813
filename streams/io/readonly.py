"""Read-only queries: what analysts and pages may run against ClickHouse, enforced by the engine.

Invariants:
- Every statement of a read-only client runs in a session with ``readonly=1`` (applied last,
  after the row and time limits it then freezes). The engine, not a parser of ours, refuses
  DDL, INSERT, mutations (``ALTER ... UPDATE/DELETE``, lightweight ``DELETE``), ``SET``, a
  ``SETTINGS`` clause that would lift a limit, and every table function that reaches files,
  processes or the network (``file``, ``url``, ``s3``, ``remote``, ``mysql``,
  ``postgresql``, ``executable``, ...): with ``readonly=1`` they need to create a temporary
  table, which is a write. Measured on chDB 4.4 (engine 26.9) and tested.
- ``readonly=2`` is not used: it lets a statement change settings, so it could lift the limits.
- Migrations, the sink and erasure keep their own (writing) client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from streams.io.clickhouse import ClickHouse, QueryResult

#: ClickHouse error codes of a statement the read-only session refused, and of a limit
READONLY_CODE: Final = 164  # READONLY
_LIMIT_CODES: Final = {159: "time limit", 396: "row limit"}  # TIMEOUT_EXCEEDED, TOO_MANY_ROWS


class ReadOnlyRefused(PermissionError):
    """The engine refused a statement because queries here are read-only."""


class QueryLimitExceeded(RuntimeError):
    """A read-only query hit the row or the time limit."""


def readonly_settings(max_rows: int, max_seconds: float) -> dict[str, Any]:
    """Session settings of a read-only client, in the order they must be applied: the limits
    first, ``readonly`` last (it forbids changing any setting after it)."""
    return {
        "max_result_rows": int(max_rows),
        "result_overflow_mode": "throw",
        "max_execution_time": float(max_seconds),
        "readonly": 1,
    }


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    text = str(exc)
    marker = "Code: "
    at = text.find(marker)
    if at < 0:
        return None
    digits = ""
    for char in text[at + len(marker):]:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def explain(exc: BaseException) -> Exception:
    """The error to show for a failed read-only query: a refusal or a limit in plain words,
    else the engine's error as it is."""
    code = _code(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if code == READONLY_CODE:
        return ReadOnlyRefused(
            "refused: queries here are read-only (no DDL, INSERT, mutations, SET or SETTINGS, "
            "and no table functions that reach files or the network); "
            f"the engine said: {first}")
    if code in _LIMIT_CODES:
        return QueryLimitExceeded(f"the query exceeded the {_LIMIT_CODES[code]}: {first}")
    return exc if isinstance(exc, Exception) else RuntimeError(first)


class ReadOnlyQueries:
    """Runs SELECTs (and SHOW, DESCRIBE, EXISTS) through a read-only session of ``clickhouse``."""

    def __init__(self, clickhouse: ClickHouse, *, max_rows: int, max_seconds: float) -> None:
        self.clickhouse = clickhouse.reader(readonly_settings(max_rows, max_seconds))

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        try:
            return self.clickhouse.query(sql, parameters)
        except Exception as exc:
            # a refused multi-statement text leaves a chDB session answering the next query
            # with stale data: start this thread's next query on a fresh session
            self.clickhouse.discard_client()
            raise explain(exc) from exc
