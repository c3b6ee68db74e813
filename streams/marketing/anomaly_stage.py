"""Anomaly detection in the ``ad.metrics`` stage, incremental: each campaign's per-hour
figures (expected numerators, every window's residual and counting variance) are kept with
its counters and computed once per hour, in one numpy pass over the hours a batch changes;
only the hours that could alert get their pooled noise scale (``anomaly_columns``).

Campaigns are keyed ``<platform>:<campaign_id>`` (the topic's key, so a campaign's state
lives on its partition). A campaign that reports CAMPAIGN rows is scored on them; one that
reports only ad group or ad rows (Google Ads and Meta by ad, GA4 by source) is scored on their
sum per hour, which needs every row of the hour: the latest report of each entity of the
last ``PARTS_HOURS`` hours is kept in the ``anomaly_parts`` table, and the hours a batch
touches are summed again from it (``anomaly_parts``).

State, in three positioned tables (each value carries the ``offset`` of the campaign's last
event it absorbed; the runtime replays from there after a crash):
- ``anomaly_hours``, key ``<campaign>|<day>``: that day's 24 hours of the five counters
  (impressions, clicks, cost, conversions, value; NaN: not reported), float64 in base64. A
  batch rewrites only the days it changes, so the changelog carries a few hundred bytes an
  event, not a campaign's history;
- ``anomaly_campaigns``, key ``<campaign>``: the days held, the newest hour, the open
  episodes per metric and direction; rewritten for every campaign a batch touches;
- ``anomaly_parts`` as above.

Invariants:
- the scores are those of ``score_columns`` over the campaign's whole series as it stands
  when the batch is folded: the days held reach ``lookback_hours + max_lateness_hours`` behind
  the newest hour, so an hour that can still be judged has its full history. Hours later than
  a judged hour never enter its score (causal), so how a backlog is cut into batches does not
  change the alerts (tests check it against the whole-series run);
- an hour is judged when its counters change and it is no older than ``max_lateness_hours``
  behind the newest hour the campaign held before the batch: a late or restated hour is
  judged again once, an identical redelivery never;
- a restated row replaces the entity's earlier report of that hour, never adds to it;
- alerts per (campaign, metric, direction) come from ``anomaly.step_episode`` over the
  judged hours in hour order; an episode is remembered until no restatement can reach it
  (``cooldown_hours + max_lateness_hours`` after its last hour), so a restated hour of an
  episode, or one before it, never raises again;
- one alert row per (campaign, metric, direction, hour, status); the rows and records carry
  the position of the campaign's last event in the batch;
- the decoded series of recently seen campaigns and their per-hour figures are memoised
  against the identity of the campaign's state object (``Detector``): a hit gives what
  decoding the days and computing the figures again would (they are a function of the
  counters alone, kept for ``anomaly_columns.Layout.keep_hours``); a changed hour drops the
  figures from that hour on, which the next judged batch computes again;
- the figures are derived state, not written to the changelog: after a restart or a memo
  miss they are rebuilt from ``anomaly_hours`` (the cost of one judged batch of the old,
  non-incremental scoring), so the changelog carries what it carried before.
"""

from __future__ import annotations

import base64
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Changes, Events, Lookup, Value
from streams.marketing import anomaly
from streams.marketing import contract as names
from streams.marketing.anomaly_columns import Derived, Job, Layout, judge
from streams.marketing.anomaly_parts import absorb_parts, totals
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, METRICS, AnomalyPolicy, Array

HOUR_MS: Final = 3_600_000
DAY_HOURS: Final = 24
COUNTERS: Final = 5
#: campaigns whose decoded series and figures are memoised (about 40 + 150 kB each: at most
#: about 190 MB); a campaign beyond it has its figures rebuilt when its next batch comes
CACHED_CAMPAIGNS: Final = 1024
#: columns of spare room a campaign's counters are copied with, so later hours append in place
SPARE_HOURS: Final = 7 * DAY_HOURS
CAMPAIGNS_TABLE: Final = "anomaly_campaigns"
HOURS_TABLE: Final = "anomaly_hours"
PARTS_TABLE: Final = "anomaly_parts"
ANOMALY_FIELDS: Final = (
    "platform", "campaign_id", "metric", "direction", "status", "severity", "hour", "since",
    "value", "baseline", "change", "z", "window_hours",
)
ANOMALY_COLUMNS: Final = (*ANOMALY_FIELDS, "_topic", "_partition", "_offset")


