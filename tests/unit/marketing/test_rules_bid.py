"""Bid rule: direction, the ±20 % cap, minimum data, targets and baselines, budget limits."""

from __future__ import annotations

import math

from streams.marketing.rules import BidPolicy, CampaignWindow, Totals, bid_rule, ratio_z

POLICY = BidPolicy()


def window(roas: float = 4.0, conversions: float = 60, clicks: float = 2000, target_roas: float | None = 2.0,
           target_cpa: float | None = None, baseline: Totals | None = None, budget: float | None = None,
           impressions: float = 100_000) -> CampaignWindow:
    cost = 1000.0
    recent = Totals(impressions, clicks, cost, conversions, roas * cost)
    return CampaignWindow("c1", 7, recent, baseline or Totals(), bid=1.0, budget=budget,
                          target_cpa=target_cpa, target_roas=target_roas)


def test_roas_above_target_raises_the_bid_by_at_most_twenty_percent() -> None:
    [rec] = bid_rule(window(roas=6.0), POLICY, 0)
    assert rec.action == "set_bid" and rec.change == 0.2 and rec.proposed == 1.2
    assert rec.confidence > 0.99 and rec.data["efficiency"] == 3.0
    assert "raise" in rec.rationale and rec.expected_effect > 0


def test_roas_below_target_lowers_the_bid_by_at_most_twenty_percent() -> None:
    [rec] = bid_rule(window(roas=0.8), POLICY, 0)
    assert rec.change == -0.2 and rec.proposed == 0.8


def test_small_gap_moves_in_proportion_and_dead_band_says_nothing() -> None:
    [rec] = bid_rule(window(roas=2.5), POLICY, 0)
    assert 0 < rec.change < 0.2
    assert math.isclose(rec.change, POLICY.gain * math.log(1.25), rel_tol=1e-6)
    assert bid_rule(window(roas=2.1), POLICY, 0) == []


def test_not_enough_data_says_nothing() -> None:
    assert bid_rule(window(roas=6.0, conversions=10), POLICY, 0) == []
    assert bid_rule(window(roas=6.0, clicks=50), POLICY, 0) == []


def test_cpa_target_and_baseline_without_target() -> None:
    [rec] = bid_rule(window(roas=1.0, conversions=50, target_roas=None, target_cpa=40.0), POLICY, 0)
    assert rec.change > 0  # CPA 20 against a target of 40
    baseline = Totals(400_000, 8000, 4000.0, 200, 4000.0)  # ROAS 1.0
    [rec] = bid_rule(window(roas=2.0, target_roas=None, baseline=baseline), POLICY, 0)
    assert rec.change > 0 and "baseline" in rec.rationale
    assert bid_rule(window(roas=2.0, target_roas=None), POLICY, 0) == []


def test_budget_limited_campaign_is_not_raised_but_can_be_lowered() -> None:
    assert bid_rule(window(roas=6.0, budget=150.0), POLICY, 0) == []  # spends 143 of 150 a day
    assert bid_rule(window(roas=0.8, budget=150.0), POLICY, 0)[0].change < 0


def test_significant_ctr_decline_pushes_the_bid_down_further() -> None:
    same = Totals(100_000, 2000, 1000.0, 60, 2000.0)
    worse = Totals(100_000, 4000, 1000.0, 60, 2000.0)  # CTR halved since the baseline
    assert ratio_z(2000, 100_000, 4000, 100_000) < -2
    [plain] = bid_rule(window(roas=2.6, baseline=same), POLICY, 0)
    [pushed] = bid_rule(window(roas=2.6, baseline=worse), POLICY, 0)
    assert pushed.change < plain.change
