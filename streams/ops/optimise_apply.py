"""Approving, rejecting, applying and verifying recommendations.

``transition`` reads a request's audit rows back from ClickHouse, moves it through the
approval state machine (``streams.marketing.approval``) and returns the new transitions to
publish. Approving a live request applies it at once: the connector of its platform sends
the change under the request id as idempotency key (one key per ad group when a campaign's
bid is its ad groups' bids), so a retried or repeated approval never applies a change twice.
A platform that refuses or stays unavailable, or a lever no connector can move, ends the
request in ``failed`` with the reason; a dry run is marked applied and sends nothing.

``verify_due`` closes the loop: a request applied live at least ``verify_after_hours`` ago is
verified or failed by comparing its campaign's value minus cost per day after the change
with the days before it, against the expected effect (``approval.verify``).

Mapping of levers to platform calls:
- ``set_bid`` (Google Ads): every ad group of the campaign gets its reported bid times
  proposed / current (``adGroups:mutate``); (Meta) the ad sets' ``bid_amount``;
- ``set_budget`` (Google Ads): the campaign's budget resource (``campaignBudgets:mutate``);
  (Meta) the campaign's ``daily_budget`` in the currency's minor units;
- anything else (hour-of-week schedules, creatives, segments, alerts) is not applied by a
  connector: approving it fails with that reason, to be done by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final, Literal

from streams.kernel.records import OutputRecord
from streams.marketing import approval
from streams.marketing import recommendations as recs
from streams.marketing.connectors.base import Connector, PlatformError, PlatformUnavailable
from streams.marketing.connectors.google_ads import GoogleAdsConnector
from streams.marketing.connectors.meta import MetaConnector
from streams.marketing.rules import Recommendation
from streams.ops.optimise import LEVERS_SQL, MICROS, Levers, Query, levers_of, request_rows

Decision = Literal["approve", "reject"]
APPLIED_BY_CONNECTORS: Final = frozenset({"set_bid", "set_budget"})


class Unsupported(Exception):
    """No connector can make this change."""


async def execute(call: approval.PlatformCall, rec: Recommendation, levers: Mapping[str, Levers],
                  connectors: Mapping[str, Connector]) -> str:
    """Send the change; a description of what was sent."""
    platform, campaign = recs.split_key(rec.campaign_id)
    if call.action not in APPLIED_BY_CONNECTORS or call.proposed is None:
        raise Unsupported(f"{call.action} is not applied by a connector; apply it by hand")
    connector = connectors.get(platform)
    lever = levers.get(rec.campaign_id)
    if connector is None or lever is None:
        raise Unsupported(f"no {platform} connector or reported levers for {rec.campaign_id}")
    rid = call.request_id
    if call.action == "set_bid":
        if not rec.current or not lever.ad_group_bids:
            raise Unsupported(f"{rec.campaign_id} reports no ad group bids")
        ratio = call.proposed / rec.current
        sent = []
        for group, bid in sorted(lever.ad_group_bids.items()):
            new = round(bid * ratio)
            if isinstance(connector, GoogleAdsConnector):
                await connector.set_bid(lever.account_id, group, new, f"{rid}:{group}")
            elif isinstance(connector, MetaConnector):
                await connector.update(group, f"{rid}:{group}", currency=lever.currency,
                                       bid_amount_micros=new)
            else:
                raise Unsupported(f"{platform} bids are not set through its connector")
            sent.append(f"{group}: {bid / MICROS:.2f} -> {new / MICROS:.2f}")
        return "bids " + ", ".join(sent)
    amount = round(call.proposed * MICROS)
    if isinstance(connector, GoogleAdsConnector):
        budgets = await connector.campaign_budgets(lever.account_id)
        if campaign not in budgets:
            raise Unsupported(f"campaign {campaign} has no budget resource")
        await connector.set_budget(lever.account_id, budgets[campaign], amount, rid)
    elif isinstance(connector, MetaConnector):
        await connector.update(campaign, rid, currency=lever.currency, daily_budget_micros=amount)
    else:
        raise Unsupported(f"{platform} budgets are not set through its connector")
    return f"budget {lever.budget:.2f} -> {call.proposed:.2f} {lever.currency}"


def transition(query: Query, request_id: str, decision: Decision, actor: str, reason: str,
               at_ms: int, connectors: Mapping[str, Connector]
               ) -> tuple[approval.Ledger, list[OutputRecord], str]:
    """Approve (and apply) or reject ``request_id``: the ledger after it, the records of the
    new transitions, and what happened on the platform."""
    ledger = recs.ledger_from_rows(request_rows(query, request_id))
    if request_id not in ledger.requests:
        raise approval.TransitionError(f"unknown request {request_id} (is the worker sinking "
                                       "the recommendations topic?)")
    before = len(ledger.audit)
    outcome = ""
    if decision == "reject":
        ledger = approval.reject(ledger, request_id, actor, at_ms, reason)
    else:
        ledger = approval.approve(ledger, request_id, actor, at_ms, reason)
        applied, call = approval.apply(ledger, request_id, actor, at_ms)
        if call is None:
            ledger, outcome = applied, "nothing sent (a dry run, or applied before)"
        else:
            rec = ledger.requests[request_id].recommendation
            try:
                outcome = asyncio.run(execute(call, rec, levers_of(query(LEVERS_SQL, {})),
                                              connectors))
                ledger = applied
            except (PlatformError, PlatformUnavailable, Unsupported) as exc:
                outcome = f"failed: {exc}"
                ledger = approval.fail(ledger, request_id, actor, at_ms, str(exc))
    return ledger, recs.audit_records(ledger, before), outcome


WINDOW_SQL: Final = """
SELECT sum(k.spend) AS cost, sum(k.conversion_value) AS value
FROM campaign_kpis AS k FINAL
INNER JOIN
(
    SELECT platform, campaign_id,
           min(multiIf(level = 'CAMPAIGN', 0, level = 'AD_GROUP', 1, 2)) AS top
    FROM campaign_kpis FINAL
    WHERE platform = {platform:String} AND campaign_id = {campaign:String}
    GROUP BY platform, campaign_id
) AS m ON k.platform = m.platform AND k.campaign_id = m.campaign_id
WHERE multiIf(k.level = 'CAMPAIGN', 0, k.level = 'AD_GROUP', 1, 2) = m.top
  AND k.interval_start >= fromUnixTimestamp64Milli({first:Int64})
  AND k.interval_start < fromUnixTimestamp64Milli({after:Int64})
