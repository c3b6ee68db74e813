"""Anomaly detection in the ``ad.metrics`` stage: campaign-hour points from a batch, folded
into per (campaign, metric) states (``anomaly.observe``), alerts as rows and records.

Campaigns are keyed ``<platform>:<campaign_id>`` (the topic's key, so a campaign's state
lives on its partition). A campaign that reports CAMPAIGN rows is scored on them; one that
reports only ad group or ad rows (Google Ads and Meta by ad, GA4 by source) is scored on their
sum per hour, which needs every row of the hour: the latest report of each entity of the last
``PARTS_HOURS`` hours is kept in the ``anomaly_parts`` table, and the hours a batch touches
are summed again from it (of AD and AD_GROUP rows, the AD rows when an hour has both).

Invariants:
- a backlog read in large batches is folded a day at a time, oldest first
  (``observe_in_order``), so its alerts are those of daily batches (tests check it);
- both tables are positioned: each value carries the ``offset`` of the last event of its
  campaign it absorbed (the runtime replays from there after a crash);
- a restated row replaces the entity's earlier report of that hour, never adds to it; rows
  older than ``PARTS_HOURS`` behind the campaign's newest hour are not summed (their hour is
  past the detector's lateness limit anyway, see ``AnomalyPolicy.max_lateness_hours``);
- one alert row per (campaign, metric, direction, hour, status); the rows and records carry
  the position of the campaign's last event in the batch;
- an alert is raised once: the state remembers the alerts of the hours that can still come
  again (restatements reach ``max_lateness_hours`` back); an alert for an hour not after the
  last one of its direction, or a new episode within the cooldown of it, is a repeat (hours
  restated after the fold forgot their episode score again) and is not raised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Changes, Events, Lookup
from streams.marketing import anomaly
from streams.marketing import contract as names
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, METRICS, AnomalyPolicy

HOUR_MS: Final = 3_600_000
PARTS_HOURS: Final = 96
DAY_HOURS: Final = 24
SERIES_TABLE: Final = "anomaly_series"
PARTS_TABLE: Final = "anomaly_parts"
ANOMALY_FIELDS: Final = (
    "platform", "campaign_id", "metric", "direction", "status", "severity", "hour", "since",
    "value", "baseline", "change", "z", "window_hours",
)
ANOMALY_COLUMNS: Final = (*ANOMALY_FIELDS, "_topic", "_partition", "_offset")
_FIGURES: Final = ("impressions", "clicks", "cost_micros", "conversions", "conversion_value")


def campaign_key(metric: Mapping[str, Any]) -> str:
    return f"{metric['platform']}:{metric['campaign_id']}"


def _entity(m: Mapping[str, Any]) -> str:
    return f"{m['level']}|{m['ad_group_id'] or ''}|{m['ad_id'] or ''}|{m['device'] or ''}"


def absorb_parts(parts: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]]
                 ) -> tuple[dict[str, Any], set[int]]:
    """The parts after ``rows`` (AD_GROUP and AD rows of one campaign) and the hours changed."""
    hours: dict[str, dict[str, list[float]]] = {
        h: dict(v) for h, v in ((parts or {}).get("hours") or {}).items()}
    touched: set[int] = set()
    for m in rows:
        hour = int(m["interval_start"]) // HOUR_MS
        held = hours.setdefault(str(hour), {})
        entity = _entity(m)
        old = held.get(entity)
        if old is None or m["reported_at"] >= old[-1]:
            held[entity] = [float(m[name]) for name in _FIGURES] + [float(m["reported_at"])]
            touched.add(hour)
    if hours:
        newest = max(int(h) for h in hours)
        hours = {h: v for h, v in hours.items() if int(h) > newest - PARTS_HOURS}
        touched = {h for h in touched if str(h) in hours}
    return {"hours": hours}, touched


def totals(parts: Mapping[str, Any], key: str, hours: set[int]) -> list[dict[str, Any]]:
    """CAMPAIGN-level records summing each hour's AD rows (else its AD_GROUP rows)."""
    out = []
    for hour in sorted(hours):
        held: Mapping[str, list[float]] = parts["hours"][str(hour)]
        level = "AD|" if any(e.startswith("AD|") for e in held) else "AD_GROUP|"
        chosen = [v for e, v in held.items() if e.startswith(level)]
        sums = [sum(v[i] for v in chosen) for i in range(len(_FIGURES))]
        out.append({"campaign_id": key, "level": "CAMPAIGN", "device": None,
                    "interval_start": hour * HOUR_MS,
                    "reported_at": int(max(v[-1] for v in chosen)),
                    **dict(zip(_FIGURES, sums, strict=True))})
    return out


@dataclass
class Detected:
    """What the anomaly part of a step produces."""

    rows: Columns = field(default_factory=lambda: empty_columns(ANOMALY_COLUMNS))
    records: list[OutputRecord] = field(default_factory=list)
    changes: Changes = field(default_factory=dict)