def campaign_key(metric: Mapping[str, Any]) -> str:
    return f"{metric['platform']}:{metric['campaign_id']}"


@dataclass
class Detected:
    """What the anomaly part of a step produces."""

    rows: Columns = field(default_factory=lambda: empty_columns(ANOMALY_COLUMNS))
    records: list[OutputRecord] = field(default_factory=list)
    changes: Changes = field(default_factory=dict)


@dataclass(slots=True)
class Series:
    """A campaign's counters, ``(5, hours)`` from hour ``origin`` (a day's first hour): the
    first columns of ``room``, whose spare columns later hours are appended into in place
    (the series they grow from is the memo's, taken out while its campaign is folded)."""

    origin: int
    counters: Array
    room: Array | None = None

    @property
    def end(self) -> int:
        return self.origin + int(self.counters.shape[1])


def encode_day(counters: Array) -> str:
    return base64.b64encode(np.ascontiguousarray(counters, dtype="<f8").tobytes()).decode()


def decode_day(text: str) -> Array:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").reshape(COUNTERS, DAY_HOURS)


@dataclass(slots=True)
class _Campaign:
    """One campaign's part of a batch."""

    key: str
    last: Raw
    head: Value | None
    series: Series
    prior_newest: int | None
    newest: int | None
    targets: list[int]
    episodes: dict[str, dict[str, dict[str, int]]]
    derived: Derived | None = None  # the memoised figures still valid (None: not held)
    days: dict[int, Array | None] = field(default_factory=dict)  # changed days (None: dropped)


