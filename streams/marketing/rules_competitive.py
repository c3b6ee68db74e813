"""Competitive response: market-intelligence events turned into recommendations.

Events: an auction-insights impression-share drop (with the share lost to rank and to budget),
or a competitor's price change. The response depends on whether the campaign can afford to
fight: only a campaign beating its efficiency target is told to raise a bid or budget; one below
target gets an alert not to chase the auction.

Invariants:
- bid moves stay within ±``max_bid_change`` and budget moves within ``max_budget_change``;
- events below their thresholds (share drop, price change) say nothing;
- an event about a campaign without a window (unknown campaign) says nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from streams.marketing.rules import CampaignWindow, Recommendation, profit_change


@dataclass(frozen=True)
class MarketEvent:
    kind: Literal["impression_share_drop", "competitor_price_change"]
    campaign_id: str
    at_ms: int
    before: float  # impression share (0..1) or the competitor's price
    after: float
    lost_to_rank: float = 0.0  # share lost to ad rank after the drop (auction insights)
    lost_to_budget: float = 0.0
    competitor: str = ""


@dataclass(frozen=True)
class CompetitivePolicy:
    min_share_drop: float = 0.10  # absolute points of impression share
    min_price_change: float = 0.05
    max_bid_change: float = 0.15
    max_budget_change: float = 0.2
    headroom: float = 1.1  # efficiency / target needed to fight
    cost_elasticity: float = 1.2
    value_elasticity: float = 0.7


def _efficiency(w: CampaignWindow) -> float | None:
    r = w.recent
    if w.target_roas:
        return r.roas / w.target_roas
    if w.target_cpa and r.conversions > 0:
        return w.target_cpa / r.cpa
    return None


def competitive_rule(events: Sequence[MarketEvent], windows: Mapping[str, CampaignWindow],
                     policy: CompetitivePolicy, as_of_ms: int) -> list[Recommendation]:
    out: list[Recommendation] = []
    for e in events:
        w = windows.get(e.campaign_id)
        if w is None:
            continue
        eff = _efficiency(w)
        strong = eff is not None and eff >= policy.headroom
        base = {"before": e.before, "after": e.after, "efficiency": eff if eff is not None else -1.0,
                "lost_to_rank": e.lost_to_rank, "lost_to_budget": e.lost_to_budget}
        entity = f"campaign:{e.campaign_id}"
        cost_day, value_day = w.recent.cost / w.days, w.recent.value / w.days
        if e.kind == "impression_share_drop":
            drop = e.before - e.after
            if drop < policy.min_share_drop:
                continue
            what = f"impression share {e.before:.0%} -> {e.after:.0%}"
            if strong and e.lost_to_budget > e.lost_to_rank and w.budget:
                change = min(policy.max_budget_change, drop / max(e.after, 0.05))
                d_cost = cost_day * change
                d_value = value_day * ((1 + change) ** policy.value_elasticity - 1)
                out.append(Recommendation(
                    rule="competitive", action="set_budget", entity=entity, campaign_id=e.campaign_id,
                    as_of_ms=as_of_ms, current=w.budget, proposed=round(w.budget * (1 + change), 4),
                    change=change, expected_effect=d_value - d_cost, confidence=0.7,
                    rationale=f"{what}, lost mostly to budget, efficiency {eff:.2f}x target: raise budget",
                    data=base))
            elif strong and w.bid:
                change = min(policy.max_bid_change, drop)
                d_cost, d_value = profit_change(cost_day, value_day, change, policy.cost_elasticity,
                                                policy.value_elasticity)
                out.append(Recommendation(
                    rule="competitive", action="set_bid", entity=entity, campaign_id=e.campaign_id,
                    as_of_ms=as_of_ms, current=w.bid, proposed=round(w.bid * (1 + change), 6),
                    change=change, expected_effect=d_value - d_cost, confidence=0.7,
                    rationale=f"{what}, lost mostly to rank, efficiency {eff:.2f}x target: raise bid",
                    data=base))
            else:
                out.append(Recommendation(
                    rule="competitive", action="alert", entity=entity, campaign_id=e.campaign_id,
                    as_of_ms=as_of_ms, current=e.before, proposed=None, change=0.0,
                    expected_effect=0.0, confidence=0.7,
                    rationale=f"{what}; efficiency does not leave room to outbid: hold, do not chase",
                    data=base))
        else:
            move = (e.after - e.before) / e.before if e.before > 0 else 0.0
            if abs(move) < policy.min_price_change:
                continue
            what = f"{e.competitor or 'a competitor'} price {move:+.0%}"
            if move > 0 and strong and w.bid:
                # A dearer competitor sends buyers our way: bid for the extra demand.
                change = min(policy.max_bid_change, move)
                d_cost, d_value = profit_change(cost_day, value_day, change, policy.cost_elasticity,
                                                policy.value_elasticity)
                out.append(Recommendation(
                    rule="competitive", action="set_bid", entity=entity, campaign_id=e.campaign_id,
                    as_of_ms=as_of_ms, current=w.bid, proposed=round(w.bid * (1 + change), 6),
                    change=change, expected_effect=d_value - d_cost, confidence=0.5,
                    rationale=f"{what}: conversion rates should rise; raise bid", data=base))
            else:
                out.append(Recommendation(
                    rule="competitive", action="alert", entity=entity, campaign_id=e.campaign_id,
                    as_of_ms=as_of_ms, current=e.before, proposed=e.after, change=0.0,
                    expected_effect=0.0, confidence=0.5,
                    rationale=f"{what}: expect {'lower' if move < 0 else 'changed'} conversion rates; "
                              "review offers and watch CPA", data=base))
    return out
