"""The one ClickHouse client of touchstream: embedded engine or server, same API.

``chdb:///abs/path`` runs the real ClickHouse engine inside this process through
clickhouse-connect's chDB interface; the data lives in ``/abs/path`` (created if missing).
``chdb:///abs/path?database=name`` uses (and creates) a database other than ``default``.
``http(s)://user:password@host:port/database`` talks to a ClickHouse server or cluster; tables
live in the URL's database.

The embedded engine admits one process per data directory (a file lock), and one data
directory per process at a time: a second path can be opened only after every client of the
first one is closed. So in embedded mode the sink and the query API share one process.

Every thread gets its own clickhouse-connect client (a chDB handle serialises the calls made
on it, and an HTTP client's session must not be shared), so the sink's insert thread and the
query views never wait on each other's client.

An insert fails in one of two ways. ``RowsRejected`` when the rows do not fit the table (a
type, a nullability, an unknown column, text that cannot be parsed): asking again cannot
help; it names the table, the column when known, and a sample row. ``Unavailable`` for
everything else the engine or the network raises (connection, timeout, too many parts,
memory, overload, a table detached or not created yet): asking again later may succeed
(``streams.io.clickhouse_errors`` tells them apart).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import clickhouse_connect
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from streams.io.clickhouse_errors import classify, sample_row
from streams.kernel.errors import RowsRejected
from streams.settings import Settings

_TIMESTAMP_UNITS = {0: "s", 3: "ms", 6: "us", 9: "ns"}
_INTEGER_TYPES = {
    "UInt8": pa.uint8(), "UInt16": pa.uint16(), "UInt32": pa.uint32(), "UInt64": pa.uint64(),
    "Int8": pa.int8(), "Int16": pa.int16(), "Int32": pa.int32(), "Int64": pa.int64(),
}
_SIMPLE_TYPES = {
    **_INTEGER_TYPES,
    "Float32": pa.float32(), "Float64": pa.float64(), "Bool": pa.bool_(), "Date": pa.date32(),
}
_WRAPPER = re.compile(r"^(Nullable|LowCardinality)\((.*)\)$")
_DATETIME64 = re.compile(r"^DateTime64\((\d)(?:,\s*'([^']*)')?\)$")
_DATETIME = re.compile(r"^DateTime(?:\('([^']*)'\))?$")
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class QueryResult:
    column_names: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as ``{column: value}`` mappings."""
        return [dict(zip(self.column_names, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class _Target:
    """Where to connect: the keyword arguments of ``clickhouse_connect.get_client``."""

    kwargs: dict[str, Any]
    database: str
    embedded: bool


def _parse_url(url: str) -> _Target:
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        if parsed.netloc or not parsed.path.startswith("/"):
            raise ValueError(f"ClickHouse URL {url!r}: an embedded URL is chdb:///absolute/path")
        path = unquote(parsed.path)
        query = parse_qs(parsed.query)
        database = query.pop("database", ["default"])[0]
        if query:
            raise ValueError(f"ClickHouse URL {url!r}: unknown options {sorted(query)}")
        if not _DATABASE_NAME.match(database):
            raise ValueError(f"ClickHouse URL {url!r}: invalid database name {database!r}")
        return _Target({"interface": "chdb", "path": path}, database, embedded=True)
    if parsed.scheme in ("http", "https"):
        database = unquote(parsed.path.strip("/")) or "default"
        return _Target({"dsn": url}, database, embedded=False)
    raise ValueError(f"ClickHouse URL {url!r}: expected chdb:///path or http(s)://...")


class ClickHouse:
    """Inserts, queries and commands against one ClickHouse database; safe to share between
    threads (each thread gets its own client). Close it once, when the process is done."""

    def __init__(self, url: str, *, session_settings: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self._target = _parse_url(url)
        #: applied to every client's session when it opens, in order (see ``reader``)
        self._session_settings = dict(session_settings or {})
        self._readers: list[ClickHouse] = []
        self._local = threading.local()
        self._clients: list[Client] = []
        self._lock = threading.Lock()
        self._closed = False
        self._table_types: dict[str, dict[str, str]] = {}
        if self._target.embedded:
            self._prepare_embedded()

    @classmethod
    def from_settings(cls, settings: Settings) -> ClickHouse:
        return cls(settings.effective_clickhouse_url)

    @property
    def database(self) -> str:
        return self._target.database

    @property
    def embedded(self) -> bool:
        return self._target.embedded

    def __repr__(self) -> str:
        where = self._target.kwargs.get("path") or urlparse(self.url).hostname
        return f"ClickHouse({where!r}, database={self.database!r})"

    def __enter__(self) -> ClickHouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connections ------------------------------------------------------------------------

    def _prepare_embedded(self) -> None:
        Path(self._target.kwargs["path"]).mkdir(parents=True, exist_ok=True)
        if self.database == "default":
            return
        bootstrap = clickhouse_connect.get_client(**self._target.kwargs)
        try:
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
        finally:
            bootstrap.close()

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is not None:
            return client
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            kwargs = dict(self._target.kwargs)
            if self._target.embedded and self.database != "default":
                kwargs["database"] = self.database
            if self._session_settings:
                kwargs["settings"] = dict(self._session_settings)
            client = clickhouse_connect.get_client(**kwargs)
            self._clients.append(client)
        self._local.client = client
        return client

    def close(self) -> None:
        """Close every thread's client. Further calls raise."""
        with self._lock:
            self._closed = True
            clients, self._clients = self._clients, []
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()
        for client in clients:
            client.close()
        self._local = threading.local()

    def discard_client(self) -> None:
        """Close the calling thread's client, whose session a failed statement may have left
        in a bad state (chDB, after a multi-statement text); the next call opens a new one."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            return
        self._local.client = None
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        client.close()

    # --- statements --------------------------------------------------------------------------

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run one statement that returns no rows (DDL, INSERT ... SELECT, OPTIMIZE, ...);
        ``parameters`` fill ``{name:Type}`` placeholders, bound by the engine."""
        self._client().command(sql, parameters=dict(parameters) if parameters else None)

    def reader(self, session_settings: Mapping[str, Any]) -> ClickHouse:
        """A client of the same database whose every session runs with ``session_settings``
        (e.g. ``readonly=1`` last, after the limits it fixes): the engine enforces them, and
        a statement cannot lift them. Closed with this one."""
        reader = ClickHouse(self.url, session_settings=session_settings)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            self._readers.append(reader)
        return reader

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one SELECT. ``parameters`` fill ClickHouse ``{name:Type}`` placeholders; they
        are bound by the engine (the server, or chDB's own parameter binding), never spliced
        into the SQL text."""
        client = self._client()
        text = _strip_terminator(sql)
        bound = dict(parameters) if parameters else None
        result = client.query(text, parameters=bound)
        rows = [row if isinstance(row, tuple) else tuple(row) for row in result.result_rows]
        names = tuple(result.column_names)
        if not names and not rows:
            # chDB sends no block at all for an empty result, so no column names either;
            # ask for them (a SELECT can be described; SHOW and the like keep no names)
            try:
                described = client.query(f"DESCRIBE ({text}\n)", parameters=bound)
            except Exception:
                described = None
            if described is not None:
                names = tuple(str(row[0]) for row in described.result_rows)
        return QueryResult(names, rows)

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        """Insert column-oriented rows into ``table`` in one insert; raises on any failure.

        Values per ClickHouse type: ``DateTime64(p)`` takes int epoch ticks (milliseconds for
        p=3) or datetimes (naive ones are UTC); ``Nullable`` columns take None (None in any
        other column raises instead of turning into a default); ``String`` takes str or bytes;
        ``Map`` takes dicts. Columns left out get their table defaults.
        """
        lengths = {name: len(values) for name, values in columns.items()}
        if not lengths:
            raise ValueError(f"insert into {table}: no columns")
        if len(set(lengths.values())) != 1:
            raise ValueError(f"insert into {table}: columns of unequal length {lengths}")
        if next(iter(lengths.values())) == 0:
            return
        types = self._column_types(table, columns)
        arrays = [
            _arrow_array(table, name, types[name], values, columns)
            for name, values in columns.items()
        ]
        try:
            self._client().insert_arrow(table, pa.Table.from_arrays(arrays, names=list(columns)))
        except Exception as exc:
            # the table may have changed under us: describe it again next time
            self._table_types.pop(table, None)
            raise classify(table, exc, columns) from exc

    def _column_types(self, table: str, columns: Mapping[str, Sequence[Any]]) -> dict[str, str]:
        types = self._table_types.get(table)
        if types is None or any(name not in types for name in columns):
            try:
                described = self.query(f"DESCRIBE TABLE {table}")
            except Exception as exc:
                raise classify(table, exc, columns) from exc
            types = {str(row[0]): str(row[1]) for row in described.rows}
            self._table_types[table] = types
        unknown = [name for name in columns if name not in types]
        if unknown:
            raise RowsRejected(table, unknown[0], f"no such columns {unknown} in the table",
                               sample_row(columns, 0))
        return types


def _strip_terminator(sql: str) -> str:
    """A query ending in ';' cannot take the FORMAT clause the client appends."""
    text = sql.rstrip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _unwrap(ch_type: str) -> tuple[str, bool]:
    """(inner type, nullable) of ``Nullable(...)`` / ``LowCardinality(...)`` wrappers."""
    nullable = False
    while match := _WRAPPER.match(ch_type):
        nullable = nullable or match.group(1) == "Nullable"
        ch_type = match.group(2)
    return ch_type, nullable


def _first(values: Sequence[Any]) -> Any:
    return next((v for v in values if v is not None), None)


_CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)


def _arrow_array(table: str, name: str, ch_type: str, values: Sequence[Any],
                 columns: Mapping[str, Sequence[Any]]) -> pa.Array:
    """The column as Arrow for ``ch_type``; ``RowsRejected`` (with the first offending row)
    when a value does not fit it."""
    inner, nullable = _unwrap(ch_type)
    try:
        array = _convert(inner, values)
    except _CONVERSION_ERRORS as exc:
        row = next((i for i, value in enumerate(values) if not _fits(inner, value)), 0)
        raise RowsRejected(table, name, f"column {name} ({ch_type}): {exc}",
                           sample_row(columns, row)) from exc
    if array.null_count and not nullable:
        row = next((i for i, value in enumerate(values) if value is None), 0)
        raise RowsRejected(table, name, f"column {name} ({ch_type}) is not Nullable, and a "
                           "value is None", sample_row(columns, row))
    return array


def _fits(ch_type: str, value: Any) -> bool:
    try:
        _convert(ch_type, [value])
    except _CONVERSION_ERRORS:
        return False
    return True


def _convert(ch_type: str, values: Sequence[Any]) -> pa.Array:
    simple = _SIMPLE_TYPES.get(ch_type)
    if simple is not None:
        return pa.array(values, simple)
    if ch_type == "String" or ch_type.startswith("FixedString"):
        if not isinstance(_first(values), bytes | bytearray | memoryview):
            try:
                return pa.array(values, pa.string())
            except pa.ArrowException:
                pass  # bytes that are not UTF-8 further down: ClickHouse strings are bytes
        return pa.array(values, pa.binary())
    if match := _DATETIME64.match(ch_type):
        return _timestamps(values, _TIMESTAMP_UNITS.get(int(match.group(1)), "ns"))
    if _DATETIME.match(ch_type):
        return _timestamps(values, "s")
    if ch_type.startswith("Map(String, String)"):
        return pa.array(values, pa.map_(pa.string(), pa.string()))
    return pa.array(values)


def _timestamps(values: Sequence[Any], unit: str) -> pa.Array:
    target = pa.timestamp(unit, "UTC")
    if isinstance(_first(values), dt.datetime):
        return pa.array(values, target)
    return pa.array(values, pa.int64()).cast(target)
