"""Readable reason codes from per-feature contributions (LightGBM ``pred_contrib``).

Invariants: a contribution is in log-odds of the raw model, before calibration; calibration
is monotone, so a feature that pushes the log-odds up pushes the score up. Positive drivers
are the largest contributions above ``min_effect``, negative drivers the most negative ones
below ``-min_effect``, at most ``top_k`` of each, strongest first. Every feature has a code:
one without a mapping gets ``FEATURE_NAME`` and a plain "name is value" text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, cast

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ReasonCode:
    """A code and text templates; ``{value}`` is the row's (unclipped) feature value."""

    code: str
    positive: str  # text when the feature raises the score
    negative: str | None = None  # text when it lowers it; the positive text if None


@dataclass(frozen=True)
class Reason:
    feature: str
    code: str
    text: str
    value: float
    contribution: float  # log-odds; > 0 raises the score


def format_value(value: float) -> str:
    if math.isnan(value):
        return "unknown"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def default_code(feature: str) -> ReasonCode:
    return ReasonCode(feature.upper(), f"{feature} is {{value}}")


def reason_codes_for(names: Sequence[str], mapping: Mapping[str, ReasonCode]) -> tuple[ReasonCode, ...]:
    unknown = set(mapping) - set(names)
    if unknown:
        raise ValueError(f"reason codes for features the model does not have: {sorted(unknown)}")
    return tuple(mapping.get(name) or default_code(name) for name in names)


@lru_cache(maxsize=65_536)  # feature values repeat (counts, flags): format each text once
def _cached_text(template: str, value: float) -> str:
    return template.format(value=format_value(value))


def _text(template: str, value: float) -> str:
    # every NaN is its own key to a cache (NaN != NaN): the one math.nan object is one key
    return _cached_text(template, value if value == value else math.nan)


def _pick_arrays(contributions: NDArray[np.float64], top_k: int, min_effect: float
                 ) -> tuple[int, NDArray[np.intp], NDArray[np.intp], NDArray[np.intp],
                            NDArray[np.float64]]:
    """Per row, the k largest then the k smallest contributions past ``min_effect``, by one
    vectorised sort: (k, row, slot, feature, contribution), row-major, each row's picks in
    rank order (slot < k: positive)."""
    k = min(top_k, contributions.shape[1])
    order = np.argsort(contributions, axis=1, kind="stable")
    picks = np.concatenate([order[:, ::-1][:, :k], order[:, :k]], axis=1)
    picked = np.take_along_axis(contributions, picks, axis=1)
    keep = np.concatenate([picked[:, :k] > min_effect, picked[:, k:] < -min_effect], axis=1)
    row, slot = np.nonzero(keep)
    return k, row, slot, picks[row, slot], picked[row, slot]


def _picks(contributions: NDArray[np.float64], top_k: int, min_effect: float
           ) -> tuple[int, list[int], list[int], list[int], list[float]]:
    """``_pick_arrays`` as lists."""
    k, row, slot, feature, contribution = _pick_arrays(contributions, top_k, min_effect)
    return k, row.tolist(), slot.tolist(), feature.tolist(), contribution.tolist()


def top_reasons(names: Sequence[str], codes: Sequence[ReasonCode], values: NDArray[np.float64],
                contributions: NDArray[np.float64], top_k: int = 3, min_effect: float = 0.01
                ) -> list[tuple[tuple[Reason, ...], tuple[Reason, ...]]]:
    """(positive, negative) reasons per row; ``contributions`` is (rows, features), no bias column."""
    k, row, slot, feature, contribution = _picks(contributions, top_k, min_effect)
    positive_text = [c.positive for c in codes]
    negative_text = [c.negative or c.positive for c in codes]
    code_of = [c.code for c in codes]
    up: list[list[Reason]] = [[] for _ in range(contributions.shape[0])]
    down: list[list[Reason]] = [[] for _ in range(contributions.shape[0])]
    for i, s, j, c, v in zip(row, slot, feature, contribution, values[row, feature].tolist(),
                             strict=True):
        if s < k:
            up[i].append(Reason(names[j], code_of[j], _text(positive_text[j], v), v, c))
        else:
            down[i].append(Reason(names[j], code_of[j], _text(negative_text[j], v), v, c))
    return [(tuple(u), tuple(d)) for u, d in zip(up, down, strict=True)]


#: per reason codes, per feature, the line of each value seen, one table for raising and one
#: for lowering: text is made once per distinct (code, value) and found by two dict lookups
#: (a value repeats across people: counts, flags, recencies in whole days). NaN is the one
#: ``math.nan`` object, found by identity. A table is emptied at ``_LINES_LIMIT`` entries.
_LINES: dict[tuple[ReasonCode, ...], tuple[list[dict[float, str]], list[dict[float, str]]]] = {}
_LINES_LIMIT: Final = 65_536


def _line(code: str, template: str, value: float) -> str:
    return f"{code}: {template.format(value=format_value(value))}"


def _tables(codes: Sequence[ReasonCode]
            ) -> tuple[list[dict[float, str]], list[dict[float, str]]]:
    key = tuple(codes)
    tables = _LINES.get(key)
    if tables is None:
        if len(_LINES) >= 64:  # model versions come and go: keep the few in use
            _LINES.clear()
        tables = _LINES[key] = ([{} for _ in key], [{} for _ in key])
    return tables


def _fill(codes: Sequence[ReasonCode], tables: list[dict[float, str]], t: int, v: float
          ) -> str:
    """The line of table ``t`` (a feature's raising table, or lowering at ``len(codes)`` on)
    for ``v``, made and kept when not there yet."""
    if v != v:
        v = math.nan  # the one NaN object the tables know
    table = tables[t]
    line = table.get(v)
    if line is None:
        c = codes[t % len(codes)]
        line = _line(c.code, c.positive if t < len(codes) else c.negative or c.positive, v)
        if len(table) >= _LINES_LIMIT:
            table.clear()
        table[v] = line
    return line


def reason_lines(codes: Sequence[ReasonCode], values: NDArray[np.float64],
                 contributions: NDArray[np.float64], top_k: int = 3, min_effect: float = 0.01
                 ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """``top_reasons`` as the stream writes them, ``"CODE: text"`` per reason: (positive,
    negative) per row, the same picks in the same order, without a ``Reason`` per pick. The
    picks' lines are found in one pass in pick order, then cut per row: a row's picks are
    contiguous, its positive ones first."""
    k, row, slot, feature, _ = _pick_arrays(contributions, top_k, min_effect)
    rows = contributions.shape[0]
    raising, lowering = _tables(codes)
    tables = raising + lowering  # feature j's raising table at j, its lowering at F + j
    which = (feature + len(codes) * (slot >= k)).tolist()
    values_at = values[row, feature].tolist()
    nan = math.nan  # the one NaN object the tables know (a NaN is found by identity)
    found = [tables[t].get(v if v == v else nan) for t, v in zip(which, values_at, strict=True)]
    for n, line in enumerate(found):
        if line is None:  # a value not seen yet
            found[n] = _fill(codes, tables, which[n], values_at[n])
    lines = cast(list[str], found)
    ends = np.cumsum(np.bincount(row, minlength=rows)).tolist()
    cuts = (np.bincount(row[slot < k], minlength=rows) + ends - np.bincount(row, minlength=rows)
            ).tolist()  # where each row's negative picks start
    starts = [0, *ends][:-1]
    return ([tuple(lines[a:b]) for a, b in zip(starts, cuts, strict=True)],
            [tuple(lines[a:b]) for a, b in zip(cuts, ends, strict=True)])
