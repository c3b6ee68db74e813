"""Anomaly detection on hourly campaign metrics as a pure fold with de-duplicated alerts.

``observe(states, points)`` absorbs campaign-hour points into the per ``(campaign, metric)``
states and returns the states it changed and the alerts the batch raises; ``observe_series``
is the same for one ``(campaign, metric)``. Scoring is ``anomaly_scoring.score_columns``.

Invariants:
- A state is plain JSON: ``{"hours": {"<hour>": [num, den, volume]}, "episodes": {direction:
  {"since", "last", "severity"}}}`` with hours as epoch hours. It never holds more than
  ``policy.lookback_hours + 1`` hours: older ones are dropped on every observe.
- The same hour arriving again (a restated interval) replaces the stored one, never adds to it.
  The arguments are never mutated.
- A batch stores all its points first, then scores each of its hours that is no older than
  ``max_lateness_hours`` behind the newest stored hour, oldest first. Scores are causal, so the
  order of points inside a batch does not matter.
- An hour without a point is unknown, not zero: connectors report zero rows for live campaigns.
- Alerts per ``(campaign, metric, direction)``: the first anomalous hour opens an episode and
  raises a ``new`` alert; anomalous hours within ``cooldown_hours`` of the episode's last one
  extend it silently, or raise an ``ongoing`` alert when the severity rises. Re-observing an
  hour that is already in the episode (redelivery, restatement) raises nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from streams.marketing.anomaly_scoring import (
    DEFAULT_POLICY,
    METRICS,
    AnomalyPolicy,
    Metric,
    components,
    score_columns,
)

HOUR_MS: Final = 3_600_000
SEVERITIES: Final = ("none", "warning", "critical")
Direction = Literal["up", "down"]
Status = Literal["new", "ongoing"]
SeriesState = dict[str, Any]


@dataclass(frozen=True, slots=True)
class HourPoint:
    """One campaign's delivery over one hour (cost in account currency, not micros)."""

    campaign_id: str
    hour: int
    impressions: float
    clicks: float
    cost: float
    conversions: float
    value: float


@dataclass(frozen=True, slots=True)
class Alert:
    """One raised alert; ``value`` and ``baseline`` are the metric over ``window_hours``."""

    campaign_id: str
    metric: Metric
    direction: Direction
    status: Status
    severity: str
    hour_ms: int
    since_ms: int
    value: float
    baseline: float
    change: float
    z: float
    window_hours: int


def hourly_points(records: Iterable[Mapping[str, Any]]) -> list[HourPoint]:
    """Campaign-hour points from decoded ``ad.metrics`` records.

    Only CAMPAIGN-level rows count (ad group and ad rows are for the drill-down); of several
    reports of one interval and device the latest ``reported_at`` wins; device rows are summed
    unless the hour also has a row without device (the total), which is then used alone.
    """
    latest: dict[tuple[str, int, str | None], Mapping[str, Any]] = {}
    for rec in records:
        if rec.get("level", "CAMPAIGN") != "CAMPAIGN":
            continue
        key = (str(rec["campaign_id"]), int(rec["interval_start"]) // HOUR_MS, rec.get("device"))
        kept = latest.get(key)
        if kept is None or int(rec["reported_at"]) >= int(kept["reported_at"]):
            latest[key] = rec
    # A row without device is the campaign's total: it wins over device rows of the same hour.
    totals = {(c, h) for (c, h, device) in latest if device is None}
    sums: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0] * 5)
    for (campaign, hour, device), rec in latest.items():
        if device is not None and (campaign, hour) in totals:
            continue
        acc = sums[(campaign, hour)]
        for i, name in enumerate(("impressions", "clicks", "cost_micros", "conversions", "conversion_value")):
            acc[i] += float(rec[name]) / (1_000_000 if name == "cost_micros" else 1)
    return [HourPoint(c, h, *v) for (c, h), v in sorted(sums.items())]


