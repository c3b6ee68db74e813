"""Audiences: segments with high intent to include or bid up, low ones to exclude; lookalike seeds.

A segment's intent index is its shrunk conversion rate over the campaign's (the same empirical
Bayes as dayparting, across segments), times the ratio of its mean lead score to the campaign's
when lead-score aggregates are given (``lead_weight`` sets how much that counts).

Invariants:
- a segment is judged only with ``min_clicks`` (and, to exclude, ``min_clicks_exclude``);
- segment bid modifiers stay within ±``max_modifier``;
- lookalike seed rows are the top customers by value, at least ``min_seed`` of them (platforms
  refuse smaller sources), ranked 1..n, ties broken by customer id: the same input, the same list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streams.marketing.rules import Action, Recommendation
from streams.marketing.rules_daypart import shrink_rates


@dataclass(frozen=True)
class SegmentStats:
    segment: str
    targeted: bool  # already in the campaign's targeting
    clicks: float
    conversions: float
    cost: float
    value: float
    lead_score_mean: float | None = None
    leads: float = 0


@dataclass(frozen=True)
class AudiencePolicy:
    min_clicks: float = 200
    min_clicks_exclude: float = 400
    high_index: float = 1.25
    low_index: float = 0.5
    max_modifier: float = 0.3
    lead_weight: float = 0.5
    min_leads: float = 20
    min_seed: int = 100
    seed_fraction: float = 0.01


def intent_indices(segments: Sequence[SegmentStats], policy: AudiencePolicy) -> list[float]:
    """Shrunk conversion rate over the pooled rate, blended with the lead-score ratio."""
    conv = np.array([s.conversions for s in segments], dtype=np.float64)
    clicks = np.array([s.clicks for s in segments], dtype=np.float64)
    posterior, pooled, _ = shrink_rates(conv, clicks)
    index = posterior / max(float(pooled), 1e-12)
    scored = [s for s in segments if s.lead_score_mean is not None and s.leads >= policy.min_leads]
    lead_mean = (sum((s.lead_score_mean or 0.0) * s.leads for s in scored) / sum(s.leads for s in scored)
                 if scored else 0.0)
    out: list[float] = []
    for s, i in zip(segments, index, strict=True):
        value = float(i)
        if lead_mean > 0 and s.lead_score_mean is not None and s.leads >= policy.min_leads:
            value *= (s.lead_score_mean / lead_mean) ** policy.lead_weight
        out.append(value)
    return out


def audience_rule(campaign_id: str, segments: Sequence[SegmentStats], days: float,
                  policy: AudiencePolicy, as_of_ms: int) -> list[Recommendation]:
    if len(segments) < 2:
        return []
    indices = intent_indices(segments, policy)
    total_clicks = sum(s.clicks for s in segments)
    cpc = sum(s.cost for s in segments) / max(total_clicks, 1e-9)
    vpc = sum(s.value for s in segments) / max(total_clicks, 1e-9)
    out: list[Recommendation] = []
    for s, index in zip(segments, indices, strict=True):
        if s.clicks < policy.min_clicks:
            continue
        # Poisson error of the segment's conversions gives the confidence in its difference.
        z = math.log(max(index, 1e-9)) * math.sqrt(max(s.conversions, 1.0))
        confidence = math.erf(abs(z) / math.sqrt(2))
        clicks_day = s.clicks / days
        data = {"intent_index": index, "clicks": s.clicks, "conversions": s.conversions,
                "lead_score_mean": s.lead_score_mean if s.lead_score_mean is not None else -1.0,
                "leads": s.leads}
        entity = f"segment:{campaign_id}/{s.segment}"
        if index >= policy.high_index:
            modifier = min(index, 1 + policy.max_modifier)
            gain = clicks_day * (modifier - 1) * (vpc * index - cpc)
            action: Action = "set_segment_modifier" if s.targeted else "include_segment"
            out.append(Recommendation(
                rule="audience", action=action, entity=entity, campaign_id=campaign_id,
                as_of_ms=as_of_ms, current=1.0, proposed=round(modifier, 4), change=modifier - 1,
                expected_effect=gain, confidence=confidence,
                rationale=f"{'bid up' if s.targeted else 'include'} segment {s.segment}: intent "
                          f"index {index:.2f} ({s.conversions:.0f} conversions in {s.clicks:.0f} clicks)",
                data=data))
        elif index <= policy.low_index and s.targeted and s.clicks >= policy.min_clicks_exclude:
            saved = clicks_day * (cpc - vpc * index)
            out.append(Recommendation(
                rule="audience", action="exclude_segment", entity=entity, campaign_id=campaign_id,
                as_of_ms=as_of_ms, current=1.0, proposed=0.0, change=-1.0, expected_effect=saved,
                confidence=confidence,
                rationale=f"exclude segment {s.segment}: intent index {index:.2f} "
                          f"({s.conversions:.0f} conversions in {s.clicks:.0f} clicks)",
                data=data))
    return out


def lookalike_seed_rows(seed_list: str, customers: Sequence[tuple[str, float]],
                        policy: AudiencePolicy) -> list[dict[str, str | float | int]]:
    """Top customers by value as seed rows, or none when fewer than ``min_seed`` qualify."""
    valued = sorted(((cid, v) for cid, v in customers if v > 0), key=lambda cv: (-cv[1], cv[0]))
    size = max(policy.min_seed, math.ceil(policy.seed_fraction * len(valued)))
    if len(valued) < policy.min_seed:
        return []
    return [{"seed_list": seed_list, "rank": rank, "customer_id": cid, "value": value}
            for rank, (cid, value) in enumerate(valued[:size], start=1)]
