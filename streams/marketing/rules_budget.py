"""Portfolio budgets: move money from low to high marginal ROAS, keeping every bound.

Each campaign's daily value is fitted as a concave power of its daily spend, value = a·spend^b,
by a Bayesian log-log regression whose slope b has a prior (``prior_b`` ± ``prior_sd``): days
with little spend variation leave b near the prior instead of producing a wild slope. Marginal
ROAS at spend s is a·b·s^(b-1). The new allocation equalises marginal ROAS (a bisection on the
common marginal return λ) inside the bounds.

Invariants:
- the portfolio total of the new budgets equals the current total (never more);
- each budget stays within ±``max_change`` of its current value and within [min, max] budget;
- a campaign that does not spend its budget (utilisation below ``limited_at``) is not given more;
- nothing is proposed without ``min_days`` of spend, or when the gain is below ``min_gain``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.marketing.rules import Recommendation

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BudgetPolicy:
    prior_b: float = 0.6
    prior_sd: float = 0.2
    min_b: float = 0.05
    max_b: float = 0.95
    min_days: int = 14
    max_change: float = 0.25
    min_budget: float = 1.0
    limited_at: float = 0.9  # spend / budget from which a campaign is budget-limited
    min_gain: float = 0.01  # relative gain in portfolio value needed to move anything
    min_move: float = 0.03  # smallest relative budget move per campaign


@dataclass(frozen=True)
class BudgetInput:
    campaign_id: str
    budget: float
    spend: Array  # daily spend, oldest first
    value: Array  # daily conversion value


@dataclass(frozen=True)
class ResponseFit:
    a: float
    b: float
    b_sd: float
    days: int

    def value(self, spend: Array | float) -> Array:
        return self.a * np.power(np.maximum(spend, 1e-9), self.b)

    def marginal(self, spend: float) -> float:
        return float(self.a * self.b * max(spend, 1e-9) ** (self.b - 1))


def fit_response(spend: Array, value: Array, policy: BudgetPolicy) -> ResponseFit | None:
    """Concave power fit of value against spend over days with both positive."""
    ok = (spend > 0) & (value > 0)
    if int(ok.sum()) < policy.min_days:
        return None
    x, y = np.log(spend[ok]), np.log(value[ok])
    xc, yc = x - x.mean(), y - y.mean()
    sxx, sxy = float((xc * xc).sum()), float((xc * yc).sum())
    slope_ols = sxy / sxx if sxx > 1e-12 else policy.prior_b
    resid = yc - slope_ols * xc
    sigma2 = max(float((resid * resid).sum()) / max(len(x) - 2, 1), 1e-4)
    precision = sxx / sigma2 + 1 / policy.prior_sd ** 2
    b = (sxy / sigma2 + policy.prior_b / policy.prior_sd ** 2) / precision
    b = min(max(b, policy.min_b), policy.max_b)
    # Intercept so that the curve passes through the mean point in logs.
    a = math.exp(float(y.mean()) - b * float(x.mean()))
    return ResponseFit(a=a, b=b, b_sd=1 / math.sqrt(precision), days=int(ok.sum()))


def _allocate(fits: list[ResponseFit], lo: Array, hi: Array, total: float) -> Array:
    """Spends inside [lo, hi] summing to ``total`` that equalise marginal ROAS where unbound."""
    ab = np.array([f.a * f.b for f in fits])
    b = np.array([f.b for f in fits])

    def spend_at(lam: float) -> Array:
        return np.clip((ab / lam) ** (1 / (1 - b)), lo, hi)

    if spend_at(1e-12).sum() <= total:
        return hi
    if spend_at(1e12).sum() >= total:
        return lo
    low, high = -12.0 * math.log(10), 12.0 * math.log(10)
    for _ in range(100):  # bisection on log λ: spend falls as λ rises
        mid = (low + high) / 2
        if spend_at(math.exp(mid)).sum() > total:
            low = mid
        else:
            high = mid
    return spend_at(math.exp(high))


def budget_rule(portfolio: list[BudgetInput], policy: BudgetPolicy,
                as_of_ms: int) -> list[Recommendation]:
    fitted = [(c, fit_response(c.spend, c.value, policy)) for c in portfolio]
    usable = [(c, f) for c, f in fitted if f is not None and c.budget > 0]
    if len(usable) < 2:
        return []
    current = np.array([c.budget for c, _ in usable])
    days = np.array([max(len(c.spend[-7:]), 1) for c, _ in usable])
    recent_spend = np.array([float(c.spend[-7:].sum()) for c, _ in usable]) / days
    limited = recent_spend >= policy.limited_at * current
    lo = np.maximum(current * (1 - policy.max_change), policy.min_budget)
    hi = np.where(limited, current * (1 + policy.max_change), current)
    fits = [f for _, f in usable]
    total = float(current.sum())
    # A budget that is not spent is not a lever upwards; downwards, what counts is what is spent.
    base_spend = np.minimum(recent_spend, current)
    target = _allocate(fits, lo, hi, total)
    spent_now = np.array([float(f.value(s)) for f, s in zip(fits, base_spend, strict=True)])
    # A limited campaign spends its new budget; another keeps its spend unless cut below it.
    new_spend = np.where(limited, target, np.minimum(base_spend, target))
    new_value = np.array([float(f.value(s)) for f, s in zip(fits, new_spend, strict=True)])
    gain = float(new_value.sum() - spent_now.sum()) - float(new_spend.sum() - base_spend.sum())
    if gain <= policy.min_gain * max(float(spent_now.sum()), 1e-9):
        return []
    out: list[Recommendation] = []
    for i, (c, f) in enumerate(usable):
        change = target[i] / current[i] - 1
        if abs(change) < policy.min_move:
            continue
        d_value = new_value[i] - spent_now[i]
        d_cost = new_spend[i] - base_spend[i]
        m_now = f.marginal(float(base_spend[i]))
        out.append(Recommendation(
            rule="budget", action="set_budget", entity=f"campaign:{c.campaign_id}",
            campaign_id=c.campaign_id, as_of_ms=as_of_ms, current=float(current[i]),
            proposed=round(float(target[i]), 4), change=round(float(change), 6),
            expected_effect=float(d_value - d_cost),
            confidence=float(max(0.0, 1 - f.b_sd / max(policy.prior_sd, 1e-9) / 2)),
            rationale=f"{'raise' if change > 0 else 'lower'} budget {abs(change):.0%}: marginal "
                      f"ROAS {m_now:.2f} (value ~ spend^{f.b:.2f} over {f.days} days) against a "
                      f"portfolio of {len(usable)} campaigns, total {total:.2f} a day kept",
            data={"marginal_roas": m_now, "b": f.b, "b_sd": f.b_sd, "a": f.a,
                  "spend_per_day": float(base_spend[i]), "budget_limited": float(limited[i]),
                  "portfolio_total": total, "portfolio_gain_per_day": gain,
                  "expected_value_per_day": float(d_value), "expected_cost_per_day": float(d_cost)}))
    return out
