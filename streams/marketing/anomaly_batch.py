"""The screened paths: many series scored at once, screened first.

``screen`` tells, for columns ``t >= first`` of ``(series, hours)`` arrays whose rows may be
of different metrics, which windows could possibly alert; ``score_latest`` (the scheduled
path: the newest hour of many series) computes the full score (baselines and pooled scales
over the previous ``scale_hours``) only there. (The stream keeps its per-hour figures instead:
``anomaly_columns``.) Most hours of most campaigns are ordinary, so the bulk of the
work is a few sums per series and hour.

Invariant: a cell the screen rejects gets severity 0 from ``score_columns`` on the same arrays.
A window can only alert when it passes its volume gates, its log ratio reaches
``log1p(min_change)``, and an upper bound of its ``|z|`` reaches ``warn_z``: the exact residual
(with its half-count correction) is never larger than ``|log(observed / expected)|``, the exact
sigma never smaller than the counting and floor terms, and the count test never larger than
its value without excess noise. ``stacked_components`` builds the rows of several metrics at
once, equal to ``components``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from streams.marketing.anomaly_scoring import (
    COUNT_TESTED,
    DEFAULT_POLICY,
    METRICS,
    AnomalyPolicy,
    Array,
    Metric,
    Scores,
    score_columns,
    trailing_ratio,
    views_median,
)

_SPEND, _CPC, _CPA, _ROAS = (METRICS.index(m) for m in ("spend", "cpc", "cpa", "roas"))


#: counter planes (impressions, clicks, cost, conversions, value, and ``ones``: 1 where cost
#: is known) behind each metric's numerator, denominator and volume, as ``components``
_PLANES: Final[dict[Metric, tuple[int, int, int]]] = {
    "spend": (2, 5, 1), "conversions": (3, 5, 3), "ctr": (1, 0, 0),
    "cpc": (2, 1, 1), "cpa": (2, 3, 3), "roas": (4, 2, 3),
}


def stacked_components(metrics: Sequence[Metric], counters: Array) -> tuple[Array, Array, Array]:
    """``(num, den, volume)`` of ``(5, series, hours)`` counters for every metric of
    ``metrics`` in turn, stacked: rows ``i * series .. (i + 1) * series`` are ``metrics[i]``'s,
    equal to ``components(metrics[i], *counters)``."""
    ones = np.where(np.isnan(counters[2]), np.nan, 1.0)
    planes = np.concatenate([counters, ones[None]])
    width = counters.shape[2]
    index = np.array([_PLANES[m] for m in metrics]).T
    return tuple(planes[i].reshape(-1, width) for i in index)  # type: ignore[return-value]


def _lagged_rate(num: Array, den: Array, volume: Array, min_volume: Array, lo: int, end: int,
                 lag: int) -> Array:
    """The rate of columns ``[lo - lag, end - lag)``, NaN before column 0 and below volume."""
    a, b = lo - lag, end - lag
    out = np.full((num.shape[0], end - lo), np.nan)
    if b <= 0:
        return out
    cut = max(a, 0)
    n, d, v = num[:, cut:b], den[:, cut:b], volume[:, cut:b]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, cut - a:] = np.where((d > 0) & (v >= min_volume), n / d, np.nan)
    return out


def _baseline(num: Array, den: Array, volume: Array, min_volume: Array, lo: int,
              policy: AnomalyPolicy) -> Array:
    """``seasonal_baseline`` of columns ``[lo, end)``, reading only the lagged columns."""
    end = num.shape[1]
    weekly, count = views_median([_lagged_rate(num, den, volume, min_volume, lo, end,
                                                policy.season * k)
                                  for k in range(1, policy.weeks + 1)])
    short = count < policy.min_weeks
    rows = np.flatnonzero(np.any(short, axis=1))
    if rows.size:
        # only the columns the daily lags read: copying whole rows cost more than the rest
        cut = max(lo - policy.short_season * policy.days, 0)
        args = (num[rows, cut:], den[rows, cut:], volume[rows, cut:], min_volume[rows])
        daily, dcount = views_median([_lagged_rate(*args, lo - cut, end - cut,
                                                   policy.short_season * k)
                                      for k in range(1, policy.days + 1)])
        daily = np.where(dcount >= policy.min_days, daily, np.nan)
        weekly[rows] = np.where(short[rows], daily, weekly[rows])
    return weekly


def _window(values: Array, w: int, span: int) -> Array:
    """Sums of the ``w`` columns ending at each column from ``span - 1`` on; NaN when one is
    missing (as ``anomaly_scoring._window_sum``)."""
    n = values.shape[1]
    filled = np.nan_to_num(values, nan=0.0)
    missing = np.isnan(values)
    zero = np.zeros((values.shape[0], 1))
    csum = np.concatenate([zero, np.cumsum(filled, axis=1)], axis=1)
    cmiss = np.concatenate([zero, np.cumsum(missing, axis=1)], axis=1)
    hi = np.arange(span, n + 1)
    total = csum[:, hi] - csum[:, hi - w]
    return np.where(cmiss[:, hi] - cmiss[:, hi - w] > 0, np.nan, total)


def screen(metrics: Sequence[Metric], num: Array, den: Array, volume: Array, first: int,
           policy: AnomalyPolicy = DEFAULT_POLICY) -> NDArray[np.bool_]:
    """``(series, cols - first)``: whether the window ending at column ``t >= first`` of row
    ``i`` (of metric ``metrics[i]``) could alert; see the module docstring. Empty windows
    divide by zero: those warnings are silenced."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _screen(metrics, num, den, volume, first, policy)


