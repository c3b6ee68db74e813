"""Competitive response to impression-share drops and competitor price changes."""

from __future__ import annotations

from streams.marketing.rules import CampaignWindow, Totals
from streams.marketing.rules_competitive import CompetitivePolicy, MarketEvent, competitive_rule

POLICY = CompetitivePolicy()


def windows(roas: float) -> dict[str, CampaignWindow]:
    recent = Totals(100_000, 2000, 1000.0, 50, roas * 1000)
    return {"c": CampaignWindow("c", 7, recent, Totals(), bid=1.0, budget=200.0, target_roas=2.0)}


def drop(after: float, rank: float, budget: float) -> MarketEvent:
    return MarketEvent("impression_share_drop", "c", 0, 0.6, after, lost_to_rank=rank, lost_to_budget=budget)


def test_share_lost_to_rank_on_an_efficient_campaign_raises_the_bid_within_cap() -> None:
    [rec] = competitive_rule([drop(0.3, 0.4, 0.1)], windows(3.0), POLICY, 0)
    assert rec.action == "set_bid" and rec.change == POLICY.max_bid_change


def test_share_lost_to_budget_raises_the_budget() -> None:
    [rec] = competitive_rule([drop(0.45, 0.05, 0.3)], windows(3.0), POLICY, 0)
    assert rec.action == "set_budget" and 0 < rec.change <= POLICY.max_budget_change


def test_inefficient_campaign_is_told_not_to_chase() -> None:
    [rec] = competitive_rule([drop(0.3, 0.4, 0.1)], windows(1.5), POLICY, 0)
    assert rec.action == "alert" and "do not chase" in rec.rationale


def test_small_drops_unknown_campaigns_and_price_moves() -> None:
    assert competitive_rule([drop(0.55, 0.4, 0.0)], windows(3.0), POLICY, 0) == []
    assert competitive_rule([drop(0.3, 0.4, 0.0)], {}, POLICY, 0) == []
    up = MarketEvent("competitor_price_change", "c", 0, 100.0, 110.0, competitor="rival")
    down = MarketEvent("competitor_price_change", "c", 0, 100.0, 80.0, competitor="rival")
    small = MarketEvent("competitor_price_change", "c", 0, 100.0, 102.0)
    assert competitive_rule([up], windows(3.0), POLICY, 0)[0].action == "set_bid"
    [alert] = competitive_rule([down], windows(3.0), POLICY, 0)
    assert alert.action == "alert" and "-20%" in alert.rationale
    assert competitive_rule([small], windows(3.0), POLICY, 0) == []
