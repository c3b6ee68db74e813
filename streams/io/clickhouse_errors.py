"""What a failed ClickHouse statement means for the rows it carried.

``RowsRejected`` when the rows do not fit the table (a type, a nullability, an unknown
column, a value that cannot be parsed): no retry can fix it, so it names the table, the
column when the engine's message tells it, and a sample row (the offending one when the
message quotes its value). ``Unavailable`` for everything else the engine or the network
raises (connection, timeout, too many parts, memory, overload, a table detached or not
created yet): asking again later may succeed, so unknown failures are retried, not fatal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from streams.kernel.errors import RowsRejected, Unavailable

#: ClickHouse error codes of rows that do not fit their table: no retry can fix them
_REJECTING_CODES = frozenset({
    6,  # CANNOT_PARSE_TEXT
    8,  # THERE_IS_NO_COLUMN
    10,  # NOT_FOUND_COLUMN_IN_BLOCK
    15,  # DUPLICATE_COLUMN
    16,  # NO_SUCH_COLUMN_IN_TABLE
    20,  # NUMBER_OF_COLUMNS_DOESNT_MATCH
    26,  # CANNOT_PARSE_QUOTED_STRING
    27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    33,  # CANNOT_READ_ALL_DATA (the server read the whole request: the data is short)
    38,  # CANNOT_PARSE_DATE
    41,  # CANNOT_PARSE_DATETIME
    43,  # ILLEGAL_TYPE_OF_ARGUMENT
    44,  # ILLEGAL_COLUMN
    47,  # UNKNOWN_IDENTIFIER
    50,  # UNKNOWN_TYPE
    53,  # TYPE_MISMATCH
    62,  # SYNTAX_ERROR
    69,  # ARGUMENT_OUT_OF_BOUND
    70,  # CANNOT_CONVERT_TYPE
    72,  # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    130,  # CANNOT_READ_ARRAY_FROM_TEXT
    131,  # TOO_LARGE_STRING_SIZE
    190,  # SIZES_OF_ARRAYS_DONT_MATCH
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    376,  # CANNOT_PARSE_UUID
    675,  # CANNOT_PARSE_IPV4
    676,  # CANNOT_PARSE_IPV6
    691,  # UNKNOWN_ELEMENT_OF_ENUM
})
_ERROR_CODE = re.compile(r"\bCode:\s*(\d+)")
#: ... and any error whose symbolic name says the engine could not parse a value
_PARSE_ERROR_NAME = re.compile(r"\((CANNOT_PARSE_[A-Z0-9_]+)\)")
_ERROR_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
_EXCEPTION_PREFIX = re.compile(r"(?:Code:\s*\d+\.\s*)?DB::Exception:\s*")
#: where an engine message names the column (first match wins)
_COLUMN_IN_MESSAGE = (
    re.compile(r"No such column `?([^`\s]+?)`? in table"),
    re.compile(r"destination column `?([^`\s]+?)`?(?:[\s:.,]|$)"),
    re.compile(r"Missing columns: '([^']+)'"),
    re.compile(r"[Cc]olumn `([^`]+)`"),
    re.compile(r"[Cc]olumn '([^']+)'"),
    re.compile(r"[Cc]olumn ([A-Za-z_][A-Za-z0-9_]*)"),
)
#: a value the engine quotes as the one it could not read
_QUOTED_VALUE = re.compile(r"(?:string|value|text) '([^']*)'")


def classify(table: str, exc: Exception, columns: Mapping[str, Sequence[Any]]
             ) -> RowsRejected | Unavailable:
    """What a failed statement on ``table`` means: ``RowsRejected`` (naming the column and a
    sample row when the engine's message tells them) when the rows do not fit, else
    ``Unavailable``."""
    if isinstance(exc, RowsRejected | Unavailable):
        return exc
    message = str(exc)
    code = getattr(exc, "code", None)
    if code is None and (match := _ERROR_CODE.search(message)):
        code = int(match.group(1))
    if code not in _REJECTING_CODES and not _PARSE_ERROR_NAME.search(message):
        return Unavailable("clickhouse", f"{table}: {type(exc).__name__}: {message}")
    column = next((m.group(1) for pattern in _COLUMN_IN_MESSAGE
                   if (m := pattern.search(message))), None)
    if column is not None and "." in column and column not in columns:
        column = column.rsplit(".", 1)[-1]  # a qualified name: db.table.column
    values = columns.get(column) if column is not None else None
    row = _quoted_row(message, values) if values is not None else 0
    return RowsRejected(table, column, _engine_detail(message) or type(exc).__name__,
                        sample_row(columns, row))


def _quoted_row(message: str, values: Sequence[Any]) -> int:
    """The first row whose value the engine's message quotes (``'v'`` or ``v:``), else 0."""
    if quoted := _QUOTED_VALUE.search(message):
        return next((i for i, v in enumerate(values) if str(v) == quoted.group(1)), 0)
    return next((i for i, v in enumerate(values)
                 if v is not None and (f"'{v}'" in message or f" {v}:" in message)), 0)


def _engine_detail(message: str) -> str:
    """The engine's reason without its repeated ``Code: N. DB::Exception:`` prefixes and the
    trail of where it was executing."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    code = _ERROR_CODE.search(text)
    text = _EXCEPTION_PREFIX.sub("", text)
    text = re.split(r"\s*\(in file/uri |: While executing ", text, maxsplit=1)[0].rstrip(" :")
    name = _ERROR_NAME.findall(message)
    return (f"Code {code.group(1)}" + (f" ({name[-1]})" if name else "") + ": " + text
            if code else text)


def sample_row(columns: Mapping[str, Sequence[Any]], index: int) -> dict[str, Any]:
    return {name: values[index] for name, values in columns.items() if index < len(values)}
