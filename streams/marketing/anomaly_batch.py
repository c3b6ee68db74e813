"""The screened paths: many series scored at once, screened first.

``screen`` tells, for columns ``t >= first`` of ``(series, hours)`` arrays whose rows may be
of different metrics, which windows could possibly alert; ``score_latest`` (the scheduled
path: the newest hour of many series) and the stream (``anomaly_stage``: the hours a batch
touches) compute the full score (baselines and pooled scales over the previous
``scale_hours``) only there. Most hours of most campaigns are ordinary, so the bulk of the
work is a few sums per series and hour.

Invariant: a cell the screen rejects gets severity 0 from ``score_columns`` on the same arrays.
A window can only alert when it passes its volume gates, its log ratio reaches
``log1p(min_change)``, and an upper bound of its ``|z|`` reaches ``warn_z``: the exact residual
(with its half-count correction) is never larger than ``|log(observed / expected)|``, the exact
sigma never smaller than the counting, floor and same-hour-of-day fallback terms, and the count
test never larger than its value without excess noise. ``stacked_components`` builds the rows
of several metrics at once, equal to ``components``.
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
              policy: AnomalyPolicy) -> tuple[Array, NDArray[np.bool_]]:
    """``seasonal_baseline`` of columns ``[lo, end)``, reading only the lagged columns; and
    where the same-hour-of-day fallback served."""
    end = num.shape[1]
    weekly, count = views_median([_lagged_rate(num, den, volume, min_volume, lo, end,
                                                policy.season * k)
                                  for k in range(1, policy.weeks + 1)])
    short = count < policy.min_weeks
    rows = np.flatnonzero(np.any(short, axis=1))
    if rows.size:
        args = (num[rows], den[rows], volume[rows], min_volume[rows])
        daily, dcount = views_median([_lagged_rate(*args, lo, end, policy.short_season * k)
                                      for k in range(1, policy.days + 1)])
        daily = np.where(dcount >= policy.min_days, daily, np.nan)
        weekly[rows] = np.where(short[rows], daily, weekly[rows])
    return weekly, short


def _windows(values: Array, windows: Sequence[int], span: int) -> list[Array]:
    """Per window ``w``: sums of the ``w`` columns (last axis) ending at each column from
    ``span - 1`` on; NaN when one is missing (as ``anomaly_scoring._window_sum``, whose
    running sums these are, added in the same order)."""
    n = values.shape[-1]
    zero = np.zeros((*values.shape[:-1], 1))
    csum = np.concatenate([zero, np.cumsum(np.nan_to_num(values, nan=0.0), axis=-1)], axis=-1)
    cmiss = np.concatenate([zero, np.cumsum(np.isnan(values), axis=-1)], axis=-1)
    hi = np.arange(span, n + 1)
    return [np.where(cmiss[..., hi] - cmiss[..., hi - w] > 0, np.nan,
                     csum[..., hi] - csum[..., hi - w]) for w in windows]


def _rules_table(policy: AnomalyPolicy, windows: Sequence[int]) -> Array:
    """Per metric (rows in ``METRICS`` order): min_volume, min_expected, min_level, the spread
    factor of one count, whether counts are tested, then whether each window judges it."""
    return np.array([[r.min_volume, r.min_expected, r.min_level,
                      1.5 if m in ("spend", "roas") else 1.0, float(m in COUNT_TESTED),
                      *(float(w in policy.windows_of(m)) for w in windows)]
                     for m, r in ((m, policy.rules[m]) for m in METRICS)])


def screen(metrics: Sequence[Metric], num: Array, den: Array, volume: Array, first: int,
           policy: AnomalyPolicy = DEFAULT_POLICY) -> NDArray[np.bool_]:
    """``(series, cols - first)``: whether the window ending at column ``t >= first`` of row
    ``i`` (of metric ``metrics[i]``) could alert; see the module docstring. Empty windows
    divide by zero: those warnings are silenced."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _screen(metrics, num, den, volume, first, policy)


def _screen(metrics: Sequence[Metric], num: Array, den: Array, volume: Array, first: int,
            policy: AnomalyPolicy) -> NDArray[np.bool_]:
    # Few, large numpy calls: in the stream the arrays are small and the calls' fixed cost
    # dominates, so row kinds are masks over all rows and quantities are stacked.
    index = np.array([METRICS.index(m) for m in metrics])
    windows = sorted({w for m in set(metrics) for w in policy.windows_of(m)})
    rules = _rules_table(policy, windows)[index]
    min_volume, min_expected, min_level, factor, tested = (rules[:, k:k + 1] for k in range(5))
    kind = index[:, None]
    is_spend, is_roas, is_cpa = (kind == METRICS.index(m) for m in ("spend", "roas", "cpa"))
    is_cpc = kind == METRICS.index("cpc")
    span = max(windows)
    n_rows, n_cols = num.shape
    lo = first - span + 1
    base, short = _baseline(num, den, volume, min_volume, lo, policy)
    tail_num, tail_den, tail_vol = num[:, lo:], den[:, lo:], volume[:, lo:]
    # the typical hour (the yardstick of min_level) and the size of one counted unit (cost
    # per click for spend, conversions per unit of cost for ROAS), in one running ratio
    back = max(first - policy.scale_hours, 0)
    known = np.where(np.isnan(num[:, back:]), np.nan, 1.0)
    unit_top = np.where(is_spend, num[:, back:], volume[:, back:])
    unit_bottom = np.where(is_spend, volume[:, back:], den[:, back:])
    ratios = trailing_ratio(np.concatenate([num[:, back:], unit_top]),
                            np.concatenate([known, unit_bottom]), policy.scale_hours,
                            first - back)
    level = np.nan_to_num(ratios[:n_rows], nan=np.inf)
    unit = np.where(is_spend | is_roas, ratios[n_rows:], 1.0)
    count_hour = np.where(is_cpa & (base > 0), tail_num / base,
                          np.where(is_cpa, np.nan, tail_num))
    sums = _windows(np.stack([tail_num, base * tail_den, tail_den, tail_vol, count_hour]),
                    windows, span)
    # the same-hour-of-day fallback widens every score of its hour (``score_columns``)
    floor = policy.scale_floor**2 + np.where(short[:, span - 1:], policy.fallback_scale**2, 0.0)
    gate = np.log1p(policy.min_change)
    candidate = np.zeros((n_rows, n_cols - first), dtype=bool)
    for k, (w, (obs, exp, den_w, vol_w, count_w)) in enumerate(zip(windows, sums, strict=True)):
        ok = (rules[:, 5 + k:6 + k] > 0) & (exp > 0) & (vol_w >= min_volume)
        ok &= (exp >= min_expected) & ((min_level <= 0) | (exp >= min_level * w * level))
        count = np.where(is_spend, exp / unit, np.where(
            is_cpc | is_roas, den_w * np.where(is_roas, unit, 1.0), np.where(is_cpa, count_w, exp)))
        count = np.maximum(np.nan_to_num(count, nan=0.0), 0.5)
        ratio = np.abs(np.log(obs / exp))
        bound = ratio / np.sqrt(factor / count + floor)
        seen = np.where(is_cpa, den_w, np.where(is_spend, obs / unit, obs))
        root = 2.0 * np.abs(np.sqrt(np.maximum(seen, 0.0) + 0.375) - np.sqrt(count + 0.375))
        bound = np.where(tested > 0, np.minimum(bound, root / np.sqrt(factor)), bound)
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
