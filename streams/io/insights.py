"""Named insight queries: ``schemas/clickhouse/insights/<name>.sql``, read and run as they are.

A file's header comments give its title, description and parameters::

    -- title: Most negative conversations
    -- description: The conversations whose customer messages are the most negative ...
    --   (continuation lines of the description start with "--" and spaces)
    -- param: limit UInt32 = 10

Parameters are ClickHouse ``{name:Type}`` placeholders bound by the engine; a param line
without ``= default`` makes the parameter required.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.io.clickhouse import ClickHouse, QueryResult
from streams.kernel.paths import SCHEMAS_DIR

INSIGHTS_DIR = SCHEMAS_DIR / "clickhouse" / "insights"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER = re.compile(r"^--\s*(title|description|param):\s*(.*?)\s*$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*?)\s*$")
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)(?:\s*=\s*(.*))?$")
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+?)\s*\}")
_INT_RANGES = {
    f"{sign}Int{bits}": ((0, 2**bits - 1) if sign else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    for sign in ("U", "")
    for bits in (8, 16, 32, 64)
}


class InsightError(ValueError):
    """An unknown insight, a malformed insight file, or a bad parameter value."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # ClickHouse type, as in the {name:Type} placeholder
    default: str | None  # as typed on a command line; None: required

    def convert(self, text: str) -> Any:
        """The Python value of ``text`` for this parameter's type; raises InsightError."""
        try:
            return _converter(self.type)(text)
        except (ValueError, TypeError) as exc:
            raise InsightError(f"parameter {self.name} ({self.type}): {text!r}: {exc}") from exc


@dataclass(frozen=True)
class Insight:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    sql: str

    def parameters(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        """Typed values for every parameter: the overrides, defaults for the rest."""
        known = {p.name for p in self.params}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InsightError(
                f"insight {self.name}: unknown parameters {unknown}; it takes {sorted(known)}"
            )
        values: dict[str, Any] = {}
        for param in self.params:
            text = overrides.get(param.name, param.default)
            if text is None:
                raise InsightError(f"insight {self.name}: parameter {param.name} is required")
            values[param.name] = param.convert(text)
        return values


def list_insights(directory: Path = INSIGHTS_DIR) -> list[Insight]:
    """Every insight of ``directory``, by name."""
    return [_parse(path) for path in sorted(directory.glob("*.sql"))]


def load_insight(name: str, directory: Path = INSIGHTS_DIR) -> Insight:
    if not _NAME.match(name):
        raise InsightError(f"no insight named {name!r}")
    path = directory / f"{name}.sql"
    if not path.is_file():
        available = ", ".join(p.stem for p in sorted(directory.glob("*.sql")))
        raise InsightError(f"no insight named {name!r}; available: {available}")
    return _parse(path)


def run_insight(
    ch: ClickHouse,
    name: str,
    overrides: Mapping[str, str] | None = None,
    directory: Path = INSIGHTS_DIR,
) -> QueryResult:
    """Run insight ``name`` with string ``overrides`` converted to their parameter types."""
    insight = load_insight(name, directory)
    return ch.query(insight.sql, insight.parameters(overrides or {}))


def _parse(path: Path) -> Insight:
    sql = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {"title": [], "description": []}
    params: list[Param] = []
    last: str | None = None
    for raw_line in sql.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break  # the header ends where the SQL begins
        if match := _HEADER.match(line):
            key, value = match.groups()
            if key == "param":
                params.append(_parse_param(path, value))
            else:
                fields[key].append(value)
            last = key
        elif (match := _CONTINUATION.match(line)) and last in fields:
            fields[last].append(match.group(1))
    if not fields["title"]:
        raise InsightError(f"{path.name}: no '-- title:' header")
    insight = Insight(
        name=path.stem,
        title=" ".join(fields["title"]),
        description=" ".join(fields["description"]),
        params=tuple(params),
        sql=sql,
    )
    _check_placeholders(path, insight)
    return insight


def _parse_param(path: Path, spec: str) -> Param:
    match = _PARAM.match(spec)
    if not match:
        raise InsightError(f"{path.name}: bad param line {spec!r}; want 'name Type = default'")
    name, ch_type, default = match.groups()
    if default is not None and len(default) >= 2 and default[0] == default[-1] == "'":
        default = default[1:-1]
    return Param(name, ch_type.strip(), default)


def _check_placeholders(path: Path, insight: Insight) -> None:
    """Every {name:Type} in the SQL is declared with the same type, and every param used."""
    declared = {p.name: p.type for p in insight.params}
    used: dict[str, str] = {}
    for name, ch_type in _PLACEHOLDER.findall(insight.sql):
        used[name] = ch_type
        if name not in declared:
            raise InsightError(f"{path.name}: {{{name}:{ch_type}}} has no '-- param:' line")
        if _squash(declared[name]) != _squash(ch_type):
            raise InsightError(
                f"{path.name}: param {name} is declared {declared[name]} but used as {ch_type}"
            )
    unused = sorted(set(declared) - set(used))
    if unused:
        raise InsightError(f"{path.name}: params {unused} are declared but not used")


def _squash(ch_type: str) -> str:
    return re.sub(r"\s+", "", ch_type)


def _converter(ch_type: str) -> Callable[[str], Any]:
    inner = ch_type
    nullable = False
    while match := re.match(r"^(Nullable|LowCardinality)\((.*)\)$", inner):
        nullable = nullable or match.group(1) == "Nullable"
        inner = match.group(2)
    base = _base_converter(inner)
    if not nullable:
        return base
    return lambda text: None if text.strip().upper() in ("", "NULL") else base(text)


def _base_converter(ch_type: str) -> Callable[[str], Any]:
    if ch_type in _INT_RANGES:
        low, high = _INT_RANGES[ch_type]

        def to_int(text: str) -> int:
            value = int(text.strip())
            if not low <= value <= high:
                raise ValueError(f"out of range {low}..{high}")
            return value

        return to_int
    if ch_type in ("Float32", "Float64"):
        return lambda text: float(text.strip())
    if ch_type == "Bool":
        return _to_bool
    if ch_type == "Date":
        return lambda text: dt.date.fromisoformat(text.strip())
    if ch_type.startswith("DateTime"):
        return _to_datetime_text
    return str


def _to_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")


def _to_datetime_text(text: str) -> str:
    """Validated and written the way ClickHouse parses DateTime parameters; the zone is the
    column's (naive input) or converted to UTC (aware input)."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="milliseconds")
