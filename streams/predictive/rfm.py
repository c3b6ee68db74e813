"""Per-customer recency / frequency / monetary summaries in the BG/NBD conventions, as a fold.

The fold absorbs conversions (``schemas/avro/conversion.v1.avsc``, timestamps as epoch ms) into a
plain, JSON-serialisable state; ``summarise`` turns a state into the four numbers the lifetime-value
models take, as of a given instant and in a chosen time unit.

Conventions (Fader, Hardie and Lee 2005, and the CDNOW data they published):
- a purchase *occasion* is one UTC day: purchases on the same day are one occasion whose value is
  their sum (a basket split over several orders is still one visit);
- ``frequency`` is the number of *repeat* occasions (occasions after the first);
- ``recency`` is the time from the first to the last occasion (0 when there is no repeat);
- ``T`` (age) is the time from the first occasion to ``as_of``;
- ``monetary_value`` is the mean value of the repeat occasions (the first one is left out, as the
  Gamma-Gamma model asks), 0 when there is no repeat.

Invariants:
- The fold is pure: ``absorb`` returns a new state and never mutates its argument.
- Redelivery-safe: a conversion id already absorbed changes nothing (the state keeps the ids).
- Order-free: the state does not depend on the order conversions arrive in, so a late or replayed
  conversion that predates the others simply becomes the first occasion.
- Only conversions whose ``type`` is a purchase type count; others leave the state unchanged.
- Amounts are never converted: values are kept per currency, and a summary measures money in one
  currency (the customer's most used one unless told); occasions without a purchase in that
  currency count for frequency and recency but not for the mean value.
- State size grows with the customer's purchases (their ids and one entry per occasion day).
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NamedTuple, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

DAY_MS = 86_400_000
TimeUnit = Literal["days", "weeks"]
UNIT_DAYS: dict[TimeUnit, float] = {"days": 1.0, "weeks": 7.0}
PURCHASE_TYPES: frozenset[str] = frozenset({"purchase"})


class PersonIdentifiers(TypedDict, total=False):
    customer_id: str | None
    email: str | None
    phone: str | None
    anonymous_id: str | None
    device_id: str | None


class Conversion(TypedDict):
    """A decoded ``Conversion`` record (the fields the fold reads are required)."""

    conversion_id: str
    occurred_at: int
    type: str
    value: float
    currency: str
    order_id: NotRequired[str | None]
    identifiers: NotRequired[PersonIdentifiers]
    properties: NotRequired[dict[str, str]]


class RfmState(TypedDict):
    """JSON-serialisable fold state: absorbed ids (sorted) and value per occasion day and currency."""

    ids: list[str]
    occasions: dict[str, dict[str, float]]


class RfmSummary(NamedTuple):
    """The four numbers of the lifetime-value models, their currency and time unit (a tuple:
    the scoring stage makes one per profile change)."""

    frequency: int
    recency: float
    T: float
    monetary_value: float
    currency: str | None
    unit: TimeUnit


def empty_state() -> RfmState:
    return {"ids": [], "occasions": {}}


def person_key(conversion: Conversion) -> str | None:
    """The conversion's person key: the first present of the identifiers, as the topic keys it."""
    identifiers = conversion.get("identifiers") or {}
    candidates = (identifiers.get("customer_id"), identifiers.get("email"), identifiers.get("phone"),
                  identifiers.get("anonymous_id"), identifiers.get("device_id"))
    return next((value for value in candidates if value), None)


def _check(conversion: Conversion) -> None:
    if not math.isfinite(conversion["value"]):
        raise ValueError(f"conversion {conversion['conversion_id']!r} has a non-finite value")


def absorbed(state: RfmState, conversion_id: str) -> bool:
    """True when ``state`` has absorbed the conversion of this id."""
    ids = state["ids"]
    i = bisect.bisect_left(ids, conversion_id)
    return i < len(ids) and ids[i] == conversion_id


def _counts(conversion: Conversion, state: RfmState, purchase_types: frozenset[str]) -> bool:
    return conversion["type"] in purchase_types and not absorbed(state, conversion["conversion_id"])


def _add(state: RfmState, conversion: Conversion) -> None:
    """Absorb into ``state`` in place (callers own a fresh copy)."""
    _add_purchase(state, conversion["conversion_id"], conversion["occurred_at"],
                  conversion["currency"], float(conversion["value"]))


