"""Creative fatigue: CTR decaying against the creative's own early life while frequency rises.

The reference is the creative itself (its early days after a warm-up), not the campaign or an
industry norm, so a creative with a naturally low CTR is not called tired.

Invariants:
- nothing is said before ``min_age_days`` or without ``min_impressions`` in both windows;
- the rule fires when (CTR decayed significantly AND frequency rose) OR (frequency passed the
  hard cap AND CTR is below its early level): either condition is enough;
- a decay down to ``decay_pause`` or below pauses the creative; above it, a refresh alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.marketing.rules import Recommendation, Totals, confidence_of, ratio_z


@dataclass(frozen=True)
class CreativeWindow:
    """A creative's early life and its recent days, with mean frequency in each."""

    creative_id: str
    campaign_id: str
    age_days: float
    recent_days: float
    early: Totals
    recent: Totals
    early_frequency: float | None  # None where the platform reports no frequency
    recent_frequency: float | None


@dataclass(frozen=True)
class FatiguePolicy:
    warmup_days: int = 1  # day 0 is learning: the early window starts after it
    early_days: int = 7
    recent_days: int = 3
    min_age_days: float = 10
    min_impressions: float = 2000
    decay_alert: float = 0.85  # recent CTR at most 85 % of the early CTR
    decay_pause: float = 0.6
    frequency_rise: float = 1.2
    frequency_cap: float = 6.0
    min_confidence: float = 0.95


def fatigue_rule(c: CreativeWindow, policy: FatiguePolicy, as_of_ms: int) -> list[Recommendation]:
    e, r = c.early, c.recent
    if (c.age_days < policy.min_age_days or e.impressions < policy.min_impressions
            or r.impressions < policy.min_impressions or e.ctr <= 0):
        return []
    ratio = r.ctr / e.ctr
    z = ratio_z(r.clicks, r.impressions, e.clicks, e.impressions)
    confidence = confidence_of(z)
    significant = z < 0 and confidence >= policy.min_confidence
    ef, rf = c.early_frequency, c.recent_frequency
    known = ef is not None and rf is not None
    # Without frequency (Google reports none) the CTR decay alone has to speak.
    rising = not known or (rf or 0.0) >= policy.frequency_rise * max(ef or 0.0, 1e-9)
    decayed = significant and ratio <= policy.decay_alert and rising
    saturated = significant and known and (rf or 0.0) >= policy.frequency_cap and ratio < 1
    if not (decayed or saturated):
        return []
    pause = ratio <= policy.decay_pause
    impressions_day = r.impressions / c.recent_days
    # A fresh creative is assumed to win back the early CTR on today's impressions.
    clicks_back = impressions_day * (e.ctr - r.ctr)
    margin_per_click = r.value_per_click - (r.cost / r.clicks if r.clicks else 0.0)
    why = ("frequency over the cap" if not decayed else
           "CTR decayed with rising frequency" if known else "CTR decayed (frequency not reported)")
    freq = f"{ef:.1f} -> {rf:.1f}" if known else "not reported"
    return [Recommendation(
        rule="fatigue", action="pause_creative" if pause else "refresh_creative",
        entity=f"creative:{c.creative_id}", campaign_id=c.campaign_id, as_of_ms=as_of_ms,
        current=r.ctr, proposed=e.ctr, change=-1.0 if pause else 0.0,
        expected_effect=clicks_back * margin_per_click, confidence=confidence,
        rationale=f"{why}: CTR {r.ctr:.3%} over the last {c.recent_days:g} days is {ratio:.0%} of "
                  f"its early {e.ctr:.3%}; frequency {freq}",
        data={"early_ctr": e.ctr, "recent_ctr": r.ctr, "ctr_ratio": ratio, "z": z,
              "early_frequency": ef if ef is not None else -1.0,
              "recent_frequency": rf if rf is not None else -1.0,
              "age_days": c.age_days, "early_impressions": e.impressions,
              "recent_impressions": r.impressions, "clicks_back_per_day": clicks_back})]
