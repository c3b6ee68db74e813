"""Recommendations and the bid rule: the shared vocabulary of the optimisation rules.

A rule is a pure function from aggregated history to a list of ``Recommendation``; it never
reads a clock, a platform or a table. Every recommendation carries the rationale, the figures it
was computed from (``data``), its expected effect (change of value minus cost per day in the
account currency, under the stated response model) and a confidence in [0, 1].

Invariants:
- a rule says nothing without enough data (minimum clicks / conversions of its policy);
- a bid recommendation never moves a bid by more than ``BidPolicy.max_change`` (±20 %);
- a budget-limited campaign is never told to raise its bid;
- ``change`` is the relative move of the lever (0 for alerts, which change nothing);
- the same inputs give the same recommendations (no randomness, no clock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

Action = Literal["set_bid", "set_budget", "pause_creative", "refresh_creative",
                 "set_hour_modifiers", "include_segment", "exclude_segment",
                 "set_segment_modifier", "alert"]
RuleName = Literal["bid", "budget", "fatigue", "daypart", "audience", "competitive"]
#: Actions that change nothing on a platform: guard rails on changes do not apply to them.
ALERTS: Final[frozenset[str]] = frozenset({"alert", "refresh_creative"})


@dataclass(frozen=True)
class Totals:
    """Summed delivery of one entity over one window (cost and value in account currency)."""

    impressions: float = 0.0
    clicks: float = 0.0
    cost: float = 0.0
    conversions: float = 0.0
    value: float = 0.0

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions > 0 else 0.0

    @property
    def cvr(self) -> float:
        return self.conversions / self.clicks if self.clicks > 0 else 0.0

    @property
    def cpa(self) -> float:
        return self.cost / self.conversions if self.conversions > 0 else math.inf

    @property
    def roas(self) -> float:
        return self.value / self.cost if self.cost > 0 else 0.0

    @property
    def value_per_click(self) -> float:
        return self.value / self.clicks if self.clicks > 0 else 0.0


@dataclass(frozen=True)
class Recommendation:
    """One proposed change (or alert) with everything a reviewer needs to judge it."""

    rule: RuleName
    action: Action
    entity: str  # what the change applies to: "campaign:<id>", "creative:<id>", "segment:<c>/<s>"
    campaign_id: str
    as_of_ms: int
    current: float | None
    proposed: float | None
    change: float
    expected_effect: float
    confidence: float
    rationale: str
    data: Mapping[str, float] = field(default_factory=dict)
    modifiers: tuple[float, ...] = ()  # hour-of-week modifiers, when the action sets them

    @property
    def is_change(self) -> bool:
        return self.action not in ALERTS

    @property
    def priority(self) -> float:
        """Ranking key: expected effect weighted by confidence."""
        return self.expected_effect * self.confidence


def confidence_of(z: float) -> float:
    """Two-sided confidence that an effect with standard score ``z`` is not zero."""
    return math.erf(abs(z) / math.sqrt(2.0))


def ratio_z(successes_a: float, trials_a: float, successes_b: float, trials_b: float) -> float:
    """Two-proportion z score of rate a against rate b (0 when either side is empty)."""
    if trials_a <= 0 or trials_b <= 0:
        return 0.0
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / trials_a + 1 / trials_b))
    return (successes_a / trials_a - successes_b / trials_b) / se


def profit_change(cost: float, value: float, bid_change: float, cost_elasticity: float,
                  value_elasticity: float) -> tuple[float, float]:
    """(Δcost, Δvalue) of a relative bid change under cost ∝ bid^ce and value ∝ cost^ve."""
    cost_factor = (1 + bid_change) ** cost_elasticity
    return cost * (cost_factor - 1), value * (cost_factor ** value_elasticity - 1)


@dataclass(frozen=True)
class CampaignWindow:
    """A campaign's aggregated history: the recent window, the baseline before it, its levers."""

    campaign_id: str
    days: float  # length of the recent window
    recent: Totals
    baseline: Totals
    bid: float | None
    budget: float | None = None
    target_cpa: float | None = None
    target_roas: float | None = None