def detect(events: Events, lookup: Lookup,
           policy: AnomalyPolicy = DEFAULT_POLICY) -> Detected:
    """Fold a batch's report rows into the campaigns' states; their alerts."""
    by_campaign: dict[str, list[tuple[Raw, Mapping[str, Any]]]] = defaultdict(list)
    for raw, value in zip(events.raws, events.values, strict=True):
        by_campaign[campaign_key(value)].append((raw, value))
    out = Detected()
    series = out.changes.setdefault(SERIES_TABLE, {})
    for key in sorted(by_campaign):
        held = by_campaign[key]
        last = max(held, key=lambda rv: rv[0].offset)[0]
        position = {"offset": last.offset}
        campaign_rows = [{**v, "campaign_id": key} for _, v in held if v["level"] == "CAMPAIGN"]
        finer = [v for _, v in held if v["level"] != "CAMPAIGN"]
        stored = lookup(PARTS_TABLE, key)
        own_totals = bool(stored and stored.get("campaign_level"))
        records = campaign_rows
        if campaign_rows and not own_totals:
            # the campaign reports its own totals: from now on its finer rows are not summed
            out.changes.setdefault(PARTS_TABLE, {})[key] = (
                last.partition, {"hours": {}, "campaign_level": True, **position})
        elif finer and not campaign_rows and not own_totals:
            parts, hours = absorb_parts(stored, finer)
            out.changes.setdefault(PARTS_TABLE, {})[key] = (last.partition, {**parts, **position})
            records = totals(parts, key, hours)
        points = anomaly.hourly_points(records)
        if not points:
            continue
        states = {anomaly.state_key(key, m): lookup(SERIES_TABLE, anomaly.state_key(key, m))
                  for m in METRICS}
        changed, alerts = observe_in_order(states, points, policy)
        raised: dict[str, set[tuple[str, int, str]]] = {
            k: {(str(d), int(h), str(s)) for d, h, s in (v or {}).get("alerted", ())}
            for k, v in states.items()}
        for alert in alerts:
            state_key = anomaly.state_key(key, alert.metric)
            if repeated(raised[state_key], alert, policy):
                continue
            raised[state_key].add((alert.direction, alert.hour_ms, alert.status))
            add_alert(out, alert, last)
        newest = max(p.hour for p in points) * HOUR_MS
        horizon = newest - (policy.max_lateness_hours + policy.cooldown_hours + 24) * HOUR_MS
        for state_key, state in changed.items():
            kept = sorted([d, h, s] for d, h, s in raised.get(state_key, set()) if h >= horizon)
            series[state_key] = (last.partition, {**state, "alerted": kept, **position})
    return out


def observe_in_order(states: Mapping[str, Mapping[str, Any] | None],
                     points: Sequence[anomaly.HourPoint], policy: AnomalyPolicy
                     ) -> tuple[dict[str, dict[str, Any]], list[anomaly.Alert]]:
    """``anomaly.observe`` over the points a day at a time, oldest first: the fold scores only
    hours within ``max_lateness_hours`` of the newest it holds, so a backlog read in large
    batches is scored as if it had arrived a day at a time. (The fold's scores of hours
    scored in one call can differ from hour-by-hour scoring; a day is the compromise between
    that and the cost of one call per campaign and hour.) Empty windows (no volume, no
    baseline) divide by zero inside the scorer: those warnings are silenced."""
    held = {k: v for k, v in states.items() if v is not None}
    changed: dict[str, dict[str, Any]] = {}
    alerts: list[anomaly.Alert] = []
    ordered = sorted(points, key=lambda p: p.hour)
    span = max(1, min(DAY_HOURS, policy.max_lateness_hours))
    start = 0
    while start < len(ordered):
        end = start
        while end < len(ordered) and ordered[end].hour < ordered[start].hour + span:
            end += 1
        with np.errstate(divide="ignore", invalid="ignore"):
            now, raised = anomaly.observe(held, ordered[start:end], policy)
        held.update(now)
        changed.update(now)
        alerts.extend(raised)
        start = end
    return changed, alerts


def repeated(raised: set[tuple[str, int, str]], alert: anomaly.Alert,
             policy: AnomalyPolicy) -> bool:
    """Whether ``alert`` says again what was raised: an hour not after the last alert of its
    direction, or a new episode within the cooldown of it (restated hours scored again after
    the fold forgot their episode)."""
    hours = [h for d, h, _ in raised if d == alert.direction]
    if not hours:
        return False
    latest = max(hours)
    return alert.hour_ms <= latest or (
        alert.status == "new" and alert.hour_ms <= latest + policy.cooldown_hours * HOUR_MS)


def alert_value(alert: anomaly.Alert) -> dict[str, Any]:
    platform, _, campaign = alert.campaign_id.partition(":")
    return {"platform": platform, "campaign_id": campaign, "metric": alert.metric,
            "direction": alert.direction, "status": alert.status, "severity": alert.severity,
            "hour": alert.hour_ms, "since": alert.since_ms, "value": alert.value,
            "baseline": alert.baseline, "change": alert.change, "z": alert.z,
            "window_hours": alert.window_hours}


def add_alert(out: Detected, alert: anomaly.Alert, raw: Raw) -> None:
    value = alert_value(alert)
    for name in ANOMALY_FIELDS:
        out.rows[name].append(value[name])
    out.rows["_topic"].append(raw.topic)
    out.rows["_partition"].append(raw.partition)
    out.rows["_offset"].append(raw.offset)
    out.records.append(OutputRecord(names.ANOMALIES, alert.campaign_id, value))
