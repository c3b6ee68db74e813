"""The purchase folds of a whole batch of new customers, from columns: ``rfm.absorb_new_fields``
of every profile at once, its loops compiled (numba, ``streams.kernel.compiled``).

A batch read into columns (``features_columns.ProfileColumns``) holds its purchase
interactions as spans of the batch's bytes. ``fold_new`` reads them for every profile with
one pass of ``_fold`` (a purchase counts when it has a value and a currency; an id seen before
in the profile counts once; occasions are UTC days, each day's value per currency summed in
the order written; the summary's currency is the one of most occasions, ties to the first
in text order) and makes in Python only what the state and the summary hold: the sorted ids,
the occasions' dicts and one ``RfmSummary`` per profile that bought, each text decoded once
for the batch.

Invariants:
- ``NewFolds.new(i)`` is ``absorb_new_fields(fields of profile i, its updated_at, unit)``:
  the same state (ids sorted, occasions and their currencies in the order first seen, the
  same float sums, added in the order written) and the same summary (the same floats: the
  same doubles divided, the mean summed in day order);
- ``fold_new`` returns None when a purchase that counts has a value that is not finite (the
  fold per profile raises there, and the caller takes it);
- pure: reads the columns, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from streams.kernel.compiled import jit
from streams.predictive.features_columns import ProfileColumns
from streams.predictive.rfm import (
    DAY_MS,
    UNIT_DAYS,
    Purchase,
    RfmState,
    RfmSummary,
    TimeUnit,
)

Ints = NDArray[np.int64]
#: columns of ``ProfileColumns.spans`` (one row per interaction)
(EVENT, EVENT_LEN, VALUE, CURRENCY, CURRENCY_LEN) = range(5)
#: what ``_fold`` gives per profile (``out``'s columns)
(_BOUGHT, _DAYS, _FIRST, _LAST, _MONEY, _BASKETS) = range(6)
_EIGHT: Final = np.arange(8, dtype=np.int64)


@jit
def _same(data: Any, a: int, b: int, n: int) -> bool:
    for k in range(n):  # noqa: SIM110 - a loop numba compiles
        if data[a + k] != data[b + k]:
            return False
    return True


@jit
def _codes(data: Any, start: Any, length: Any) -> tuple[Any, Any]:
    """Each currency's code (its first appearance among the distinct ones) and the distinct
    ones' rows."""
    code = np.empty(len(start), dtype=np.int64)
    first = np.empty(len(start), dtype=np.int64)
    distinct = 0
    for i in range(len(start)):
        c = -1
        for d in range(distinct):
            j = first[d]
            if length[j] == length[i] and _same(data, start[j], start[i], length[i]):
                c = d
                break
        if c < 0:
            c = distinct
            first[distinct] = i
            distinct += 1
        code[i] = c
    return code, first[:distinct]


@jit
def _fold(data: Any, seg: Any, event: Any, event_len: Any, day: Any, value: Any, code: Any,
          rank: Any, as_of_day: Any, n: int) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """Per purchase: kept (its id first in its profile); the occasions (profile, day,
    currency, sum) in the order first seen; per profile ``out`` and the repeat occasions'
    mean value."""
    m = len(seg)
    kept = np.zeros(m, dtype=np.bool_)
    occ_seg = np.empty(m, dtype=np.int64)
    occ_day = np.empty(m, dtype=np.int64)
    occ_code = np.empty(m, dtype=np.int64)
    occ_sum = np.empty(m, dtype=np.float64)
    out = np.zeros((n, 6), dtype=np.int64)
    mean = np.zeros(n, dtype=np.float64)
    counts = np.zeros(len(rank), dtype=np.int64)
    rows = 0
    a = 0
    while a < m:
        p = seg[a]
        b = a
        while b < m and seg[b] == p:
            b += 1
        first_row = rows
        for i in range(a, b):
            dup = False
            for j in range(a, i):
                if kept[j] and event_len[j] == event_len[i] and _same(
                        data, event[j], event[i], event_len[i]):
                    dup = True
                    break
            if dup:
                continue
            kept[i] = True
            found = -1
            day_seen = False
            for r in range(first_row, rows):
                if occ_day[r] == day[i]:
                    day_seen = True
                    if occ_code[r] == code[i]:
                        found = r
                        break
            if found < 0:
                occ_seg[rows], occ_day[rows], occ_code[rows] = p, day[i], code[i]
                # a day's first value as it is; another currency's on that day from 0.0, as
                # the fold adds it (0.0 + -0.0 is 0.0)
                occ_sum[rows] = 0.0 + value[i] if day_seen else value[i]
                out[p, _BASKETS] |= day_seen  # a day in more than one currency
                rows += 1
            else:
                occ_sum[found] = occ_sum[found] + value[i]
        # the summary: the distinct days up to the profile's instant, ascending
        days = np.unique(occ_day[first_row:rows])
        days = days[days <= as_of_day[p]]
        out[p, _BOUGHT] = 1
        out[p, _DAYS] = len(days)
        if len(days):
            counts[:] = 0
            for d in days:
                for r in range(first_row, rows):
                    if occ_day[r] == d:
                        counts[occ_code[r]] += 1
            money = 0
            for c in range(1, len(counts)):
                if counts[c] > counts[money] or (counts[c] == counts[money]
                                                 and rank[c] < rank[money]):
                    money = c
            total = 0.0
            repeats = 0
            for d in days[1:]:
                for r in range(first_row, rows):
                    if occ_day[r] == d and occ_code[r] == money:
                        total += occ_sum[r]
                        repeats += 1
            out[p, _FIRST], out[p, _LAST], out[p, _MONEY] = days[0], days[-1], money
            mean[p] = total / repeats if repeats else 0.0
        a = b
    return kept, occ_seg[:rows], occ_day[:rows], occ_code[:rows], occ_sum[:rows], out, mean


