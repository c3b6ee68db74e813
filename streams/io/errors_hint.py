"""Engine errors a newcomer can act on: a query on a table that does not exist yet names the
migration that creates it and the command that applies it.

Invariants:
- Only "unknown table" errors are translated, and only for tables a migration file under
  ``schemas/clickhouse`` creates; every other error is raised as it was.
- The hint is the first line of the message (the CLI shows first lines); the engine's own
  message follows on the next line, and the original exception is chained.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Final, ParamSpec, TypeVar

from streams.io.migrate import MIGRATIONS_DIR, discover

P = ParamSpec("P")
T = TypeVar("T")

#: how ClickHouse names a missing table: "Unknown table expression identifier 'x'" (the
#: analyzer), "Table db.x does not exist" (older paths), "Unknown table 'x'"
_UNKNOWN_TABLE: Final = re.compile(
    r"Unknown table expression identifier '(?:[\w.]+\.)?(\w+)'"
    r"|Table (?:[`\w]+\.)?`?(\w+)`? does(?:n't| not) exist"
    r"|Unknown table '(?:[\w.]+\.)?(\w+)'")
_CREATES: Final = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW|DICTIONARY)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?`?(?:\w+\.)?(\w+)`?", re.IGNORECASE)


class MissingMigration(RuntimeError):
    """A query read a table that a migration creates and that the database does not hold."""

    def __init__(self, table: str, migration: str, detail: str) -> None:
        self.table = table
        self.migration = migration
        super().__init__(
            f"table {table} does not exist yet: run `touchstream db migrate` (migration "
            f"{migration} creates it)\n{detail}")


@cache
def creating_migrations(directory: Path = MIGRATIONS_DIR) -> dict[str, str]:
    """Table (or view) name -> the file name of the first migration that creates it."""
    found: dict[str, str] = {}
    for migration in discover(directory):
        for name in _CREATES.findall(migration.sql):
            found.setdefault(name, migration.path.name)
    return found


def missing_table(message: str) -> str | None:
    """The table an engine error says is unknown, if it says so."""
    match = _UNKNOWN_TABLE.search(message)
    if match is None:
        return None
    return next(group for group in match.groups() if group)


def hint(exc: BaseException, directory: Path = MIGRATIONS_DIR) -> MissingMigration | None:
    """The translation of ``exc``, or None when it is not about a table a migration creates."""
    message = str(exc)
    table = missing_table(message)
    if table is None:
        return None
    migration = creating_migrations(directory).get(table)
    if migration is None:
        return None
    return MissingMigration(table, migration, message.splitlines()[0] if message else "")


def hinted(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, with an unknown-table error raised as ``MissingMigration``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        translated = hint(exc)
        if translated is None:
            raise
        raise translated from exc
