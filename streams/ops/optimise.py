"""The optimisation cycle run against the pipeline: history and levers from ClickHouse,
recommendations and their approval transitions to the ``recommendations`` topic (the worker
sinks them into the ``recommendations`` table, the audit trail), approvals applied through
the platform connectors (``optimise_apply``).

- ``cycle``: one ``optimise.run_cycle`` at the start of the current hour over the hourly
  history of ``campaign_kpis`` (each campaign's coarsest reported level, latest revisions),
  with the guard state of the changes applied so far; accepted recommendations are submitted
  as pending (dry runs unless asked otherwise), refused ones recorded with their guard rail.
- ``backtest``: the cycle replayed daily over the history since a date, the changes it
  would have made applied to the levers as it goes (``backtest.backtest``).
- ``transition``: approve (then apply) or reject one request; the request's audit rows are
  read back from ClickHouse and the new transitions published.

Invariants: nothing is sent to a platform except by ``transition`` on a request that was
submitted live and approved; every transition is published before the command returns; a
cycle run twice in the same hour submits the same request ids (no duplicates).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from streams.contract.codec import AvroCodec
from streams.io.publisher import Outgoing, Publisher
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
from streams.marketing import approval
from streams.marketing import recommendations as recs
from streams.marketing.backtest import BacktestReport, backtest, history_from_rows
from streams.marketing.guardrails import DataFlags
from streams.marketing.optimise import (
    CampaignSettings,
    CycleInputs,
    CycleResult,
    HourlyHistory,
    OptimisationPolicy,
    run_cycle,
)
from streams.marketing.rules_daypart import HOURS_OF_WEEK
from streams.settings import Settings

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
MICROS: Final = 1_000_000
ACTOR: Final = "optimiser"
_RANK: Final = "multiIf(level = 'CAMPAIGN', 0, level = 'AD_GROUP', 1, 2)"
HISTORY_SQL: Final = f"""
SELECT k.platform AS platform, k.campaign_id AS campaign_id,
       toUnixTimestamp(toStartOfHour(k.interval_start)) * 1000 AS hour,
       sum(k.impressions) AS impressions, sum(k.clicks) AS clicks, sum(k.spend) AS spend,
       sum(k.conversions) AS conversions, sum(k.conversion_value) AS conversion_value
FROM campaign_kpis AS k FINAL
INNER JOIN
(
    SELECT platform, campaign_id, min({_RANK}) AS top
    FROM campaign_kpis FINAL
    WHERE interval_start >= fromUnixTimestamp64Milli({{since:Int64}})
    GROUP BY platform, campaign_id
) AS m ON k.platform = m.platform AND k.campaign_id = m.campaign_id
WHERE multiIf(k.level = 'CAMPAIGN', 0, k.level = 'AD_GROUP', 1, 2) = m.top
  AND k.interval_start >= fromUnixTimestamp64Milli({{since:Int64}})
  AND k.interval_start < fromUnixTimestamp64Milli({{until:Int64}})
GROUP BY platform, campaign_id, hour
ORDER BY platform, campaign_id, hour
"""
LEVERS_SQL: Final = """
SELECT platform, account_id, campaign_id, level, ad_group_id, ad_id, bid_micros, budget_micros,
       currency
FROM campaign_levers FINAL
ORDER BY platform, campaign_id, level, ad_group_id, ad_id
"""
REQUEST_SQL: Final = """
SELECT request_id, status, from_status, actor, toUnixTimestamp64Milli(at) AS at, reason, dry_run,
       rule, action, entity, platform, campaign_id, toUnixTimestamp64Milli(as_of) AS as_of,
       current, proposed, change, expected_effect, confidence, rationale, data, modifiers
FROM recommendations FINAL
WHERE {where}
ORDER BY at, request_id
"""

Query = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]


def querier_query(settings: Settings) -> Query:
    """Rows as dicts through the worker (embedded engine) or ClickHouse directly."""
    querier = Querier(settings)

    def run(sql: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return querier.sql(sql, parameters).dicts()

    return run


@dataclass(frozen=True)
class Levers:
    """A campaign's levers as last reported (currency units; NaN when not reported)."""

    account_id: str
    currency: str
    bid: float
    budget: float
    ad_group_bids: Mapping[str, int] = field(default_factory=dict)  # ad group -> bid micros