def compile_now() -> None:
    """Compile the kernels (or read them from numba's cache) now, not on the first batch
    (the batch reader calls this as it is made)."""
    empty, none = np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    _codes(empty, none, none)
    _fold(empty, none, none, none, none, np.zeros(0, dtype=np.float64), none, none, none, 0)


@dataclass(frozen=True, slots=True)
class NewFolds:
    """The batch's purchases, per profile: ``new(i)`` the fold of a customer who bought
    nothing before, ``fields(i)`` the purchases' fields for the exact fold of one who did."""

    columns: ProfileColumns
    index: Ints  # the purchase interactions, ascending
    bounds: list[int]  # profile i's purchases: index[bounds[i]:bounds[i + 1]]
    made: list[tuple[RfmState, RfmSummary | None] | None]

    def new(self, i: int) -> tuple[RfmState, RfmSummary | None] | None:
        return self.made[i]

    def fields(self, i: int) -> list[Purchase]:
        a, b = self.bounds[i], self.bounds[i + 1]
        return self.columns.purchases(self.index[a:b]) if b > a else []


def fold_new(c: ProfileColumns, index: Ints, unit: TimeUnit) -> NewFolds | None:
    """``absorb_new_fields`` of each profile's purchase interactions (``index``: those of the
    batch, ascending), or None when one that counts has a value that is not finite."""
    n = len(c.person_id)
    spans = c.spans[index]
    seg = c.profile[index]
    bounds = np.searchsorted(seg, np.arange(n + 1)).tolist()
    counted = (spans[:, VALUE] >= 0) & (spans[:, CURRENCY_LEN] > 0)
    spans, seg, at = spans[counted], seg[counted], c.occurred_at[index][counted]
    data, buf = c.blob, np.frombuffer(c.blob, dtype=np.uint8)
    # each value from its 8 bytes, as the decoder reads them (little-endian doubles)
    value = buf[spans[:, VALUE, None] + _EIGHT].view("<f8").ravel() if len(spans) \
        else np.zeros(0, dtype=np.float64)
    if not np.isfinite(value).all():
        return None
    code, distinct = _codes(buf, spans[:, CURRENCY], spans[:, CURRENCY_LEN])
    currencies = [data[s:s + k].decode() for s, k in
                  spans[distinct][:, [CURRENCY, CURRENCY_LEN]].tolist()]
    rank = np.empty(len(currencies), dtype=np.int64)
    rank[sorted(range(len(currencies)), key=currencies.__getitem__)] = np.arange(len(currencies))
    as_of_day = c.updated_at // DAY_MS
    kept, occ_seg, occ_day, occ_code, occ_sum, out, mean = _fold(
        buf, seg, spans[:, EVENT], spans[:, EVENT_LEN], at // DAY_MS, value, code, rank,
        as_of_day, n)
    made: list[tuple[RfmState, RfmSummary | None] | None] = [None] * n
    # the texts each profile's state holds, made for the batch at once, then sliced
    ids = [data[s:s + k].decode() for s, k in spans[kept][:, [EVENT, EVENT_LEN]].tolist()]
    id_at = np.searchsorted(seg[kept], np.arange(n + 1)).tolist()
    occ_at = np.searchsorted(occ_seg, np.arange(n + 1)).tolist()
    days, codes = list(map(str, occ_day.tolist())), list(map(currencies.__getitem__,
                                                             occ_code.tolist()))
    sums = occ_sum.tolist()
    single = [{k: v} for k, v in zip(codes, sums, strict=True)]  # used when one a day
    per_unit = UNIT_DAYS[unit]
    first, last = out[:, _FIRST], out[:, _LAST]
    # Python's int / float: the int as a double, then divided (as numpy does it)
    recency, age = ((last - first) / per_unit).tolist(), ((as_of_day - first) / per_unit).tolist()
    for p, count, money, baskets, worth in zip(
            np.flatnonzero(out[:, _BOUGHT]).tolist(), *out[out[:, _BOUGHT] > 0][
                :, [_DAYS, _MONEY, _BASKETS]].T.tolist(), mean[out[:, _BOUGHT] > 0].tolist(),
            strict=True):
        a, b = occ_at[p], occ_at[p + 1]
        if baskets:
            occasions: dict[str, dict[str, float]] = {}
            for d, k, v in zip(days[a:b], codes[a:b], sums[a:b], strict=True):
                occasions.setdefault(d, {})[k] = v
        else:  # one currency a day: each occasion its one entry
            occasions = dict(zip(days[a:b], single[a:b], strict=True))
        state: RfmState = {"ids": sorted(ids[id_at[p]:id_at[p + 1]]), "occasions": occasions}
        made[p] = (state, RfmSummary(count - 1, recency[p], age[p], worth, currencies[money],
                                     unit) if count else None)
    return NewFolds(c, index, bounds, made)