"""
DAY_MS: Final = 86_400_000


def _window(query: Query, rec: Recommendation, first: int, after: int) -> tuple[float, float]:
    platform, campaign = recs.split_key(rec.campaign_id)
    rows = query(WINDOW_SQL, {"platform": platform, "campaign": campaign, "first": first,
                              "after": after})
    row = rows[0] if rows else {}
    return float(row.get("value") or 0.0), float(row.get("cost") or 0.0)


def verify_due(query: Query, actor: str, at_ms: int,
               policy: approval.ApprovalPolicy | None = None, days: float = 7.0
               ) -> tuple[approval.Ledger, list[OutputRecord], list[str]]:
    """Verify every request applied live at least ``policy.verify_after_hours`` ago: its
    campaign's value minus cost per day over up to ``days`` after the change against the
    ``days`` before it (``approval.observed_effect``), compared with the expected effect."""
    policy = policy or approval.ApprovalPolicy()
    ledger = recs.ledger_from_rows(request_rows(query))
    before = len(ledger.audit)
    lines = []
    for rid, req in sorted(ledger.requests.items()):
        if req.status != "applied" or req.dry_run or req.applied_ms is None:
            continue
        if at_ms - req.applied_ms < policy.verify_after_hours * 3_600_000:
            continue
        applied = req.applied_ms
        span = min(days * DAY_MS, at_ms - applied)
        value_0, cost_0 = _window(query, req.recommendation, int(applied - days * DAY_MS),
                                  applied)
        value_1, cost_1 = _window(query, req.recommendation, applied, int(applied + span))
        effect = approval.observed_effect(value_0, cost_0, days, value_1, cost_1,
                                          span / DAY_MS)
        ledger = approval.verify(ledger, rid, actor, at_ms, effect, policy)
        lines.append(f"{rid}: {ledger.requests[rid].status} (observed {effect:+.2f}/day, "
                     f"expected {req.recommendation.expected_effect:+.2f}/day)")
    return ledger, recs.audit_records(ledger, before), lines