def _screen(metrics: Sequence[Metric], num: Array, den: Array, volume: Array, first: int,
            policy: AnomalyPolicy) -> NDArray[np.bool_]:
    index = np.array([METRICS.index(m) for m in metrics])
    rules = [policy.rules[m] for m in METRICS]

    def per_row(values: Sequence[float]) -> Array:
        out: Array = np.asarray(values, dtype=np.float64)[index][:, None]
        return out

    min_volume = per_row([r.min_volume for r in rules])
    min_expected = per_row([r.min_expected for r in rules])
    min_level = per_row([r.min_level for r in rules])
    is_row = [(index == i)[:, None] for i in range(len(METRICS))]
    windows = sorted({w for m in set(metrics) for w in policy.windows_of(m)})
    span = max(windows)
    n_cols = num.shape[1]
    lo = first - span + 1
    base = _baseline(num, den, volume, min_volume, lo, policy)
    tail_num, tail_den, tail_vol = num[:, lo:], den[:, lo:], volume[:, lo:]
    expected = base * tail_den
    back = max(first - policy.scale_hours, 0)
    known = np.where(np.isnan(num[:, back:]), np.nan, 1.0)
    level = np.nan_to_num(trailing_ratio(num[:, back:], known, policy.scale_hours, first - back),
                          nan=np.inf)
    unit = np.ones((num.shape[0], n_cols - first))
    for row, top, bottom in ((_SPEND, num, volume), (_ROAS, volume, den)):
        rows = np.flatnonzero(index == row)
        if rows.size:
            unit[rows] = trailing_ratio(top[rows, back:], bottom[rows, back:],
                                        policy.scale_hours, first - back)
    count_hour = np.where(is_row[_CPA] & (base > 0), tail_num / base,
                          np.where(is_row[_CPA], np.nan, tail_num))
    factor = per_row([1.5 if m in ("spend", "roas") else 1.0 for m in METRICS])
    tested = np.isin(index, [METRICS.index(m) for m in COUNT_TESTED])[:, None]
    gate = np.log1p(policy.min_change)
    candidate = np.zeros((num.shape[0], n_cols - first), dtype=bool)
    for w in windows:
        uses = per_row([1.0 if w in policy.windows_of(m) else 0.0 for m in METRICS]) > 0
        obs, exp = _window(tail_num, w, span), _window(expected, w, span)
        den_w, vol_w = _window(tail_den, w, span), _window(tail_vol, w, span)
        ok = uses & (exp > 0) & (vol_w >= min_volume) & (exp >= min_expected)
        ok &= (min_level <= 0) | (exp >= min_level * w * level)
        count = np.select(
            [is_row[_SPEND], is_row[_CPC] | is_row[_ROAS], is_row[_CPA]],
            [exp / unit, den_w * np.where(is_row[_ROAS], unit, 1.0),
             _window(count_hour, w, span)], exp)
        count = np.maximum(np.nan_to_num(count, nan=0.0), 0.5)
        ratio = np.abs(np.log(obs / exp))
        bound = ratio / np.sqrt(factor / count + policy.scale_floor**2)
        seen = np.select([is_row[_CPA], is_row[_SPEND]], [den_w, obs / unit], obs)
        root = 2.0 * np.abs(np.sqrt(np.maximum(seen, 0.0) + 0.375) - np.sqrt(count + 0.375))
        bound = np.where(tested, np.minimum(bound, root / np.sqrt(factor)), bound)
        candidate |= ok & ~(ratio < gate) & ~(bound < policy.warn_z)
    return candidate


def score_latest(metric: Metric, num: Array, den: Array, volume: Array,
                 policy: AnomalyPolicy = DEFAULT_POLICY) -> Scores:
    """Score the last column of many series (the scheduled path), screening first: series that
    ``screen`` rejects are settled cheaply (severity 0, other fields NaN); the rest get the full
    ``score_columns``, so severities equal those of ``score_columns`` on the same arrays."""
    n_series, n_cols = num.shape
    candidate = screen([metric] * n_series, num, den, volume, n_cols - 1, policy)[:, 0]
    shape = (n_series, 1)
    out = Scores(np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan),
                 np.full(shape, np.nan), severity=np.zeros(shape, np.int8), window=np.zeros(shape, np.int16))
    rows = np.flatnonzero(candidate)
    if rows.size:
        full = score_columns(metric, num[rows], den[rows], volume[rows], n_cols - 1, policy)
        for name in ("z", "change", "value", "baseline", "severity", "window"):
            getattr(out, name)[rows] = getattr(full, name)
    return out
