"""Dayparting: hour-of-week bid modifiers shrunk towards the campaign mean (empirical Bayes).

Each of the 168 hours of the week has few conversions; its raw conversion rate is mostly
noise. A beta prior centred on the campaign's own rate, with a strength estimated from how much
the hours really differ (method of moments), pulls thin hours to the mean and lets well-measured
hours keep their difference. Modifiers are the shrunk value per click over the campaign's.

Invariants:
- with no real between-hour variation the prior is infinitely strong and every modifier is 1;
- modifiers lie in [1 - max_modifier, 1 + max_modifier] and are normalised so that the
  click-weighted mean is 1 (the schedule moves spend between hours, not up or down);
- one change moves no hour's modifier by more than ``max_step`` (the rest waits for a later cycle);
- ``shrink_rates`` works on any leading axes, so a whole portfolio is computed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.marketing.rules import Recommendation

Array = npt.NDArray[np.float64]
HOURS_OF_WEEK = 168


def shrink_rates(successes: Array, trials: Array) -> tuple[Array, Array, Array]:
    """Posterior mean rates over the last axis, the pooled rate and the prior strength.

    Prior Beta(k·p, k·(1-p)) with p the pooled rate and k from the between-cell variance of the
    raw rates minus their binomial sampling variance.
    """
    s, n = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    pooled = s.sum(axis=-1) / np.maximum(n.sum(axis=-1), 1e-12)
    seen = n > 0
    cells = np.maximum(seen.sum(axis=-1), 1)
    raw = np.where(seen, s / np.where(seen, n, 1.0), 0.0)
    mean_raw = raw.sum(axis=-1) / cells
    between = (np.where(seen, (raw - mean_raw[..., None]) ** 2, 0.0).sum(axis=-1)
               / np.maximum(cells - 1, 1))
    sampling = pooled * (1 - pooled) * (np.where(seen, 1 / np.where(seen, n, 1.0), 0.0).sum(axis=-1)
                                        / cells)
    tau2 = np.maximum(between - sampling, 0.0)
    strength = np.where(tau2 > 1e-15, pooled * (1 - pooled) / np.maximum(tau2, 1e-15) - 1, 1e12)
    strength = np.clip(strength, 0.0, 1e12)
    posterior = (s + strength[..., None] * pooled[..., None]) / (n + strength[..., None])
    return posterior, pooled, strength


@dataclass(frozen=True)
class DaypartPolicy:
    min_clicks: float = 2000
    min_conversions: float = 60
    max_modifier: float = 0.3
    max_step: float = 0.2  # largest move of one hour's modifier in one change
    min_delta: float = 0.05  # smallest move of any hour worth a change
    click_elasticity: float = 1.0  # clicks ∝ modifier^1 for the expected effect


def daypart_modifiers(clicks: Array, conversions: Array, max_modifier: float) -> tuple[Array, Array]:
    """(modifiers, prior strength) for arrays shaped (..., 168)."""
    posterior, pooled, strength = shrink_rates(conversions, clicks)
    ratio = posterior / np.maximum(pooled[..., None], 1e-12)
    lo, hi = 1 - max_modifier, 1 + max_modifier
    mods = np.clip(ratio, lo, hi)
    weight = np.maximum(clicks.sum(axis=-1, keepdims=True), 1e-12)
    mods = np.clip(mods / ((clicks * mods).sum(axis=-1, keepdims=True) / weight), lo, hi)
    return np.where(clicks.sum(axis=-1, keepdims=True) > 0, mods, 1.0), strength


def daypart_rule(campaign_id: str, clicks: Array, conversions: Array, value: Array, cost: Array,
                 current: Array | None, days: float, policy: DaypartPolicy,
                 as_of_ms: int) -> list[Recommendation]:
    """Propose a 168-hour modifier schedule when it differs enough from the current one."""
    total_clicks, total_conv = float(clicks.sum()), float(conversions.sum())
    if total_clicks < policy.min_clicks or total_conv < policy.min_conversions:
        return []
    target, strength = daypart_modifiers(clicks, conversions, policy.max_modifier)
    now = np.ones(HOURS_OF_WEEK) if current is None else np.asarray(current, dtype=np.float64)
    mods = np.clip(target, now - policy.max_step, now + policy.max_step)
    delta = float(np.max(np.abs(mods - now)))
    if delta < policy.min_delta:
        return []
    value_per_conv = float(value.sum()) / total_conv
    posterior = shrink_rates(conversions, clicks)[0]
    cpc = float(cost.sum()) / total_clicks
    # Clicks move with the modifier; each hour's click is worth its shrunk value per click.
    d_clicks = clicks / days * ((mods / now) ** policy.click_elasticity - 1)
    effect = float((d_clicks * (posterior * value_per_conv - cpc)).sum())
    best, worst = int(np.argmax(mods)), int(np.argmin(mods))
    return [Recommendation(
        rule="daypart", action="set_hour_modifiers", entity=f"campaign:{campaign_id}",
        campaign_id=campaign_id, as_of_ms=as_of_ms, current=None, proposed=None,
        change=delta, expected_effect=effect,
        confidence=1 / (1 + float(strength) / total_clicks * HOURS_OF_WEEK),
        rationale=f"hour-of-week modifiers {mods.min():.2f}-{mods.max():.2f} from {total_conv:.0f} "
                  f"conversions over {days:g} days, shrunk with prior strength {float(strength):.0f} "
                  f"clicks; best hour {best} (x{mods[best]:.2f}), worst {worst} (x{mods[worst]:.2f})",
        data={"clicks": total_clicks, "conversions": total_conv, "prior_strength": float(strength),
              "max_delta": delta, "best_hour": best, "worst_hour": worst},
        modifiers=tuple(round(float(m), 4) for m in mods))]
