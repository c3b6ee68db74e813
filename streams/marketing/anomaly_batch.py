"""The scheduled path: the newest hour of many series scored at once, screened first.

``score_latest`` returns, for the last column of ``(series, hours)`` arrays, the severities that
``anomaly_scoring.score_columns`` gives, but computes the full score (baselines and pooled
scales over the previous ``scale_hours``) only for series that could possibly alert. Most hours
of most campaigns are ordinary, so the bulk of the work is a few sums per series.
"""

from __future__ import annotations

import numpy as np

from streams.marketing.anomaly_scoring import (
    COUNT_TESTED,
    DEFAULT_POLICY,
    AnomalyPolicy,
    Array,
    Metric,
    Scores,
    counts,
    score_columns,
    seasonal_baseline,
    trailing_ratio,
)


def score_latest(metric: Metric, num: Array, den: Array, volume: Array,
                 policy: AnomalyPolicy = DEFAULT_POLICY) -> Scores:
    """Score the last column of many series (the scheduled path), screening first.

    A window can only alert when it passes its volume gates, its log ratio reaches
    ``log1p(min_change)``, and an upper bound of its ``|z|`` reaches ``warn_z``: the exact
    residual (with its half-count correction) is never larger than ``|log(observed /
    expected)|``, the exact sigma never smaller than the counting and floor terms, and the count
    test never larger than its value without excess noise. Series that fail in every window are
    settled cheaply (severity 0, other fields NaN); the rest get the full ``score_columns``, so
    severities equal those of ``score_columns`` on the same arrays.
    """
    n_series, n_cols = num.shape
    windows = policy.windows_of(metric)
    rule = policy.rules[metric]
    span = max(windows)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((den > 0) & (volume >= rule.min_volume), num / den, np.nan)
    base, _ = seasonal_baseline(rate, n_cols - span, policy)
    tail_num, tail_den, tail_vol = num[:, n_cols - span:], den[:, n_cols - span:], volume[:, n_cols - span:]
    expected = base * tail_den
    last = n_cols - 1
    known = np.where(np.isnan(num), np.nan, 1.0)
    level = trailing_ratio(num, known, policy.scale_hours, last)[:, 0]
    if metric == "spend":
        unit = trailing_ratio(num, volume, policy.scale_hours, last)[:, 0]
    elif metric == "roas":
        unit = trailing_ratio(volume, den, policy.scale_hours, last)[:, 0]
    else:
        unit = np.ones(n_series)
    with np.errstate(divide="ignore", invalid="ignore"):
        count_hour = np.where(base > 0, tail_num / base, np.nan) if metric == "cpa" else tail_num
    gate = np.log1p(policy.min_change)
    candidate = np.zeros(n_series, dtype=bool)
    for w in windows:
        part = slice(span - w, span)
        obs, exp = tail_num[:, part].sum(axis=1), expected[:, part].sum(axis=1)
        den_w, vol_w = tail_den[:, part].sum(axis=1), tail_vol[:, part].sum(axis=1)
        ok = (exp > 0) & (vol_w >= rule.min_volume) & (exp >= rule.min_expected)
        if rule.min_level > 0:
            ok &= exp >= rule.min_level * w * np.nan_to_num(level, nan=np.inf)
        count, factor = counts(metric, exp, den_w, count_hour[:, part].sum(axis=1), unit)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(np.log(obs / exp))
            bound = ratio / np.sqrt(factor / count + policy.scale_floor**2)
            if metric in COUNT_TESTED:
                seen = den_w if metric == "cpa" else (obs / unit if metric == "spend" else obs)
                root = 2.0 * np.abs(np.sqrt(np.maximum(seen, 0.0) + 0.375) - np.sqrt(count + 0.375))
                bound = np.minimum(bound, root / np.sqrt(factor))
        candidate |= ok & ~(ratio < gate) & ~(bound < policy.warn_z)
    shape = (n_series, 1)
    out = Scores(np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan),
                 np.full(shape, np.nan), severity=np.zeros(shape, np.int8), window=np.zeros(shape, np.int16))
    rows = np.flatnonzero(candidate)
    if rows.size:
        full = score_columns(metric, num[rows], den[rows], volume[rows], n_cols - 1, policy)
        for name in ("z", "change", "value", "baseline", "severity", "window"):
            getattr(out, name)[rows] = getattr(full, name)
    return out
