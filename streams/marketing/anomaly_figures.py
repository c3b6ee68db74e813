"""The per-hour figures of the stream's incremental anomaly scores (``anomaly_columns``), as
``score_columns`` computes them, for many cells (one campaign's hour each) at once.

Invariants: every figure of a cell is a function of the counters of its hour and earlier
hours, and of the figures kept for earlier hours (its windows' expected numerators, its
trailing day sums); each is an elementwise or fixed-order computation, so a cell's figures
do not depend on the other cells computed with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from streams.marketing.anomaly_batch import _PLANES, stacked_components
from streams.marketing.anomaly_scoring import METRICS, AnomalyPolicy, Array, views_median

DAY_ROWS: Final = 11
_SPEND, _CPA, _ROAS = (METRICS.index(m) for m in ("spend", "cpa", "roas"))
_CPC, _CONVERSIONS, _CTR = (METRICS.index(m) for m in ("cpc", "conversions", "ctr"))


#: counter plane behind each metric's numerator (impressions, clicks, cost, conversions, value)
_NUM_PLANE: Final = np.array([_PLANES[m][0] for m in METRICS])


def hour_figures(policy: AnomalyPolicy, lagged: Array) -> tuple[Array, Array, Array]:
    """Per metric row (``metric * cells + cell``) of ``lagged`` (``(5, cells, 1 + lags)``:
    the hour, then its weekly and daily lags): the expected numerator of the hour and
    whether the same-hour-of-day fallback served; and the CPA count of the hour (per cell),
    as ``score_columns`` computes them."""
    p = policy
    cells = lagged.shape[1]
    lags = p.weeks
    num, den, vol = stacked_components(METRICS, lagged)
    min_volume = np.repeat([p.rules[m].min_volume for m in METRICS], cells)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((den[:, 1:] > 0) & (vol[:, 1:] >= min_volume), num[:, 1:] / den[:, 1:],
                        np.nan)
    base, count = views_median([rate[:, k] for k in range(lags)])
    short = count < p.min_weeks
    rows = np.flatnonzero(short)
    if rows.size:
        daily, dcount = views_median([rate[rows, lags + k] for k in range(p.days)])
        base[rows] = np.where(dcount >= p.min_days, daily, np.nan)
    expected = base * den[:, 0]
    cpa = slice(_CPA * cells, (_CPA + 1) * cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        count_hour = np.where(base[cpa] > 0, num[cpa, 0] / base[cpa], np.nan)
    return expected, short.astype(np.float64), count_hour


def day_sums(day: Array) -> Array:
    """``(DAY_ROWS, cells)`` sums of the 24 hours ``(5, cells, DAY)`` ending at each cell."""
    known = ~np.isnan(day)
    mixed = (known[2] != known[1]) | (known[3] != known[2])
    return np.concatenate([np.where(known, day, 0.0).sum(axis=2), np.count_nonzero(known, axis=2),
                           np.count_nonzero(mixed, axis=1)[None]])


def trailing(trail: Array, past: list[Array]) -> tuple[Array, Array]:
    """The level and unit of ``trailing_ratio`` over the previous ``scale_hours``, per metric
    row, from the day sums ``trail`` (``(DAY_ROWS, cells)``); ``past`` gives the counters of
    those hours (``(5, cells, scale_hours)``) where cost, clicks and conversions were not
    known together (rare: as reported, a row has all or none)."""
    cells = trail.shape[1]
    sums, seen, mixed = trail[:5], trail[5:10], trail[10]
    with np.errstate(divide="ignore", invalid="ignore"):
        level = (sums / seen)[_NUM_PLANE].reshape(-1)
        unit = np.ones(len(METRICS) * cells)
        for metric, top, bottom in ((_SPEND, 2, 1), (_ROAS, 3, 2)):
            unit[metric * cells:(metric + 1) * cells] = sums[top] / sums[bottom]
        odd = np.flatnonzero(mixed > 0)
        if odd.size:
            hours = past[0]
            for metric, top, bottom in ((_SPEND, 2, 1), (_ROAS, 3, 2)):
                unit[metric * cells + odd] = _both_ratio(hours[top], hours[bottom])
    return level, unit


def _both_ratio(top: Array, bottom: Array) -> Array:
    both = ~(np.isnan(top) | np.isnan(bottom))
    ratio: Array = np.where(both, top, 0.0).sum(axis=1) / np.where(both, bottom, 0.0).sum(axis=1)
    return ratio


@dataclass(slots=True)
class Window:
    """A window's figures at every cell of a group, per metric row."""

    obs: Array
    exp: Array
    den: Array
    count: Array
    resid: Array
    samp: Array
    change: Array


