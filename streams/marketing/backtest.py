"""Backtest: replay hourly history through the optimisation cycle and report what would change.

``history_from_rows`` turns ``ad.metrics`` rows (``schemas/avro/ad_metric.v1.avsc``: hourly
CAMPAIGN rows, amounts in micros) into the columnar history, the latest report of an interval
winning as in the contract. ``backtest`` runs a cycle every ``every_hours`` from ``first_hour``,
each seeing only the hours before it; accepted changes are applied to the levers and recorded in
the guard state, so cooldowns and daily caps act as they would have live. History itself is not
changed by the replay: what a change would have done to delivery is the simulator's business.

Invariants: pure and deterministic; a cycle never reads an hour at or after its own time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from streams.marketing import guardrails
from streams.marketing.guardrails import GuardState, Refusal
from streams.marketing.optimise import (
    CampaignSettings,
    CycleInputs,
    HourlyHistory,
    OptimisationPolicy,
    apply_changes,
    run_cycle,
)
from streams.marketing.rules import Recommendation

HOUR_MS: Final = 3_600_000
MICROS: Final = 1_000_000


def history_from_rows(rows: Iterable[Mapping[str, Any]]) -> HourlyHistory:
    """Columnar hourly history of the CAMPAIGN rows; a later ``reported_at`` replaces an earlier.

    Keys are ``<platform>:<campaign_id>``; intervals are bucketed by the hour they start in;
    ``extra["frequency"]`` becomes the frequency column when any row reports it.
    """
    latest: dict[tuple[str, int], Mapping[str, Any]] = {}
    for row in rows:
        if row.get("level", "CAMPAIGN") != "CAMPAIGN":
            continue
        key = (f"{row['platform']}:{row['campaign_id']}", int(row["interval_start"]) // HOUR_MS)
        seen = latest.get(key)
        if seen is None or int(row["reported_at"]) >= int(seen["reported_at"]):
            latest[key] = row
    if not latest:
        raise ValueError("no CAMPAIGN rows to replay")
    ids = tuple(sorted({k for k, _ in latest}))
    first = min(h for _, h in latest)
    hours = max(h for _, h in latest) - first + 1
    index = {cid: i for i, cid in enumerate(ids)}
    cols = {name: np.zeros((len(ids), hours)) for name in
            ("impressions", "clicks", "cost", "conversions", "value", "frequency")}
    has_frequency = False
    for (cid, hour), row in latest.items():
        i, j = index[cid], hour - first
        cols["impressions"][i, j] += row["impressions"]
        cols["clicks"][i, j] += row["clicks"]
        cols["cost"][i, j] += row["cost_micros"] / MICROS
        cols["conversions"][i, j] += row["conversions"]
        cols["value"][i, j] += row["conversion_value"]
        frequency = (row.get("extra") or {}).get("frequency")
        if frequency is not None:
            cols["frequency"][i, j] = frequency
            has_frequency = True
    return HourlyHistory(ids, first * HOUR_MS, cols["impressions"], cols["clicks"], cols["cost"],
                         cols["conversions"], cols["value"],
                         cols["frequency"] if has_frequency else None)


@dataclass(frozen=True)
class CycleSummary:
    hour: int
    as_of_ms: int
    accepted: tuple[Recommendation, ...]
    refused: tuple[Refusal, ...]


@dataclass(frozen=True)
class BacktestReport:
    cycles: tuple[CycleSummary, ...]
    start: CampaignSettings
    end: CampaignSettings
    accepted_by_action: Mapping[str, int] = field(default_factory=dict)
    refused_by_guard: Mapping[str, int] = field(default_factory=dict)

    def bid_moves(self, ids: tuple[str, ...]) -> dict[str, float]:
        """Relative bid change per campaign from the first cycle to the end."""
        return {cid: float(self.end.bid[i] / self.start.bid[i] - 1) for i, cid in enumerate(ids)
                if self.start.bid[i] > 0 and self.end.bid[i] != self.start.bid[i]}

    def budget_moves(self, ids: tuple[str, ...]) -> dict[str, float]:
        return {cid: float(self.end.budget[i] / self.start.budget[i] - 1) for i, cid in enumerate(ids)
                if self.start.budget[i] > 0 and self.end.budget[i] != self.start.budget[i]}


def backtest(history: HourlyHistory, settings: CampaignSettings, policy: OptimisationPolicy,
             first_hour: int, every_hours: int = 24,
             inputs_at: Callable[[int], CycleInputs] | None = None,
             act_on_alerts: bool = False) -> BacktestReport:
    """Cycles at ``first_hour``, ``first_hour + every_hours``, ... up to the end of the history.

    ``act_on_alerts`` also applies creative refresh alerts (as if a new creative went live).
    """
    if first_hour < 1 or every_hours < 1:
        raise ValueError("first_hour and every_hours must be positive")
    state, current = GuardState(), settings
    cycles: list[CycleSummary] = []
    accepted_by: Counter[str] = Counter()
    refused_by: Counter[str] = Counter()
    for hour in range(first_hour, history.hours + 1, every_hours):
        inputs = inputs_at(hour) if inputs_at else None
        result = run_cycle(history, current, hour, policy, state, inputs)
        accepted = result.outcome.accepted
        applied = [r for r in accepted if r.is_change or act_on_alerts]
        current = apply_changes(current, history.campaign_ids, applied, hour)
        state = guardrails.record(state, accepted, result.as_of_ms, policy.guard)
        accepted_by.update(r.action for r in accepted)
        refused_by.update(r.guard for r in result.outcome.refused)
        cycles.append(CycleSummary(hour, result.as_of_ms, accepted, result.outcome.refused))
    return BacktestReport(tuple(cycles), settings, current, dict(accepted_by), dict(refused_by))