class Detector:
    """The stream's detector: ``detect`` is a pure function of the batch and the state it looks
    up; the instance only memoises decoded series (see the module docstring)."""

    def __init__(self, policy: AnomalyPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.retain_hours = policy.lookback_hours + policy.max_lateness_hours + 1
        self.layout = Layout.of(policy)
        self._cache: OrderedDict[str, tuple[Value, Series, Derived | None]] = OrderedDict()

    def detect(self, events: Events, lookup: Lookup) -> Detected:
        """Fold a batch's report rows into the campaigns' states; their alerts."""
        by_campaign: dict[str, list[tuple[Raw, Mapping[str, Any]]]] = defaultdict(list)
        for raw, value in zip(events.raws, events.values, strict=True):
            by_campaign[campaign_key(value)].append((raw, value))
        out = Detected()
        campaigns = []
        for key in sorted(by_campaign):
            records, last = self._records(out, key, by_campaign[key], lookup)
            campaigns.append(self._absorb(key, last, anomaly.hourly_points(records), lookup))
        jobs = [self._job(c) for c in campaigns if c.targets]
        judge(self.layout, jobs)
        found = {job.key: job for job in jobs}
        for c in campaigns:
            job = found.get(c.key)
            if job is not None:
                c.derived = job.derived
                for metric_index, hour, severity, scores in sorted(job.found):
                    self._raise(out, c, metric_index, hour, severity, scores)
            self._write(out, c)
        return out

    def _job(self, c: _Campaign) -> Job:
        """What ``judge`` computes for a campaign: its figures from the first invalid hour (on
        a miss, from as far back as its oldest judgeable hour reads) to its newest."""
        assert c.newest is not None
        derived = c.derived
        if derived is None:
            back = c.series.origin if c.prior_newest is None else max(
                c.series.origin, c.prior_newest - self.layout.keep_hours)
            derived = Derived(back, np.empty((self.layout.rows, 0)), 0)
        return Job(c.key, c.series.origin, c.series.counters, derived, derived.end, c.newest + 1,
                   c.targets)

    def _records(self, out: Detected, key: str, held: list[tuple[Raw, Mapping[str, Any]]],
                 lookup: Lookup) -> tuple[Sequence[Mapping[str, Any]], Raw]:
        """The campaign's CAMPAIGN-level records of the batch (summed from its finer rows when
        it reports none), updating ``anomaly_parts``."""
        last = max(held, key=lambda rv: rv[0].offset)[0]
        position = {"offset": last.offset}
        campaign_rows = [v for _, v in held if v["level"] == "CAMPAIGN"]
        finer = [v for _, v in held if v["level"] != "CAMPAIGN"]
        stored = lookup(PARTS_TABLE, key)
        own_totals = bool(stored and stored.get("campaign_level"))
        records: Sequence[Mapping[str, Any]] = campaign_rows
        if campaign_rows and not own_totals:
            # the campaign reports its own totals: from now on its finer rows are not summed
            out.changes.setdefault(PARTS_TABLE, {})[key] = (
                last.partition, {"hours": {}, "campaign_level": True, **position})
        elif finer and not campaign_rows and not own_totals:
            parts, hours = absorb_parts(stored, finer)
            out.changes.setdefault(PARTS_TABLE, {})[key] = (last.partition, {**parts, **position})
            records = totals(parts, key, hours)
        return records, last

    def _load(self, key: str, head: Value | None, lookup: Lookup) -> tuple[Series, Derived | None]:
        # taken out while the campaign is folded (``_write`` puts it back): a batch that fails
        # half-way leaves no entry whose counters it may have appended to
        cached = self._cache.pop(key, None)
        if head is not None and cached is not None and cached[0] is head:
            return cached[1], cached[2]
        days = sorted(int(d) for d in (head or {}).get("days", ()))
        if not days:
            return Series(0, np.empty((COUNTERS, 0))), None
        counters = np.full((COUNTERS, (days[-1] - days[0] + 1) * DAY_HOURS), np.nan)
        for day in days:
            held = lookup(HOURS_TABLE, f"{key}|{day}")
            if held is not None:
                at = (day - days[0]) * DAY_HOURS
                counters[:, at:at + DAY_HOURS] = decode_day(held["counters"])
        return Series(days[0] * DAY_HOURS, counters), None

    def _absorb(self, key: str, last: Raw, points: list[anomaly.HourPoint],
                lookup: Lookup) -> _Campaign:
        head = lookup(CAMPAIGNS_TABLE, key)
        old, derived = self._load(key, head, lookup)
        prior = None if head is None else head.get("newest")
        newest = max([p.hour for p in points] + ([prior] if prior is not None else []),
                     default=None)
        episodes = {m: {d: dict(e) for d, e in v.items()}
                    for m, v in ((head or {}).get("episodes") or {}).items()}
        c = _Campaign(key, last, head, old, prior, newest, [], episodes, derived)
        if newest is None:
            return c
        if prior is not None:  # older hours can neither be judged nor enter a judged score
            points = [p for p in points if p.hour > prior - self.retain_hours]
            if not points:
                return c
        # the whole series while the batch is judged (a long batch's first hours need their
        # history); ``_write`` keeps what later batches can need
        lo_day = min(([old.origin // DAY_HOURS] if old.counters.shape[1] else [])
                     + [p.hour // DAY_HOURS for p in points])
        hi_day = newest // DAY_HOURS
        (counters, room), origin = _grown(old, lo_day * DAY_HOURS, (hi_day + 1) * DAY_HOURS)
        hours = np.array([p.hour for p in points])  # one point an hour (hourly_points)
        values = np.array([[p.impressions, p.clicks, p.cost, p.conversions, p.value]
                           for p in points]).T
        stored = counters[:, hours - origin]
        # a redelivery changes nothing: nothing new to store or judge
        changed = ~(stored == values).all(axis=0)
        hours = hours[changed]
        counters[:, hours - origin] = values[:, changed]
        if hours.size and c.derived is not None:  # figures from a changed hour on are stale
            c.derived = c.derived.upto(int(hours.min()))
        changed_days = set((hours // DAY_HOURS).tolist())
        late = -np.inf if prior is None else prior - self.policy.max_lateness_hours
        c.targets = sorted(hours[hours >= late].tolist())
        c.series = Series(origin, counters, room)
        floor = (newest - self.retain_hours + 1) // DAY_HOURS  # older days are not held
        for day in changed_days:
            if day >= floor:
                at = day * DAY_HOURS - origin
                c.days[day] = counters[:, at:at + DAY_HOURS]
        for day in (head or {}).get("days", ()):
            if int(day) < floor:
                c.days[int(day)] = None
        return c

    def _raise(self, out: Detected, c: _Campaign, metric_index: int, hour: int, severity: int,
               scores: tuple[Any, ...]) -> None:
        metric = METRICS[metric_index]
        z, value, baseline, change, window = scores
        direction: anomaly.Direction = "up" if z > 0 else "down"
        held = c.episodes.setdefault(metric, {})
        episode, status = anomaly.step_episode(held.get(direction), hour, severity, self.policy)
        if episode is not None:
            held[direction] = episode
        if status is None or episode is None:
            return
        add_alert(out, anomaly.Alert(
            c.key, metric, direction, status, anomaly.SEVERITIES[severity], hour * HOUR_MS,
            episode["since"] * HOUR_MS, value, baseline, change, z, window), c.last)

    def _write(self, out: Detected, c: _Campaign) -> None:
        """The campaign's changed days and its head, positioned at its last event."""
        partition, position = c.last.partition, {"offset": c.last.offset}
        hours = out.changes.setdefault(HOURS_TABLE, {})
        for day, counters in sorted(c.days.items()):
            hours[f"{c.key}|{day}"] = (partition, None if counters is None else {
                "counters": encode_day(counters), **position, "partition": partition})
        held = {int(d) for d in (c.head or {}).get("days", ())}
        days = sorted((held | {d for d, v in c.days.items() if v is not None})
                      - {d for d, v in c.days.items() if v is None})
        newest = c.newest
        reach = self.policy.cooldown_hours + self.policy.max_lateness_hours
        episodes = {m: kept for m, v in c.episodes.items()
                    if (kept := {d: e for d, e in v.items()
                                 if newest is None or e["last"] + reach >= newest})}
        head: Value = {"days": days, "newest": newest, "episodes": episodes, **position,
                       "partition": partition}
        out.changes.setdefault(CAMPAIGNS_TABLE, {})[c.key] = (partition, head)
        s = c.series
        if days and days[0] * DAY_HOURS > s.origin:
            cut = days[0] * DAY_HOURS - s.origin
            s = Series(s.origin + cut, s.counters[:, cut:], None if s.room is None else s.room[:, cut:])
        self._cache[c.key] = (head, s, c.derived)
        self._cache.move_to_end(c.key)
        while len(self._cache) > CACHED_CAMPAIGNS:
            self._cache.popitem(last=False)


def _grown(old: Series, start: int, end: int) -> tuple[tuple[Array, Array], int]:
    """The counters of hours ``[start, end)`` (NaN where ``old`` holds none), their buffer and
    origin: ``old``'s own buffer, grown in place, when it starts no later and has the room;
    else a copy with a week of spare columns."""
    room = old.room
    if room is not None and old.origin <= start and end - old.origin <= room.shape[1]:
        # columns past ``old.end`` may hold what a later, abandoned state wrote: reset them
        room[:, old.end - old.origin:end - old.origin] = np.nan
        return (room[:, :end - old.origin], room), old.origin
    origin = min(start, old.origin) if old.counters.shape[1] else start
    room = np.full((COUNTERS, end - origin + SPARE_HOURS), np.nan)
    a, b = max(old.origin, origin), min(old.end, end)
    if b > a:
        room[:, a - origin:b - origin] = old.counters[:, a - old.origin:b - old.origin]
    return (room[:, :end - origin], room), origin


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