def windows(policy: AnomalyPolicy, pairs: tuple[tuple[int, int], ...], recent: Array,
            expected: Array, count_hour: Array, level: Array, unit: Array) -> dict[int, Window]:
    """Every window's figures at each cell: ``recent`` the counters of the last ``span``
    hours (``(5, cells, span)``), ``expected`` the expected numerators of those hours per
    metric row, ``count_hour`` the CPA counts per cell; as ``score_columns`` computes them."""
    p = policy
    cells = recent.shape[1]
    num, den, vol = stacked_components(METRICS, recent)
    rules = [p.rules[m] for m in METRICS]

    def per_row(values: list[float]) -> Array:
        return np.repeat(np.asarray(values, dtype=np.float64), cells)

    min_volume = per_row([r.min_volume for r in rules])
    min_expected = per_row([r.min_expected for r in rules])
    min_level = per_row([r.min_level for r in rules])
    factor = per_row([1.5 if m in ("spend", "roas") else 1.0 for m in METRICS])
    metric = np.repeat(np.arange(len(METRICS)), cells)
    lifted = np.nan_to_num(level, nan=np.inf)
    tiled = np.tile(count_hour[:, -policy_span(pairs):], (len(METRICS), 1))
    out: dict[int, Window] = {}
    for w in sorted({w for _, w in pairs}):
        used = [i for i, v in pairs if v == w]
        # only the rows of the metrics judged over ``w`` (the day window: conversions alone);
        # the others are NaN, which nothing reads
        rows: slice | Array = slice(None) if len(used) == len(METRICS) else np.concatenate(
            [np.arange(i * cells, (i + 1) * cells) for i in used])
        m = metric[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            obs, den_w, vol_w, exp, count_w = (
                x[rows, -w:].sum(axis=1) for x in (num, den, vol, expected, tiled))
            ok = (exp > 0) & (vol_w >= min_volume[rows]) & (exp >= min_expected[rows])
            ok &= (min_level[rows] <= 0) | (exp >= min_level[rows] * w * lifted[rows])
            count = np.select(
                [m == _SPEND, (m == _CONVERSIONS) | (m == _CTR), m == _CPC, m == _CPA],
                [exp / unit[rows], exp, den_w, count_w], den_w * unit[rows])
            count = np.maximum(np.nan_to_num(count, nan=0.0), 0.5)
            half = 0.5 * exp / count
            resid = np.where(ok, np.log((obs + half) / (exp + half)), np.nan)
            samp = np.where(ok, factor[rows] / count, np.nan)
            change = np.where(ok, obs / exp - 1.0, np.nan)
        figures: tuple[Array, ...] = (obs, exp, den_w, count, resid, samp, change)
        if not isinstance(rows, slice):
            figures = tuple(_spread(f, rows, len(metric)) for f in figures)
        out[w] = Window(*figures)
    return out


def policy_span(pairs: tuple[tuple[int, int], ...]) -> int:
    return max(w for _, w in pairs)


def _spread(values: Array, rows: Array, size: int) -> Array:
    full = np.full(size, np.nan)
    full[rows] = values
    return full
