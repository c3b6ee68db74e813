"""Portfolio budgets: the concave fit, moves towards high marginal ROAS, totals and bounds kept."""

from __future__ import annotations

import numpy as np

from streams.marketing.rules_budget import BudgetInput, BudgetPolicy, budget_rule, fit_response

POLICY = BudgetPolicy()


def series(a: float, b: float, spend_level: float, seed: int, days: int = 28,
           spread: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spend = spend_level * np.exp(rng.normal(0, spread, days))
    return spend, a * spend ** b * np.exp(rng.normal(0, 0.05, days))


def test_fit_recovers_a_known_exponent_when_spend_varies() -> None:
    spend, value = series(5.0, 0.4, 100, seed=1)
    fit = fit_response(spend, value, POLICY)
    assert fit is not None and abs(fit.b - 0.4) < 0.05
    assert abs(fit.marginal(100.0) - 5.0 * 0.4 * 100 ** -0.6) / (5.0 * 0.4 * 100 ** -0.6) < 0.25


def test_fit_stays_near_the_prior_when_spend_does_not_vary() -> None:
    spend, value = series(5.0, 0.4, 100, seed=2, spread=0.001)
    fit = fit_response(spend, value, POLICY)
    assert fit is not None and abs(fit.b - POLICY.prior_b) < 0.05
    assert fit_response(spend[:5], value[:5], POLICY) is None


def test_budget_moves_from_low_to_high_marginal_roas_keeping_total_and_bounds() -> None:
    good_s, good_v = series(40.0, 0.6, 100, seed=3)  # marginal ROAS about 3.8 at 100
    poor_s, poor_v = series(8.0, 0.6, 100, seed=4)  # about 0.8
    idle_s, idle_v = series(20.0, 0.6, 50, seed=5)  # spends half its budget
    portfolio = [BudgetInput("good", 100.0, good_s, good_v), BudgetInput("poor", 100.0, poor_s, poor_v),
                 BudgetInput("idle", 100.0, idle_s, idle_v)]
    recs = {r.campaign_id: r for r in budget_rule(portfolio, POLICY, 0)}
    assert recs["good"].proposed is not None and recs["good"].proposed > 100
    assert recs["poor"].proposed is not None and recs["poor"].proposed < 100
    new = {c.campaign_id: c.budget for c in portfolio} | {k: r.proposed for k, r in recs.items()}
    assert abs(sum(v for v in new.values() if v is not None) - 300.0) < 1e-3
    assert all(abs(r.change) <= POLICY.max_change + 1e-9 for r in recs.values())
    assert "idle" not in recs or (recs["idle"].proposed or 0) <= 100  # not budget-limited
    assert recs["good"].data["marginal_roas"] > recs["poor"].data["marginal_roas"]
    assert recs["good"].data["portfolio_gain_per_day"] > 0


def test_equal_campaigns_or_a_single_one_move_nothing() -> None:
    s, v = series(10.0, 0.6, 100, seed=6)
    assert budget_rule([BudgetInput("a", 100.0, s, v), BudgetInput("b", 100.0, s, v)], POLICY, 0) == []
    assert budget_rule([BudgetInput("a", 100.0, s, v)], POLICY, 0) == []
