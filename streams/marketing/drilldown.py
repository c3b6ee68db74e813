"""What is behind a campaign-level anomaly: each ad group's, ad's, device's and hour's share of it.

``drill_down(metric, current_rows, baseline_rows)`` takes the ``ad.metrics`` rows of the
anomalous window and of its baseline (the same hours of earlier weeks, weighted by
``baseline_weight``, e.g. 1/4 for four weeks) and ranks, per dimension, the children by their
contribution to the change of the campaign's metric.

Invariants:
- Count metrics (spend, conversions): a child's contribution is its own change.
- Ratio metrics ``R = sum(num) / sum(den)`` (CTR, CPC, CPA, ROAS) use the midpoint mix/rate
  decomposition, with ``w`` a child's share of the denominator and ``r`` its ratio:
  ``mix_i = (w1_i - w0_i) * ((r0_i + r1_i) / 2 - R0)`` (traffic moving towards children that are
  better or worse than the campaign was) and ``rate_i = (w0_i + w1_i) / 2 * (r1_i - r0_i)`` (the
  child itself got better or worse). A child without denominator in one period takes its ratio
  from the other (no rate effect).
- Per dimension the contributions add up to the campaign's change exactly (up to rounding), so
  ``share = contribution / change`` sums to 1; children are ranked by the contribution in the
  direction of the change, largest first (ties by key).
- Of several reports of one row the latest ``reported_at`` wins (restated intervals). Each
  dimension reads one level of rows so nothing is counted twice: ad groups from AD_GROUP rows
  (else AD rows), ads from AD rows, devices and hours from the coarsest level that has them.
- Pure: the arguments are never mutated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from streams.marketing.anomaly_scoring import RATIO_METRICS, Metric

HOUR_MS: Final = 3_600_000
DIMENSIONS: Final = ("ad_group_id", "ad_id", "device", "hour")
_LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "ad_group_id": ("AD_GROUP", "AD"),
    "ad_id": ("AD",),
    "device": ("CAMPAIGN", "AD_GROUP", "AD"),
    "hour": ("CAMPAIGN", "AD_GROUP", "AD"),
}
_COUNTERS: Final = ("impressions", "clicks", "cost", "conversions", "value")
_PARTS: Final[dict[str, tuple[str, str | None]]] = {
    "spend": ("cost", None),
    "conversions": ("conversions", None),
    "ctr": ("clicks", "impressions"),
    "cpc": ("cost", "clicks"),
    "cpa": ("cost", "conversions"),
    "roas": ("value", "cost"),
}


@dataclass(frozen=True, slots=True)
class Contribution:
    """One child's part in the change of the metric (mix + rate = contribution for ratios)."""

    dimension: str
    key: str
    contribution: float
    share: float
    mix: float
    rate: float
    current: float
    baseline: float


def _counters(row: Mapping[str, Any]) -> dict[str, float]:
    cost = row["cost_micros"] / 1_000_000 if "cost_micros" in row else row.get("cost", 0.0)
    return {"impressions": float(row.get("impressions", 0)), "clicks": float(row.get("clicks", 0)),
            "cost": float(cost), "conversions": float(row.get("conversions", 0.0)),
            "value": float(row.get("conversion_value", row.get("value", 0.0)))}


def _latest(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    kept: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        key = (row.get("level", "CAMPAIGN"), row.get("campaign_id"), row.get("ad_group_id"),
               row.get("ad_id"), row.get("device"), row.get("interval_start"))
        old = kept.get(key)
        if old is None or int(row.get("reported_at", 0)) >= int(old.get("reported_at", 0)):
            kept[key] = row
    return list(kept.values())


def _child_key(dimension: str, row: Mapping[str, Any]) -> str | None:
    if dimension == "hour":
        # Hour of week, so that a window and the same hours of earlier weeks line up.
        start = datetime.fromtimestamp(int(row["interval_start"]) / 1000, tz=UTC)
        return f"{start:%a} {start:%H}:00"
    value = row.get(dimension)
    return None if value is None else str(value)


def _group(dimension: str, rows: Sequence[Mapping[str, Any]], level: str,
           weight: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_COUNTERS, 0.0))
    for row in rows:
        if row.get("level", "CAMPAIGN") != level:
            continue
        key = _child_key(dimension, row)
        if key is None:
            continue
        acc = out[key]
        for name, amount in _counters(row).items():
            acc[name] += weight * amount
    return dict(out)


