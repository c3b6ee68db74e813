"""Vectorised robust scoring of hourly campaign metrics against a seasonal baseline.

The arrays are ``(series, hours)``, float64, one column per consecutive hour; NaN marks an hour
that was not reported. ``score_columns`` scores every column from ``first`` on and is the one
implementation behind the streaming fold (one series, one column), the scheduled batch
(``anomaly_batch``: many series, the last column) and the quality evaluation (every column).

Invariants:
- Causal: the baseline and the noise scale of column ``t`` use only columns before ``t``; the
  observation is the window of the last ``w`` hours ending at ``t`` (``w`` in the metric's
  windows: 1 and 6 hours, and 24 for conversions so that small campaigns' tracking breaks show).
- Every metric is a sum ratio ``num / den`` (counts have ``den = 1``), so a window's expected
  numerator is ``sum(baseline_j * den_j)``: a CTR is judged on the clicks its impressions should
  have brought, never on a ratio of two small numbers.
- Baseline of hour ``j``: median of the same hour of week over the last ``weeks`` weeks or, with
  fewer than ``min_weeks`` of them, of the same hour of day over the last ``days`` days (scores
  on that fallback get ``fallback_scale`` more noise: it mixes weekdays and weekends). Hours
  below the metric's volume floor do not enter a ratio baseline.
- Residual: ``log((observed + h) / (expected + h))`` with ``h`` half a counted unit, symmetric
  for spikes and drops and finite at zero. Its sigma adds, in quadrature, counting noise at the
  current volume (Poisson on the count behind the metric: clicks for spend and CTR, conversions
  for CPA, ROAS and conversions, clicks for CPC), the campaign's excess noise and a floor.
- Excess noise (robust, pooled): ``1.4826 * MAD`` of the same window's residuals over the
  previous ``scale_hours``, less their median counting variance. Four same-hour points are too
  few for a scale, while a campaign's relative noise is steady across hours: pooling a week
  gives a stable, outlier-proof figure that also absorbs autocorrelation (it is measured on
  windows of the same length).
- Counts are also tested on their own scale (Anscombe's root of a Poisson count), and the
  smaller ``|z|`` of the two tests wins: 4 expected conversions and none seen is a 2 % event,
  which the log ratio alone would overstate.
- A window is judged only with enough volume (``MetricRule``) and alerts only with a change of
  at least ``min_change``; severity 2 (critical, ``|z| >= critical_z``) beats 1 (warning,
  ``|z| >= warn_z``), then the larger ``|z|``; ``z > 0`` means up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

Metric = Literal["spend", "ctr", "cpc", "cpa", "conversions", "roas"]
METRICS: Final[tuple[Metric, ...]] = ("spend", "ctr", "cpc", "cpa", "conversions", "roas")
RATIO_METRICS: Final[frozenset[Metric]] = frozenset({"ctr", "cpc", "cpa", "roas"})
COUNT_TESTED: Final[frozenset[Metric]] = frozenset({"spend", "conversions", "ctr", "cpa"})
HOURS_PER_WEEK: Final = 168
HOURS_PER_DAY: Final = 24
MAD_TO_SIGMA: Final = 1.4826
Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MetricRule:
    """When a window of one metric has enough volume to be judged.

    ``min_volume`` applies to the metric's volume count (impressions for CTR, clicks for CPC,
    conversions for CPA and ROAS); ``min_expected`` to the expected numerator (clicks for CTR,
    conversions for the conversion count); ``min_level`` to the expected numerator as a share of
    the series' typical hour times the window, so night hours of a count metric are not judged
    on a handful of units.
    """

    min_volume: float = 0.0
    min_expected: float = 0.0
    min_level: float = 0.0
    windows: tuple[int, ...] | None = None


DEFAULT_RULES: Final[dict[Metric, MetricRule]] = {
    "spend": MetricRule(min_level=0.15),
    # A day-long window lets a tracking break of a small campaign show within a day.
    "conversions": MetricRule(min_expected=4.0, min_level=0.15, windows=(1, 6, 24)),
    "ctr": MetricRule(min_volume=200.0, min_expected=15.0),
    "cpc": MetricRule(min_volume=20.0),
    "cpa": MetricRule(min_volume=5.0),
    "roas": MetricRule(min_volume=5.0),
}


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    """Thresholds of the detector; one frozen object, defaults tuned on the simulator."""

    # Columns per season (an hour of week) and per fallback season (an hour of day); other
    # periods serve series that are not hourly campaign metrics (the public benchmark).
    season: int = HOURS_PER_WEEK
    short_season: int = HOURS_PER_DAY
    weeks: int = 4
    min_weeks: int = 2
    days: int = 7
    min_days: int = 3
    scale_hours: int = 168
    min_scale_points: int = 24
    default_scale: float = 0.3
    scale_floor: float = 0.03
    fallback_scale: float = 0.25
    windows: tuple[int, ...] = (1, 6)
    warn_z: float = 4.5
    critical_z: float = 8.0
    min_change: float = 0.25
    cooldown_hours: int = 6
    max_lateness_hours: int = 72
    rules: dict[Metric, MetricRule] = field(default_factory=lambda: dict(DEFAULT_RULES))

    @property
    def lookback_hours(self) -> int:
        """Columns of history one score needs before its own column."""
        lag = max(self.weeks * self.season, self.days * self.short_season)
        longest = max(max(r.windows or self.windows) for r in self.rules.values())
        return lag + self.scale_hours + max(longest, *self.windows)

    def windows_of(self, metric: Metric) -> tuple[int, ...]:
        """Window lengths (hours) that ``metric`` is judged over."""
        return self.rules[metric].windows or self.windows


DEFAULT_POLICY: Final = AnomalyPolicy()


@dataclass(frozen=True, slots=True)
class Scores:
    """Per series and scored column: the decisive window's figures (NaN/0 when not judged)."""

    z: Array
    change: Array
    value: Array
    baseline: Array
    severity: NDArray[np.int8]
    window: NDArray[np.int16]