def step_episode(episode: Mapping[str, int] | None, hour: int, severity: int,
                 policy: AnomalyPolicy = DEFAULT_POLICY) -> tuple[dict[str, int] | None, Status | None]:
    """One scored hour of one direction: the episode after it and the alert it raises, if any."""
    if severity <= 0:
        return (dict(episode) if episode else None), None
    if episode and episode["since"] <= hour <= episode["last"] + policy.cooldown_hours:
        grown = {"since": episode["since"], "last": max(episode["last"], hour),
                 "severity": max(episode["severity"], severity)}
        return grown, ("ongoing" if severity > episode["severity"] else None)
    if episode and hour < episode["since"]:
        return dict(episode), None  # a restated hour from before the open episode: no new alert
    return {"since": hour, "last": hour, "severity": severity}, "new"


def _point_components(metric: Metric, points: Sequence[HourPoint]) -> list[list[float]]:
    arrays = [np.array([getattr(p, f) for p in points], dtype=np.float64)
              for f in ("impressions", "clicks", "cost", "conversions", "value")]
    num, den, vol = components(metric, *arrays)
    return [list(t) for t in zip(num.tolist(), den.tolist(), vol.tolist(), strict=True)]


def observe_series(state: Mapping[str, Any] | None, campaign_id: str, metric: Metric,
                   points: Sequence[HourPoint],
                   policy: AnomalyPolicy = DEFAULT_POLICY) -> tuple[SeriesState, list[Alert]]:
    """Fold one campaign's points of a batch into the state of one of its metrics."""
    hours: dict[str, list[float]] = dict((state or {}).get("hours", {}))
    episodes: dict[str, dict[str, int]] = dict((state or {}).get("episodes", {}))
    mine = [p for p in points if p.campaign_id == campaign_id]
    for p, triple in zip(mine, _point_components(metric, mine), strict=True):
        hours[str(p.hour)] = triple
    if not hours:
        return {"hours": {}, "episodes": episodes}, []
    newest = max(int(h) for h in hours)
    lookback = policy.lookback_hours
    hours = {h: v for h, v in hours.items() if int(h) >= newest - lookback}
    targets = sorted({p.hour for p in mine if p.hour >= newest - policy.max_lateness_hours})
    alerts: list[Alert] = []
    if targets:
        origin = targets[0] - lookback
        dense = np.full((3, targets[-1] - origin + 1), np.nan)
        for h, triple in hours.items():
            if origin <= int(h) <= targets[-1]:  # later hours never enter a (causal) score
                dense[:, int(h) - origin] = triple
        scores = score_columns(metric, dense[0:1], dense[1:2], dense[2:3], lookback, policy)
        for t in targets:
            col = t - targets[0]
            sev = int(scores.severity[0, col])
            z = float(scores.z[0, col])
            direction: Direction = "up" if z > 0 else "down"
            episode, status = step_episode(episodes.get(direction), t, sev, policy)
            if episode is not None:
                episodes[direction] = episode
            if status is not None and episode is not None:
                alerts.append(Alert(
                    campaign_id, metric, direction, status, SEVERITIES[sev], t * HOUR_MS,
                    episode["since"] * HOUR_MS, float(scores.value[0, col]),
                    float(scores.baseline[0, col]), float(scores.change[0, col]), z,
                    int(scores.window[0, col])))
    # Episodes long past their cooldown are forgotten so the state stays bounded.
    episodes = {d: e for d, e in episodes.items() if e["last"] + policy.cooldown_hours >= newest}
    return {"hours": hours, "episodes": episodes}, alerts


def state_key(campaign_id: str, metric: Metric) -> str:
    """Key of one series' state in a table keyed by campaign and metric."""
    return f"{campaign_id}|{metric}"


def observe(states: Mapping[str, Mapping[str, Any]], points: Sequence[HourPoint],
            policy: AnomalyPolicy = DEFAULT_POLICY,
            metrics: Sequence[Metric] = METRICS) -> tuple[dict[str, SeriesState], list[Alert]]:
    """Fold a batch of points into every ``(campaign, metric)`` state it touches.

    Returns only the changed states (one write per key per batch) and the alerts, ordered by
    campaign, metric and hour.
    """
    by_campaign: dict[str, list[HourPoint]] = defaultdict(list)
    for p in points:
        by_campaign[p.campaign_id].append(p)
    changed: dict[str, SeriesState] = {}
    alerts: list[Alert] = []
    for campaign in sorted(by_campaign):
        for metric in metrics:
            key = state_key(campaign, metric)
            changed[key], raised = observe_series(states.get(key), campaign, metric,
                                                  by_campaign[campaign], policy)
            alerts.extend(raised)
    return changed, alerts