@dataclass(frozen=True)
class BidPolicy:
    max_change: float = 0.20
    min_clicks: float = 100
    min_conversions: float = 15
    tolerance: float = 0.10  # dead band around the target: no move within ±10 %
    gain: float = 0.6  # relative bid move per unit of log efficiency gap
    ctr_weight: float = 0.25
    min_ctr_z: float = 2.0
    min_change: float = 0.02
    min_confidence: float = 0.8
    cost_elasticity: float = 1.2  # cost ∝ bid^1.2: more volume at a higher price a click
    value_elasticity: float = 0.7  # value ∝ cost^0.7: diminishing returns
    budget_limited_at: float = 0.9  # spend / budget from which a bid raise only buys dearer clicks


def bid_rule(w: CampaignWindow, policy: BidPolicy, as_of_ms: int) -> list[Recommendation]:
    """Move the bid by at most ±max_change towards the CPA/ROAS target (or the baseline).

    The efficiency gap is log(ROAS / target ROAS) or log(target CPA / CPA); without a target,
    the recent ROAS against the baseline's. A CTR change against the baseline that is
    significant adds a smaller push; a baseline trend against the move halves it.
    """
    r, b = w.recent, w.baseline
    if not w.bid or w.bid <= 0 or r.clicks < policy.min_clicks or r.conversions < policy.min_conversions:
        return []
    if w.target_roas:
        efficiency, basis = r.roas / w.target_roas, f"ROAS {r.roas:.2f} vs target {w.target_roas:.2f}"
    elif w.target_cpa:
        efficiency, basis = w.target_cpa / r.cpa, f"CPA {r.cpa:.2f} vs target {w.target_cpa:.2f}"
    elif b.conversions >= policy.min_conversions and b.roas > 0:
        efficiency, basis = r.roas / b.roas, f"ROAS {r.roas:.2f} vs baseline {b.roas:.2f}"
    else:
        return []
    if efficiency <= 0 or abs(efficiency - 1) <= policy.tolerance:
        return []
    log_eff = math.log(efficiency)
    # Poisson error of a conversion count: the relative error of CPA/ROAS is about 1/sqrt(n).
    z = log_eff * math.sqrt(r.conversions)
    score = log_eff
    ctr_z = ratio_z(r.clicks, r.impressions, b.clicks, b.impressions)
    if abs(ctr_z) >= policy.min_ctr_z and b.ctr > 0 and r.ctr > 0:
        score += policy.ctr_weight * math.log(r.ctr / b.ctr)
    trend_z = 0.0
    if b.conversions >= policy.min_conversions and b.roas > 0 and r.roas > 0:
        trend_z = math.log(r.roas / b.roas) / math.sqrt(1 / r.conversions + 1 / b.conversions)
        if (score > 0 > trend_z + 2) or (score < 0 < trend_z - 2):
            score *= 0.5  # the recent trend argues against the move
    change = max(-policy.max_change, min(policy.max_change, policy.gain * score))
    if change > 0 and w.budget and r.cost / w.days >= policy.budget_limited_at * w.budget:
        return []  # limited by budget: a higher bid buys fewer, dearer clicks (budgets rule's job)
    confidence = confidence_of(z)
    if abs(change) < policy.min_change or confidence < policy.min_confidence:
        return []
    cost_day, value_day = r.cost / w.days, r.value / w.days
    d_cost, d_value = profit_change(cost_day, value_day, change, policy.cost_elasticity,
                                    policy.value_elasticity)
    direction = "raise" if change > 0 else "lower"
    return [Recommendation(
        rule="bid", action="set_bid", entity=f"campaign:{w.campaign_id}", campaign_id=w.campaign_id,
        as_of_ms=as_of_ms, current=w.bid, proposed=round(w.bid * (1 + change), 6),
        change=round(change, 6), expected_effect=d_value - d_cost, confidence=confidence,
        rationale=f"{direction} bid {abs(change):.0%}: {basis} over {w.days:g} days "
                  f"({r.conversions:.0f} conversions, {r.clicks:.0f} clicks)",
        data={"clicks": r.clicks, "conversions": r.conversions, "cost": r.cost, "value": r.value,
              "ctr": r.ctr, "baseline_ctr": b.ctr, "ctr_z": ctr_z, "roas": r.roas,
              "baseline_roas": b.roas, "trend_z": trend_z, "efficiency": efficiency,
              "expected_cost_per_day": d_cost, "expected_value_per_day": d_value})]