def components(metric: Metric, impressions: Array, clicks: Array, cost: Array,
               conversions: Array, value: Array) -> tuple[Array, Array, Array]:
    """``(num, den, volume)`` of a metric from the raw counters (any equal shapes)."""
    ones = np.where(np.isnan(cost), np.nan, 1.0)
    match metric:
        case "spend":
            return cost, ones, clicks
        case "conversions":
            return conversions, ones, conversions
        case "ctr":
            return clicks, impressions, impressions
        case "cpc":
            return cost, clicks, clicks
        case "cpa":
            return cost, conversions, conversions
        case "roas":
            return value, cost, conversions
    raise ValueError(metric)  # pragma: no cover


def _sorted_median(stack: Array) -> tuple[Array, NDArray[np.int64]]:
    """Median along the last axis ignoring NaN (sorted to the end), and the valid count."""
    ordered = np.sort(stack, axis=-1)
    count = np.sum(~np.isnan(stack), axis=-1)
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.maximum(count // 2, 0)[..., None]
    with np.errstate(invalid="ignore"):
        med = 0.5 * (np.take_along_axis(ordered, lo, -1) + np.take_along_axis(ordered, hi, -1))[..., 0]
    return np.where(count > 0, med, np.nan), count


def _lag_views(rate: Array, first: int, step: int, lags: int) -> list[Array]:
    """Columns ``t - step*k`` for ``t >= first`` and ``k = 1..lags``, NaN before column 0."""
    out: list[Array] = []
    n_series, n_cols = rate.shape
    for k in range(1, lags + 1):
        lo = first - step * k
        if lo >= 0:
            out.append(rate[:, lo:n_cols - step * k])
        else:
            view = np.full((n_series, n_cols - first), np.nan)
            if n_cols - step * k > 0:
                view[:, -lo:] = rate[:, :n_cols - step * k]
            out.append(view)
    return out


def _lag_median(rate: Array, first: int, step: int, lags: int) -> tuple[Array, NDArray[np.int64]]:
    """Median of the lagged columns ignoring NaN, and how many were known."""
    return views_median(_lag_views(rate, first, step, lags))


def views_median(views: list[Array]) -> tuple[Array, NDArray[np.int64]]:
    """Elementwise median of equally shaped arrays ignoring NaN, and how many were known."""
    lags = len(views)
    if lags > 4:
        return _sorted_median(np.stack(views, axis=-1))
    # Up to four values: the median is the sum less the extremes, halved for an even count;
    # elementwise on views, several times faster than sorting a stacked copy.
    known = [~np.isnan(v) for v in views]
    count = np.sum(known, axis=0)
    total = np.sum([np.where(k, v, 0.0) for k, v in zip(known, views, strict=True)], axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        high = np.fmax.reduce(views)
        low = np.fmin.reduce(views)
    med = np.select([count == 4, count == 3, count == 2, count == 1],
                    [(total - high - low) / 2, total - high - low, total / 2, total], np.nan)
    return np.asarray(med, dtype=np.float64), np.asarray(count, dtype=np.int64)


def seasonal_baseline(rate: Array, first: int,
                      policy: AnomalyPolicy) -> tuple[Array, NDArray[np.bool_]]:
    """Baseline rate of every column from ``first`` on (same hour of week, else of day), and
    where the same-hour-of-day fallback was used."""
    weekly, count = _lag_median(rate, first, policy.season, policy.weeks)
    short = count < policy.min_weeks
    rows = np.flatnonzero(np.any(short, axis=1))
    if rows.size:
        daily, dcount = _lag_median(rate[rows], first, policy.short_season, policy.days)
        daily = np.where(dcount >= policy.min_days, daily, np.nan)
        weekly[rows] = np.where(short[rows], daily, weekly[rows])
    return weekly, short


def _window_sum(values: Array, w: int) -> Array:
    """Sum of the last ``w`` columns ending at each column; NaN if any is missing or too early."""
    filled = np.nan_to_num(values, nan=0.0)
    missing = np.isnan(values).astype(np.float64)
    zero = np.zeros((values.shape[0], 1))
    csum = np.concatenate([zero, np.cumsum(filled, axis=1)], axis=1)
    cmiss = np.concatenate([zero, np.cumsum(missing, axis=1)], axis=1)
    out = np.full(values.shape, np.nan)
    if w <= values.shape[1]:
        total = csum[:, w:] - csum[:, :-w]
        gaps = cmiss[:, w:] - cmiss[:, :-w]
        out[:, w - 1:] = np.where(gaps > 0, np.nan, total)
    return out


def trailing_ratio(top: Array, bottom: Array, length: int, first: int) -> Array:
    """For every column ``t >= first``: sum(top) / sum(bottom) over ``[t-length, t)``, counting
    only hours where both are known."""
    lo = max(first - length, 0)
    if top.shape[1] == first + 1:
        # one column (the scheduled path's newest hour): plain sums, no running totals
        top, bottom = top[:, lo:first], bottom[:, lo:first]
        both = ~(np.isnan(top) | np.isnan(bottom))
        with np.errstate(divide="ignore", invalid="ignore"):
            last = (np.where(both, top, 0.0).sum(axis=1, keepdims=True)
                    / np.where(both, bottom, 0.0).sum(axis=1, keepdims=True))
        return np.asarray(last, dtype=np.float64)
    top, bottom = top[:, lo:], bottom[:, lo:]
    both = ~(np.isnan(top) | np.isnan(bottom))
    zero = np.zeros((top.shape[0], 1))
    ctop = np.concatenate([zero, np.cumsum(np.where(both, top, 0.0), axis=1)], axis=1)
    cbot = np.concatenate([zero, np.cumsum(np.where(both, bottom, 0.0), axis=1)], axis=1)
    hi = np.arange(first - lo, top.shape[1])
    back = np.maximum(hi - length, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (ctop[:, hi] - ctop[:, back]) / (cbot[:, hi] - cbot[:, back])
    return np.asarray(ratio, dtype=np.float64)


def counts(metric: Metric, exp: Array, den_w: Array, expected_count: Array,
            unit: Array) -> tuple[Array, float]:
    """The Poisson count behind a window of the metric, and the spread factor of one count.

    Expected clicks for spend (each click costs a spread-out price, hence 2) and for CTR; clicks
    for CPC; conversions expected from the spend for CPA and ROAS (whose value per conversion
    spreads too, hence 1.5); expected conversions for the conversion count.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        match metric:
            case "spend":
                count, factor = exp / unit, 1.5
            case "conversions" | "ctr":
                count, factor = exp, 1.0
            case "cpc":
                count, factor = den_w, 1.0
            case "cpa":
                count, factor = expected_count, 1.0
            case "roas":
                count, factor = den_w * unit, 1.5
    return np.maximum(np.nan_to_num(np.asarray(count, dtype=np.float64), nan=0.0), 0.5), factor


def _count_checked(metric: Metric, z: Array, obs: Array, den_w: Array, count: Array, unit: Array,
                   factor: float, extra: Array) -> Array:
    """Shrink ``z`` to what a test on the count itself allows (Anscombe's root transform).

    At small counts the log ratio's normal approximation overstates drops (4 expected, 0 seen
    is a 2% event, not 4 sigma). The root of a Poisson count has variance 1/4; the campaign's
    excess noise adds ``extra^2 * lambda / 4`` and the spread of one count ``factor``.
    """
    if metric == "cpa":
        seen, expected, sign = den_w, count, -1.0  # a higher CPA is fewer conversions
    else:
        seen, expected, sign = (obs / unit if metric == "spend" else obs), count, 1.0
    with np.errstate(invalid="ignore"):
        root = 2.0 * (np.sqrt(np.maximum(seen, 0.0) + 0.375) - np.sqrt(expected + 0.375))
        z_count = sign * root / np.sqrt(factor + extra**2 * expected)
    agree = np.sign(z_count) == np.sign(z)
    return np.where(agree, np.sign(z) * np.minimum(np.abs(z), np.abs(z_count)), 0.0 * z)


def score_columns(metric: Metric, num: Array, den: Array, volume: Array, first: int,
                  policy: AnomalyPolicy = DEFAULT_POLICY) -> Scores:
    """Score every column ``t >= first`` of every series; see the module docstring."""
    rule = policy.rules[metric]
    n_series = num.shape[0]
    windows = policy.windows_of(metric)
    reach = policy.scale_hours + max(windows) - 1
    start = max(first - reach, 0)
    n_cols = num.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((den > 0) & (volume >= rule.min_volume), num / den, np.nan)
    recent_base, short = seasonal_baseline(rate, start, policy)
    # The same-hour-of-day fallback mixes weekdays and weekends: widen its scores.
    fallback_var = np.where(short[:, first - start:], policy.fallback_scale**2, 0.0)
    # The series' typical hour over the scale period (the yardstick of min_level) and the size
    # of one counted unit (cost per click; conversions per unit of cost), from all the columns.
    # Past the baselines everything works on the columns that a window from ``start`` reads.
    cut = max(start - max(windows) + 1, 0)
    known = np.where(np.isnan(num), np.nan, 1.0)
    level = trailing_ratio(num, known, policy.scale_hours, cut)
    if metric == "spend":
        unit = trailing_ratio(num, volume, policy.scale_hours, cut)
    elif metric == "roas":
        unit = trailing_ratio(volume, den, policy.scale_hours, cut)
    else:
        unit = np.ones((n_series, n_cols - cut))
    num, den, volume = num[:, cut:], den[:, cut:], volume[:, cut:]
    base = np.full(num.shape, np.nan)
    base[:, start - cut:] = recent_base
    first -= cut
    n_cols = num.shape[1]
    expected_hour = base * den
    shape = (n_series, n_cols - first)
    best = Scores(np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan),
                  np.full(shape, np.nan), severity=np.zeros(shape, np.int8), window=np.zeros(shape, np.int16))
    with np.errstate(divide="ignore", invalid="ignore"):
        count_hour = np.where(base > 0, num / base, np.nan) if metric == "cpa" else num
    tail = slice(first, n_cols)
    for w in windows:
        obs = _window_sum(num, w)
        exp = _window_sum(expected_hour, w)
        den_w = _window_sum(den, w)
        vol_w = _window_sum(volume, w)
        ok = (exp > 0) & (vol_w >= rule.min_volume) & (exp >= rule.min_expected)
        if rule.min_level > 0:
            ok &= exp >= rule.min_level * w * np.nan_to_num(level, nan=np.inf)
        count, factor = counts(metric, exp, den_w, _window_sum(count_hour, w), unit)
        # Log ratio with half a count added to both sides: symmetric for spikes and drops,
        # finite when the observation is zero; its variance from counting is factor / count.
        half = 0.5 * exp / count
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.where(ok, np.log((obs + half) / (exp + half)), np.nan)
        samp = np.where(ok, factor / count, np.nan)
        extra = _excess_scale(resid, samp, first, policy)
        sigma = np.sqrt(extra**2 + samp[:, tail] + policy.scale_floor**2 + fallback_var)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(ok[:, tail], obs[:, tail] / exp[:, tail] - 1.0, np.nan)
        z = resid[:, tail] / sigma
        if metric in COUNT_TESTED:
            z = _count_checked(metric, z, obs[:, tail], den_w[:, tail], count[:, tail], unit[:, tail],
                               factor, extra)
        mag = np.abs(np.nan_to_num(z))
        big = np.abs(np.nan_to_num(resid[:, tail])) >= np.log1p(policy.min_change)
        sev = np.where(big & (mag >= policy.critical_z), 2, np.where(big & (mag >= policy.warn_z), 1, 0))
        better = (sev > best.severity) | ((sev == best.severity) & (mag > np.abs(np.nan_to_num(best.z))))
        better &= ~np.isnan(z)
        best.z[better] = z[better]
        best.change[better] = change[better]
        best.severity[better] = sev[better]
        best.window[better] = w
        with np.errstate(divide="ignore", invalid="ignore"):
            best.value[better] = (obs[:, tail] / den_w[:, tail])[better]
            best.baseline[better] = (exp[:, tail] / den_w[:, tail])[better]
    return best


def _trailing(values: Array, first: int, length: int) -> Array:
    """``(series, cols - first, length)`` views of the ``length`` columns before each ``t >= first``."""
    n_series, n_cols = values.shape
    pad = max(0, length - first)
    padded = np.concatenate([np.full((n_series, pad), np.nan), values], axis=1) if pad else values
    segment = padded[:, first - length + pad:n_cols - 1 + pad]
    return np.lib.stride_tricks.sliding_window_view(segment, length, axis=1)


def _excess_scale(resid: Array, samp: Array, first: int, policy: AnomalyPolicy) -> Array:
    """Relative noise beyond counting for each column ``t >= first``, from ``[t-L, t)``.

    ``(1.4826 * MAD)^2`` of the pooled residuals less the median counting variance of the same
    hours (never below zero); the default scale when too few hours were judged.
    """
    windows = _trailing(resid, first, policy.scale_hours)
    med, _ = _sorted_median(windows)
    mad, count = _sorted_median(np.abs(windows - med[..., None]))
    samp_med, _ = _sorted_median(_trailing(samp, first, policy.scale_hours))
    excess = np.sqrt(np.maximum((MAD_TO_SIGMA * mad) ** 2 - np.nan_to_num(samp_med), 0.0))
    scale = np.where(count >= policy.min_scale_points, excess, policy.default_scale)
    return np.asarray(scale, dtype=np.float64)

