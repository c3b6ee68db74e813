"""Journeys: the touchpoints of a person that lead up to each of their conversions.

Invariants:
- A conversion's journey holds the touchpoints of the same person with
  ``conversion.occurred_at - lookback_ms <= touchpoint.occurred_at <= conversion.occurred_at``
  (30 days by default); a touchpoint at the conversion's own millisecond counts.
- A journey is ordered by ``(occurred_at, touchpoint_id)``: ties are broken by touchpoint id, so
  the order never depends on the order the records arrived in.
- A touchpoint delivered twice (same id, person and time) counts once.
- Every conversion has its own journey, possibly empty; a touchpoint may sit in the journeys of
  several conversions of the same person.
- Batch results (``build_journeys``) and the one-conversion path (``journey``) agree exactly.

Records follow ``schemas/avro/touchpoint.v1.avsc`` and ``conversion.v1.avsc``; the person is the
key the records are partitioned by (the first present of customer_id, email, phone,
anonymous_id, device_id) unless identity resolution supplies a resolved id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DAY_MS = 86_400_000
DEFAULT_LOOKBACK_MS = 30 * DAY_MS
PERSON_KEYS = ("customer_id", "email", "phone", "anonymous_id", "device_id")

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Objects = NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class Touchpoint:
    touchpoint_id: str
    person_id: str
    occurred_at: int
    channel: str
    campaign_id: str | None = None
    type: str = ""


@dataclass(frozen=True, slots=True)
class Conversion:
    conversion_id: str
    person_id: str
    occurred_at: int
    value: float = 0.0
    currency: str = ""


def person_key(identifiers: Mapping[str, Any]) -> str | None:
    """The key a touchpoint or conversion is partitioned by: its first present identifier."""
    for name in PERSON_KEYS:
        value = identifiers.get(name)
        if value:
            return str(value)
    return None


def _person(record: Mapping[str, Any], person_id: str | None) -> str:
    person = person_id or person_key(record.get("identifiers") or {})
    if person is None:
        raise ValueError("the record carries no identifier of a person")
    return person


def touchpoint_from_record(record: Mapping[str, Any], person_id: str | None = None) -> Touchpoint:
    """A decoded ``Touchpoint`` record; ``person_id`` overrides the record's own key."""
    return Touchpoint(str(record["touchpoint_id"]), _person(record, person_id), int(record["occurred_at"]),
                      str(record["channel"]), record.get("campaign_id"), str(record.get("type") or ""))


def conversion_from_record(record: Mapping[str, Any], person_id: str | None = None) -> Conversion:
    """A decoded ``Conversion`` record; ``person_id`` overrides the record's own key."""
    return Conversion(str(record["conversion_id"]), _person(record, person_id), int(record["occurred_at"]),
                      float(record["value"]), str(record["currency"]))


def journey(conversion: Conversion, touchpoints: Iterable[Touchpoint],
            lookback_ms: int = DEFAULT_LOOKBACK_MS) -> list[Touchpoint]:
    """The journey of one conversion, from any touchpoints (other persons' are ignored)."""
    start = conversion.occurred_at - lookback_ms
    seen: dict[tuple[str, int], Touchpoint] = {}
    for t in touchpoints:
        if t.person_id == conversion.person_id and start <= t.occurred_at <= conversion.occurred_at:
            seen.setdefault((t.touchpoint_id, t.occurred_at), t)
    return sorted(seen.values(), key=lambda t: (t.occurred_at, t.touchpoint_id))


@dataclass(frozen=True)
class TouchTable:
    """Touchpoints as columns (one row a touchpoint); persons and ids may be str or int."""

    touchpoint_id: NDArray[Any]
    person: NDArray[Any]
    occurred_at: Ints
    channel: Ints  # codes into ``channels``
    campaign_id: Objects  # str or None
    channels: tuple[str, ...]

    @classmethod
    def from_touchpoints(cls, touchpoints: Sequence[Touchpoint]) -> TouchTable:
        names = sorted({t.channel for t in touchpoints})
        index = {c: i for i, c in enumerate(names)}
        return cls(_objects([t.touchpoint_id for t in touchpoints]),
                   _objects([t.person_id for t in touchpoints]),
                   np.array([t.occurred_at for t in touchpoints], dtype=np.int64),
                   np.array([index[t.channel] for t in touchpoints], dtype=np.int64),
                   _objects([t.campaign_id for t in touchpoints]), tuple(names))


@dataclass(frozen=True)
class ConversionTable:
    """Conversions as columns (one row a conversion)."""

    conversion_id: NDArray[Any]
    person: NDArray[Any]
    occurred_at: Ints
    value: Floats
    currency: Objects

    @classmethod
    def from_conversions(cls, conversions: Sequence[Conversion]) -> ConversionTable:
        return cls(_objects([c.conversion_id for c in conversions]),
                   _objects([c.person_id for c in conversions]),
                   np.array([c.occurred_at for c in conversions], dtype=np.int64),
                   np.array([c.value for c in conversions], dtype=np.float64),
                   _objects([c.currency for c in conversions]))


