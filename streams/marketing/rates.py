"""Exchange rates into the reporting currency: ``currency.rates`` records from a CSV, their
contract rules, and the ``currency_rates`` rows the ROI insights convert money with.

Invariants: a rate is positive and finite, between two known ISO 4217 codes that differ; its
day is a calendar day (Avro ``date``); one record per (reporting
currency, currency, day), keyed so; the latest publication of a day wins in the table.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.marketing import contract as names
from streams.marketing.metric_checks import KNOWN_CURRENCIES

RATE_COLUMNS: Final = ("day", "currency", "reporting_currency", "rate", "source", "published_at",
                       "_topic", "_partition", "_offset", "_version")
EPOCH: Final = date(1970, 1, 1)


def rate_key(reporting: str, currency: str, day: date) -> str:
    return f"{reporting}:{currency}:{day.isoformat()}"


def rate_problem(value: Mapping[str, Any]) -> str | None:
    rate = value["rate"]
    if not math.isfinite(rate) or rate <= 0:
        return f"rate {rate!r} is not a positive finite number"
    for name in ("currency", "reporting_currency"):
        if value[name] not in KNOWN_CURRENCIES:
            return f"{name} {value[name]!r} is not a known ISO 4217 code"
    if value["currency"] == value["reporting_currency"]:
        return "currency and reporting_currency are the same"
    return None


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    problem = rate_problem(value)
    if problem is not None:
        raise InvalidMessage("invalid_field", problem)


def records_from_csv(text: str, reporting: str, source: str, published_at_ms: int
                     ) -> list[OutputRecord]:
    """``currency.rates`` records of a CSV with columns ``day`` (ISO date), ``currency`` and
    ``rate`` (units of ``reporting`` per unit); raises ValueError naming the bad line."""
    out = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            day = date.fromisoformat(row["day"].strip())
            value: dict[str, Any] = {"day": day, "currency": row["currency"].strip().upper(),
                     "reporting_currency": reporting.upper(), "rate": float(row["rate"]),
                     "source": source, "published_at": published_at_ms}
        except (KeyError, AttributeError, ValueError) as exc:
            raise ValueError(f"line {line}: {exc!r}") from None
        problem = rate_problem(value)
        if problem is not None:
            raise ValueError(f"line {line}: {problem}")
        out.append(OutputRecord(names.CURRENCY_RATES,
                                rate_key(value["reporting_currency"], value["currency"], day),
                                value))
    return out


def rate_columns(raws: Sequence[Raw], values: Sequence[Mapping[str, Any]]) -> Columns:
    cols = empty_columns(RATE_COLUMNS)
    for raw, v in zip(raws, values, strict=True):
        for name in ("currency", "reporting_currency", "rate", "source", "published_at"):
            cols[name].append(v[name])
        day = v["day"]  # Avro decodes a ``date`` to a date; an int is days since 1970
        cols["day"].append(day if isinstance(day, date) else
                           date.fromordinal(EPOCH.toordinal() + int(day)))
        cols["_topic"].append(raw.topic)
        cols["_partition"].append(raw.partition)
        cols["_offset"].append(raw.offset)
        cols["_version"].append(v["published_at"])
    return cols