def decompose(metric: Metric, current: Mapping[str, Mapping[str, float]],
              baseline: Mapping[str, Mapping[str, float]], dimension: str = "") -> list[Contribution]:
    """Contributions of children given their counters now and in the baseline."""
    num_name, den_name = _PARTS[metric]
    keys = sorted(set(current) | set(baseline))
    zero: Mapping[str, float] = {}

    def parts(table: Mapping[str, Mapping[str, float]], key: str) -> tuple[float, float]:
        row = table.get(key, zero)
        return row.get(num_name, 0.0), (row.get(den_name, 0.0) if den_name else 1.0)

    rows: list[Contribution] = []
    if metric not in RATIO_METRICS:
        change = sum(parts(current, k)[0] for k in keys) - sum(parts(baseline, k)[0] for k in keys)
        for k in keys:
            now, before = parts(current, k)[0], parts(baseline, k)[0]
            delta = now - before
            rows.append(Contribution(dimension, k, delta, delta / change if change else 0.0,
                                     0.0, delta, now, before))
    else:
        n1 = {k: parts(current, k) for k in keys}
        n0 = {k: parts(baseline, k) for k in keys}
        d1, d0 = sum(d for _, d in n1.values()), sum(d for _, d in n0.values())
        r_total1 = sum(n for n, _ in n1.values()) / d1 if d1 else 0.0
        r_total0 = sum(n for n, _ in n0.values()) / d0 if d0 else 0.0
        change = r_total1 - r_total0
        for k in keys:
            (num1, den1), (num0, den0) = n1[k], n0[k]
            r1 = num1 / den1 if den1 else (num0 / den0 if den0 else 0.0)
            r0 = num0 / den0 if den0 else r1
            w1, w0 = (den1 / d1 if d1 else 0.0), (den0 / d0 if d0 else 0.0)
            mix = (w1 - w0) * ((r0 + r1) / 2 - r_total0)
            rate = (w0 + w1) / 2 * (r1 - r0)
            total = mix + rate
            rows.append(Contribution(dimension, k, total, total / change if change else 0.0, mix, rate,
                                     r1 if den1 else float("nan"), r0 if den0 else float("nan")))
    direction = 1.0 if change >= 0 else -1.0
    return sorted(rows, key=lambda c: (-direction * c.contribution, c.key))


def drill_down(metric: Metric, current_rows: Iterable[Mapping[str, Any]],
               baseline_rows: Iterable[Mapping[str, Any]], baseline_weight: float = 1.0,
               dimensions: Sequence[str] = DIMENSIONS,
               top: int | None = None) -> dict[str, list[Contribution]]:
    """Per dimension, the children ranked by their contribution to the metric's change."""
    now, before = _latest(current_rows), _latest(baseline_rows)
    out: dict[str, list[Contribution]] = {}
    for dimension in dimensions:
        for level in _LEVELS[dimension]:
            cur = _group(dimension, now, level, 1.0)
            base = _group(dimension, before, level, baseline_weight)
            if cur or base:
                ranked = decompose(metric, cur, base, dimension)
                out[dimension] = ranked[:top] if top is not None else ranked
                break
    return out


def alert_windows(hour_ms: int, window_hours: int,
                  weeks: int = 4) -> tuple[tuple[int, int], list[tuple[int, int]], float]:
    """The anomalous window ``[start, end)`` of an alert, the same hours of the ``weeks`` weeks
    before it, and the ``baseline_weight`` that averages them (rows to fetch for ``drill_down``)."""
    end = hour_ms + HOUR_MS
    start = end - window_hours * HOUR_MS
    week = 168 * HOUR_MS
    return (start, end), [(start - k * week, end - k * week) for k in range(1, weeks + 1)], 1.0 / weeks
