"""Scoring of whole series and the quality of the alerts against labelled anomalies.

``series_alerts`` runs the detector over every hour of many series at once (the same
``score_columns`` and ``step_episode`` as the fold, so the alerts are the ones the stream would
raise hour by hour). ``evaluate`` compares the ``new`` alerts with labels.

Definitions (per anomaly kind, with its signature metric and direction):
- recall: labelled events with at least one signature alert (new or still open) in
  ``[start, end + grace)``;
- delay: hours from ``start`` to the first such alert (detected events only);
- precision: signature ``new`` alerts that fall in some labelled event of the same series
  (any kind, with the grace) over all signature ``new`` alerts; the overall precision does the
  same over every metric and direction, and ``false_per_series_week`` counts the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from streams.marketing.anomaly import step_episode
from streams.marketing.anomaly_scoring import (
    DEFAULT_POLICY,
    METRICS,
    AnomalyPolicy,
    Metric,
    components,
    score_columns,
)

SIGNATURES: Final[dict[str, tuple[Metric, str]]] = {
    "spend_spike": ("spend", "up"),
    "ctr_drop": ("ctr", "down"),
    "tracking_break": ("conversions", "down"),
    "budget_exhausted": ("spend", "down"),
}
Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Label:
    """A labelled anomaly of series ``series`` over columns ``[start, end)``."""

    series: int
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SeriesAlert:
    """An alert of the whole-series run: series index, column, metric, direction, status."""

    series: int
    column: int
    metric: Metric
    direction: str
    status: str
    severity: int


@dataclass(frozen=True, slots=True)
class KindQuality:
    events: int
    detected: int
    recall: float
    precision: float
    alerts: int
    delay_median_h: float
    delay_p90_h: float


def alerts_from_severity(metric: Metric, z: Array, severity: NDArray[np.int8], first: int,
                         policy: AnomalyPolicy = DEFAULT_POLICY) -> list[SeriesAlert]:
    """Run the episode logic hour by hour over scored columns (``first`` is column 0 of z)."""
    out: list[SeriesAlert] = []
    for s in range(z.shape[0]):
        episodes: dict[str, dict[str, int] | None] = {"up": None, "down": None}
        for col in np.flatnonzero(severity[s] > 0):
            direction = "up" if z[s, col] > 0 else "down"
            hour = int(col) + first
            episode, status = step_episode(episodes[direction], hour, int(severity[s, col]), policy)
            episodes[direction] = episode
            if status is not None:
                out.append(SeriesAlert(s, hour, metric, direction, status, int(severity[s, col])))
    return out


def series_alerts(counters: Sequence[Array], first: int, policy: AnomalyPolicy = DEFAULT_POLICY,
                  metrics: Sequence[Metric] = METRICS) -> list[SeriesAlert]:
    """Alerts of every metric over columns ``>= first`` of ``(impressions, clicks, cost,
    conversions, value)`` arrays of shape ``(series, hours)``."""
    imps, clicks, cost, conv, value = counters
    out: list[SeriesAlert] = []
    for metric in metrics:
        num, den, vol = components(metric, imps, clicks, cost, conv, value)
        scores = score_columns(metric, num, den, vol, first, policy)
        out.extend(alerts_from_severity(metric, scores.z, scores.severity, first, policy))
    return out


def _in_label(alert: SeriesAlert, labels: Sequence[Label], grace: int) -> bool:
    return any(lb.series == alert.series and lb.start <= alert.column < lb.end + grace for lb in labels)


def evaluate(alerts: Sequence[SeriesAlert], labels: Sequence[Label], series_weeks: float,
             grace: int = 6) -> dict[str, object]:
    """Per-kind recall, precision and delay, and the overall alert precision."""
    report: dict[str, object] = {}
    for kind, (metric, direction) in SIGNATURES.items():
        sig = [a for a in alerts if a.metric == metric and a.direction == direction]
        events = [lb for lb in labels if lb.kind == kind]
        delays: list[int] = []
        for lb in events:
            hits = [a.column for a in sig if a.series == lb.series and lb.start <= a.column < lb.end + grace]
            if hits:
                delays.append(min(hits) - lb.start)
        new = [a for a in sig if a.status == "new"]
        good = sum(_in_label(a, labels, grace) for a in new)
        report[kind] = KindQuality(
            events=len(events), detected=len(delays),
            recall=round(len(delays) / len(events), 4) if events else float("nan"),
            precision=round(good / len(new), 4) if new else float("nan"), alerts=len(new),
            delay_median_h=float(np.median(delays)) if delays else float("nan"),
            delay_p90_h=float(np.percentile(delays, 90)) if delays else float("nan"))
    new_all = [a for a in alerts if a.status == "new"]
    true_all = sum(_in_label(a, labels, grace) for a in new_all)
    report["all_alerts"] = len(new_all)
    report["precision_all_metrics"] = round(true_all / len(new_all), 4) if new_all else float("nan")
    report["false_per_series_week"] = round((len(new_all) - true_all) / series_weeks, 4)
    return report


def as_dicts(report: Mapping[str, object]) -> dict[str, object]:
    """The report with its per-kind entries as plain dicts (for JSON)."""
    out: dict[str, object] = {}
    for key, val in report.items():
        is_kind = isinstance(val, KindQuality)
        out[key] = {f: getattr(val, f) for f in KindQuality.__slots__} if is_kind else val
    return out