@dataclass(frozen=True)
class Journeys:
    """Every conversion's journey in CSR form.

    Journey ``j`` (conversion row ``j``) is ``touch[offsets[j]:offsets[j + 1]]``: rows of the
    touch table in journey order. ``touch_order`` is every touch row sorted by person, time and
    id with duplicates dropped; ``touch_person`` and ``conversion_person`` are person codes
    shared by both tables (they serve the non-converting paths).
    """

    offsets: Ints
    touch: Ints
    touch_order: Ints
    touch_person: Ints
    conversion_person: Ints

    @property
    def lengths(self) -> Ints:
        return np.diff(self.offsets)

    def journey_of_element(self) -> Ints:
        """For each element of ``touch``, the journey (conversion row) it belongs to."""
        return np.repeat(np.arange(len(self.offsets) - 1, dtype=np.int64), self.lengths)


def _objects(values: Sequence[Any]) -> Objects:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _person_codes(persons: NDArray[Any]) -> Ints:
    """Integer codes for person ids (dicts beat sorting a million strings)."""
    if persons.dtype.kind in "iu":
        return np.unique(persons, return_inverse=True)[1].astype(np.int64)
    values = persons.tolist()
    first_seen = dict.fromkeys(values)
    index = dict(zip(first_seen, range(len(first_seen)), strict=True))
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


def _time_key(person: Ints, times: tuple[Ints, ...]) -> tuple[np.int64, Callable[[Ints], Ints]]:
    """``base`` and ``rank`` such that ``person * base + rank(t)`` orders by (person, time)
    without overflow: the time itself when the span allows, else its rank among all times."""
    present = [t for t in times if len(t)]
    t0 = min(int(t.min()) for t in present) if present else 0
    span = max(int(t.max()) for t in present) - t0 + 1 if present else 1
    if (int(person.max(initial=0)) + 1) * span < 2**62:
        return np.int64(span), lambda t: t - t0
    every = np.unique(np.concatenate(times))
    return np.int64(len(every) + 1), lambda t: np.searchsorted(every, t).astype(np.int64)


def _sorted_touches(touches: TouchTable, key: Ints) -> Ints:
    """Touch rows sorted by (person, time, id) given their (person, time) key; duplicates of
    (person, time, id) dropped."""
    order = np.argsort(key, kind="stable").astype(np.int64)
    k = key[order]
    same = k[1:] == k[:-1]
    if same.any():
        # Ties in (person, time) are rare: settle them by id in Python, run by run.
        ids = touches.touchpoint_id[order]
        starts = np.flatnonzero(np.r_[True, ~same])
        ends = np.r_[starts[1:], len(order)]
        tied = np.flatnonzero(ends - starts > 1)
        keep = np.ones(len(order), dtype=bool)
        for r in tied:
            a, b = int(starts[r]), int(ends[r])
            run = sorted(range(a, b), key=lambda i: ids[i])
            order[a:b] = order[run]
            ids[a:b] = ids[run]
            for i in range(a + 1, b):
                keep[i] = ids[i] != ids[i - 1]
        order = order[keep]
    return order


def build_journeys(touches: TouchTable, conversions: ConversionTable,
                   lookback_ms: int = DEFAULT_LOOKBACK_MS) -> Journeys:
    """The journey of every conversion, vectorised (one sort, two binary searches)."""
    codes = _person_codes(np.concatenate([touches.person, conversions.person]))
    t_person, c_person = codes[: len(touches.person)], codes[len(touches.person):]
    lo_t = conversions.occurred_at - lookback_ms
    base, rank = _time_key(codes, (touches.occurred_at, conversions.occurred_at, lo_t))
    touch_key = t_person * base + rank(touches.occurred_at)
    order = _sorted_touches(touches, touch_key)
    key = touch_key[order]
    lo = np.searchsorted(key, c_person * base + rank(lo_t), side="left")
    hi = np.searchsorted(key, c_person * base + rank(conversions.occurred_at), side="right")
    lengths = hi - lo
    offsets = np.zeros(len(lo) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Element k of journey j is order[lo[j] + k].
    within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    touch = order[np.repeat(lo, lengths) + within]
    return Journeys(offsets, touch.astype(np.int64), order, t_person[order], c_person)


def non_converting(journeys: Journeys, touches: TouchTable,
                   conversions: ConversionTable) -> tuple[Ints, Ints]:
    """Each person's touchpoints after their last conversion (all of them if none), as CSR.

    Returns ``(offsets, touch)``: path ``i`` is touch rows ``touch[offsets[i]:offsets[i + 1]]``
    in time order. Touchpoints before a conversion but outside its lookback window belong to
    neither kind of path.
    """
    persons = int(max(journeys.touch_person.max(initial=-1), journeys.conversion_person.max(initial=-1))) + 1
    last = np.full(persons, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, journeys.conversion_person, conversions.occurred_at)
    order = journeys.touch_order
    sp = journeys.touch_person
    after = touches.occurred_at[order] > last[sp]
    rows, person = order[after], sp[after]
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]) if len(person) else np.zeros(0, np.int64)
    offsets = np.r_[starts, len(person)].astype(np.int64)
    return offsets, rows.astype(np.int64)
