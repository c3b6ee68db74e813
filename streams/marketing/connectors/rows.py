"""Turning platform report rows into ``ad.metrics`` and ``touchpoints`` records, or rejects.

Invariants:
- Every row a platform sends comes back as exactly one record or one Reject with a reason;
  nothing is dropped silently. A reject carries the raw row so that it can be dead-lettered.
- A record that leaves here matches the Avro contract (``schemas/avro/ad_metric.v1.avsc``):
  integer counts that are not negative, clicks not above impressions, finite amounts, a known
  ISO 4217 currency, an interval whose end is after its start and whose start is not in the
  future. Money stays in the account currency (cost in micros).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# the contract rules are shared with the KPI stage's validation
from streams.marketing.metric_checks import MINOR_UNIT_DIGITS
from streams.marketing.metric_checks import metric_problem as metric_problem

MICROS = 1_000_000

METRIC_DEFAULTS: dict[str, Any] = {
    "campaign_name": None, "level": "CAMPAIGN", "ad_group_id": None, "ad_id": None,
    "device": None, "conversions": 0.0, "conversion_value": 0.0, "cost_micros": 0,
    "bid_micros": None, "budget_micros": None, "audience": None, "extra": {},
}
METRIC_FIELDS = (
    "platform", "account_id", "campaign_id", "campaign_name", "level", "ad_group_id", "ad_id",
    "device", "interval_start", "interval_end", "impressions", "clicks", "cost_micros",
    "conversions", "conversion_value", "currency", "bid_micros", "budget_micros", "audience",
    "reported_at", "extra",
)


class RowError(ValueError):
    """A row that cannot become a record; the message is the reject reason."""


@dataclass(frozen=True)
class Reject:
    """A platform row that was not turned into a record, with why; it goes to the dead letters."""

    platform: str
    account_id: str
    reason: str
    row: Mapping[str, Any]


def count(value: Any, name: str) -> int:
    """A whole, non-negative count from an int, an integral float or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise RowError(f"{name} is missing or not a number ({value!r})")
    if isinstance(value, int):
        number = value
    else:
        amount = decimal(value, name)
        if amount != amount.to_integral_value():
            raise RowError(f"{name} is not a whole number ({value!r})")
        number = int(amount)
    if number < 0:
        raise RowError(f"{name} is negative ({number})")
    return number


def decimal(value: Any, name: str) -> Decimal:
    """A finite decimal from a number or a numeric string (platforms send both)."""
    if isinstance(value, bool) or value is None:
        raise RowError(f"{name} is missing or not a number ({value!r})")
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise RowError(f"{name} is not a number ({value!r})") from None
    if not amount.is_finite():
        raise RowError(f"{name} is not finite ({value!r})")
    return amount


def amount(value: Any, name: str) -> float:
    """A finite, non-negative float (conversions, conversion value)."""
    number = float(decimal(value, name))
    if number < 0:
        raise RowError(f"{name} is negative ({number})")
    return number


def micros(value: Any, name: str) -> int:
    """Account-currency units given as a decimal string ("12.34") to micros, exactly."""
    result = int((decimal(value, name) * MICROS).to_integral_value())
    if result < 0:
        raise RowError(f"{name} is negative ({value!r})")
    return result


def text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if value is None or value == "":
        raise RowError(f"{name} is missing")
    return str(value)


def local_interval(day: str, hour: int | None, tz: str) -> tuple[int, int]:
    """[start, end) in UTC epoch ms of a reporting hour (or, with hour None, day) in zone ``tz``.

    An hour is one hour long even on a daylight-saving change (platforms report the wall-clock
    hour once); a day runs from local midnight to the next local midnight."""
    try:
        zone = ZoneInfo(tz)
        local = datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RowError(f"bad reporting day or time zone ({day!r}, {tz!r})") from None
    if hour is None:
        following = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
        return int(local.timestamp() * 1000), int(following.timestamp() * 1000)
    if not 0 <= hour <= 23:
        raise RowError(f"hour {hour!r} is not 0-23")
    start = int(local.replace(hour=hour).timestamp() * 1000)
    return start, start + 3_600_000


def minor_units(amount_micros: int, currency: str) -> int:
    """Micros to the currency's minor units (cents for EUR, yen for JPY), rounded down."""
    digits: int = MINOR_UNIT_DIGITS.get(currency, 2)
    return amount_micros // int(10 ** (6 - digits))


def metric(**fields: Any) -> dict[str, Any]:
    """An ``ad.metrics`` record with the optional fields defaulted, in contract field order."""
    merged = {**METRIC_DEFAULTS, **fields}
    missing = [name for name in METRIC_FIELDS if name not in merged]
    if missing:
        raise RowError(f"missing fields {missing}")
    return {name: merged[name] for name in METRIC_FIELDS}


def split_rows(
    rows: Iterable[Mapping[str, Any]],
    convert: Callable[[Mapping[str, Any]], dict[str, Any]],
    *, platform: str, account_id: str, now_ms: int, max_future_ms: int,
) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Convert each row, check the record, and keep every failure as a Reject."""
    records: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for row in rows:
        try:
            record = convert(row)
        except RowError as exc:
            rejects.append(Reject(platform, account_id, str(exc), row))
            continue
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            rejects.append(Reject(platform, account_id, f"malformed row: {type(exc).__name__} {exc}",
                                  row))
            continue
        problem = metric_problem(record, now_ms, max_future_ms)
        if problem is None:
            records.append(record)
        else:
            rejects.append(Reject(platform, account_id, problem, row))
    return records, rejects


def utm_of(url: str | None) -> dict[str, str | None]:
    """The utm_* parameters of a URL (the first value of each), None where absent."""
    query = parse_qs(urlsplit(url).query) if url else {}
    found: dict[str, str | None] = {}
    for name in ("source", "medium", "campaign", "term", "content"):
        values = query.get(f"utm_{name}")
        found[name] = values[0] if values else None
    return found


def identifiers(**known: str | None) -> dict[str, str | None]:
    names = ("customer_id", "email", "phone", "anonymous_id", "device_id")
    return {name: known.get(name) for name in names}


def metric_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies one interval of one entity; versions of it differ by ``reported_at``."""
    return (record["platform"], record["account_id"], record["campaign_id"], record["level"],
            record["ad_group_id"], record["ad_id"], record["device"], record["interval_start"])


def latest_versions(records: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], Mapping[str, Any]]:
    """The latest report of each interval (highest ``reported_at``; a tie keeps the later one)."""
    latest: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for record in records:
        key = metric_key(record)
        held = latest.get(key)
        if held is None or record["reported_at"] >= held["reported_at"]:
            latest[key] = record
    return latest