def levers_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, Levers]:
    """``<platform>:<campaign_id>`` -> its levers: the campaign row's bid, else the mean of its
    ad groups' bids; the largest budget reported on any of its rows."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(f"{row['platform']}:{row['campaign_id']}", []).append(row)
    out: dict[str, Levers] = {}
    for key, held in grouped.items():
        groups = {str(r["ad_group_id"]): int(r["bid_micros"]) for r in held
                  if r["ad_group_id"] and r["bid_micros"] is not None}
        own = [r["bid_micros"] for r in held if r["level"] == "CAMPAIGN" and r["bid_micros"]]
        bid = (own[0] if own else float(np.mean(list(groups.values()))) if groups else math.nan)
        budgets = [r["budget_micros"] for r in held if r["budget_micros"] is not None]
        out[key] = Levers(str(held[0]["account_id"]), str(held[0]["currency"]),
                          bid / MICROS, max(budgets) / MICROS if budgets else math.nan, groups)
    return out


def load_history(query: Query, since_ms: int, until_ms: int) -> HourlyHistory | None:
    rows = query(HISTORY_SQL, {"since": since_ms, "until": until_ms})
    if not rows:
        return None
    return history_from_rows(
        {"platform": r["platform"], "campaign_id": r["campaign_id"], "level": "CAMPAIGN",
         "interval_start": int(r["hour"]), "reported_at": 0, "impressions": r["impressions"],
         "clicks": r["clicks"], "cost_micros": float(r["spend"]) * MICROS,
         "conversions": r["conversions"], "conversion_value": r["conversion_value"]}
        for r in rows)


def campaign_settings(history: HourlyHistory, levers: Mapping[str, Levers]) -> CampaignSettings:
    """Levers aligned with the history; a portfolio is an account (budgets move within it)."""
    n = len(history.campaign_ids)
    got = [levers.get(cid) for cid in history.campaign_ids]
    return CampaignSettings(
        bid=np.array([g.bid if g else math.nan for g in got]),
        budget=np.array([g.budget if g else math.nan for g in got]),
        target_cpa=np.full(n, math.nan), target_roas=np.full(n, math.nan),
        portfolio=tuple(f"{cid.partition(':')[0]}:{g.account_id}" if g and not math.isnan(g.budget)
                        else "" for cid, g in zip(history.campaign_ids, got, strict=True)),
        creative_ids=history.campaign_ids, creative_start=np.zeros(n, dtype=np.int64),
        hour_modifiers=np.ones((n, HOURS_OF_WEEK)))


def request_rows(query: Query, request_id: str | None = None) -> list[dict[str, Any]]:
    if request_id is None:
        return query(REQUEST_SQL.format(where="1"), {})
    return query(REQUEST_SQL.format(where="request_id = {rid:String}"), {"rid": request_id})


@dataclass(frozen=True)
class CycleRun:
    result: CycleResult
    history: HourlyHistory
    submitted: tuple[str, ...]  # request ids, in the order of ``result.outcome.accepted``
    records: tuple[OutputRecord, ...]


def cycle(query: Query, now_ms: int, *, days: int, dry_run: bool = True,
          policy: OptimisationPolicy | None = None,
          anomalous: frozenset[str] = frozenset()) -> CycleRun | None:
    """One cycle at the start of the current hour over the last ``days`` days; None when
    ClickHouse holds no history yet."""
    policy = policy or OptimisationPolicy()
    until = now_ms // HOUR_MS * HOUR_MS
    history = load_history(query, until - days * DAY_MS, until)
    if history is None:
        return None
    settings = campaign_settings(history, levers_of(query(LEVERS_SQL, {})))
    audit = request_rows(query)
    state = recs.guard_state_from_rows(audit)
    t = (until - history.start_ms) // HOUR_MS
    result = run_cycle(history, settings, int(t), policy, state,
                       CycleInputs(flags=DataFlags(anomalous=anomalous)))
    ledger = recs.ledger_from_rows(audit)
    before = len(ledger.audit)
    ids = []
    for rec in result.outcome.accepted:
        ledger, rid = approval.submit(ledger, rec, ACTOR, now_ms, dry_run)
        ids.append(rid)
    records = recs.audit_records(ledger, before)
    records += [recs.refusal_record(r, approval.request_id(r.recommendation), ACTOR, now_ms,
                                    dry_run) for r in result.outcome.refused]
    return CycleRun(result, history, tuple(ids), tuple(records))


def replay(query: Query, now_ms: int, since_days: int, policy: OptimisationPolicy | None = None
           ) -> tuple[BacktestReport, HourlyHistory] | None:
    """The daily cycle replayed over the last ``since_days`` days (the first cycle after a
    week of history, or at the end when there is less)."""
    policy = policy or OptimisationPolicy()
    until = now_ms // HOUR_MS * HOUR_MS
    history = load_history(query, until - since_days * DAY_MS, until)
    if history is None:
        return None
    settings = campaign_settings(history, levers_of(query(LEVERS_SQL, {})))
    first = max(1, min(history.hours, policy.recent_days * 24))
    return backtest(history, settings, policy, first_hour=first, every_hours=24), history


class Publishing:
    """Publishes records (Avro, to their topics, keyed as they say); durable on return."""

    def __init__(self, settings: Settings) -> None:
        self.codec = AvroCodec.from_settings(settings)
        self.settings = settings

    def publish(self, records: Sequence[OutputRecord]) -> None:
        if not records:
            return
        publisher = Publisher(self.settings)
        try:
            asyncio.run(publisher.publish([
                Outgoing(self.settings.topic(r.topic), r.key.encode(),
                         self.codec.encode(r.topic, r.value)) for r in records]))
        finally:
            publisher.close()


def now_ms() -> int:
    return int(time.time() * 1000)