def _add_purchase(state: RfmState, conversion_id: str, occurred_at: int, currency: str,
                  value: float) -> None:
    bisect.insort(state["ids"], conversion_id)
    values = state["occasions"].setdefault(str(occurred_at // DAY_MS), {})
    values[currency] = values.get(currency, 0.0) + value


def _copy(state: RfmState) -> RfmState:
    return {"ids": list(state["ids"]), "occasions": {d: dict(v) for d, v in state["occasions"].items()}}


def absorb(state: RfmState, conversion: Conversion,
           purchase_types: frozenset[str] = PURCHASE_TYPES) -> RfmState:
    """The state after one conversion; the same state object when it changes nothing."""
    _check(conversion)
    if not _counts(conversion, state, purchase_types):
        return state
    new = _copy(state)
    _add(new, conversion)
    return new


def absorb_many(state: RfmState, conversions: Iterable[Conversion],
                purchase_types: frozenset[str] = PURCHASE_TYPES) -> RfmState:
    """The state after a batch: the same as absorbing one at a time, with one copy of the state."""
    new: RfmState | None = None
    for conversion in conversions:
        _check(conversion)
        if _counts(conversion, state if new is None else new, purchase_types):
            if new is None:
                new = _copy(state)
            _add(new, conversion)
    return state if new is None else new


def absorb_interactions(state: RfmState, items: Iterable[Mapping[str, Any]]) -> RfmState:
    """``absorb_many`` of the purchase interactions of a profile (``event_id``, ``occurred_at``,
    ``value``, ``currency``; those without a value or a currency are not purchases the fold
    can count): the same state as making each a ``Conversion`` of type purchase first, without
    the intermediate dicts (the scoring stage's hot path). A non-finite value of one not yet
    absorbed raises, as ``absorb_many`` does."""
    new: RfmState | None = None
    before = bool(state["ids"])  # a new person's state has absorbed nothing: no lookup
    for i in items:
        value, currency = i.get("value"), i.get("currency")
        if value is None or not currency:
            continue
        cid = str(i["event_id"])
        if before and absorbed(state, cid):
            continue  # absorbed before this profile
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"conversion {cid!r} has a non-finite value")
        if new is None:
            new = _copy(state) if before or state["occasions"] else empty_state()
        elif absorbed(new, cid):
            continue  # twice in this profile
        _add_purchase(new, cid, int(i["occurred_at"]), str(currency), value)
    return state if new is None else new


#: a purchase interaction's four fields at once (the decoders give every one of them)
_PURCHASE_FIELDS: Final = operator.itemgetter("event_id", "occurred_at", "value", "currency")


#: a purchase interaction's ``event_id``, ``occurred_at``, ``value`` and ``currency``
Purchase = tuple[Any, Any, Any, Any]


def purchase_fields(items: Sequence[Mapping[str, Any]]) -> list[Purchase]:
    """Each purchase interaction's four fields (one absent: None)."""
    try:
        return list(map(_PURCHASE_FIELDS, items))
    except KeyError:  # an item without one of them: read each with get
        return [(i.get("event_id"), i.get("occurred_at"), i.get("value"), i.get("currency"))
                for i in items]


def absorb_new(items: Sequence[Mapping[str, Any]], as_of_ms: int, unit: TimeUnit
               ) -> tuple[RfmState, RfmSummary | None] | None:
    """``absorb_interactions`` from a state that holds no purchase, and ``summarise`` of the
    result, in one pass (the scoring stage's common case: a new person, or one who never
    bought): the same state (ids sorted, occasions in the order their first purchase came,
    each day's values summed in item order) and the same summary. None when no item counts
    (the state stays the empty one); a non-finite value raises, as there."""
    return absorb_new_fields(purchase_fields(items), as_of_ms, unit)


def absorb_new_fields(fields: Sequence[Purchase], as_of_ms: int, unit: TimeUnit
                      ) -> tuple[RfmState, RfmSummary | None] | None:
    """``absorb_new`` of the purchases' fields (``purchase_fields``; a batch read into
    columns gives them so, with no dict per purchase)."""
    ids: dict[str, None] = {}  # in the order first seen, each once
    by_day: dict[int, dict[str, float]] = {}
    isfinite = math.isfinite
    for event_id, occurred_at, value, currency in fields:
        if value is None or not currency:
            continue
        cid = str(event_id)
        value = float(value)
        if not isfinite(value):
            raise ValueError(f"conversion {cid!r} has a non-finite value")
        if cid in ids:
            continue  # twice in this profile
        ids[cid] = None
        day = int(occurred_at) // DAY_MS
        values = by_day.get(day)
        if values is None:
            by_day[day] = {str(currency): value}
        else:
            code = str(currency)
            values[code] = values.get(code, 0.0) + value
    if not ids:
        return None
    # ids sorted: what inserting each in order gives (they are distinct)
    state: RfmState = {"ids": sorted(ids), "occasions": {str(d): v for d, v in by_day.items()}}
    as_of_day = as_of_ms // DAY_MS
    days = sorted(by_day)
    if days[-1] > as_of_day:  # purchases after the instant are kept but not summarised
        days = [d for d in days if d <= as_of_day]
        if not days:
            return state, None
    per_unit = UNIT_DAYS[unit]
    occasions = [by_day[d] for d in days]
    money = _main_currency(occasions)
    repeat_values = [values[money] for values in occasions[1:] if money in values]
    first, last = days[0], days[-1]
    return state, RfmSummary(len(days) - 1, (last - first) / per_unit,
                             (as_of_day - first) / per_unit,
                             sum(repeat_values) / len(repeat_values) if repeat_values else 0.0,
                             money, unit)


def fold_by_person(states: Mapping[str, RfmState], conversions: Iterable[Conversion],
                   purchase_types: frozenset[str] = PURCHASE_TYPES) -> dict[str, RfmState]:
    """Batch form over many people: the states that changed, by person key.

    Conversions without any identifier cannot be attributed to a person and are skipped.
    """
    by_person: dict[str, list[Conversion]] = {}
    for conversion in conversions:
        key = person_key(conversion)
        if key is not None:
            by_person.setdefault(key, []).append(conversion)
    changed: dict[str, RfmState] = {}
    for key, batch in by_person.items():
        before = states.get(key) or empty_state()
        after = absorb_many(before, batch, purchase_types)
        if after is not before:
            changed[key] = after
    return changed


def _main_currency(occasions: list[dict[str, float]]) -> str | None:
    if occasions and len(occasions[0]) == 1:
        (only,) = occasions[0]
        if all(len(values) == 1 and only in values for values in occasions):
            return only  # one currency throughout (the usual case)
    counts: dict[str, int] = {}
    for values in occasions:
        for currency in values:
            counts[currency] = counts.get(currency, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda c: (-counts[c], c))


def _day(occasion: tuple[int, dict[str, float]]) -> int:
    return occasion[0]


def summarise(state: RfmState, as_of_ms: int, unit: TimeUnit = "days",
              currency: str | None = None) -> RfmSummary | None:
    """The customer's summary counting occasions up to and including the UTC day of ``as_of_ms``.

    None when the customer had no purchase by then (they are not yet a customer).
    """
    as_of_day = as_of_ms // DAY_MS
    occasions_by_day = state["occasions"]
    if not occasions_by_day:
        return None
    dated = [(d, v) for d, v in zip(map(int, occasions_by_day), occasions_by_day.values(),
                                    strict=True) if d <= as_of_day]
    dated.sort(key=_day)  # days are distinct: the order ``sorted`` of the pairs gives
    if not dated:
        return None
    per_unit = UNIT_DAYS[unit]
    occasions = [values for _, values in dated]
    money = currency or _main_currency(occasions)
    repeat_values = [values[money] for values in occasions[1:] if money in values]
    first, last = dated[0][0], dated[-1][0]
    return RfmSummary(len(dated) - 1, (last - first) / per_unit, (as_of_day - first) / per_unit,
                      sum(repeat_values) / len(repeat_values) if repeat_values else 0.0, money,
                      unit)


def summary_arrays(summaries: Iterable[RfmSummary]) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64],
        npt.NDArray[np.float64]]:
    """(frequency, recency, T, monetary_value) as float arrays, the inputs of ``clv``."""
    rows = [(s.frequency, s.recency, s.T, s.monetary_value) for s in summaries]
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(), table[:, 3].copy()
