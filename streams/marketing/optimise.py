"""One optimisation cycle: aggregate hourly history, run every rule, pass the guard rails.

What the platforms' own automated rules (Google Ads rules and scripts, Meta automated rules)
leave to their users, and this cycle does: a cooldown per lever and caps per change and per day
(platform rules re-fire on every run); conditions joined by OR as well as AND (fatigue); rules
across campaigns (portfolio budgets); refusals kept with the guard that stopped them; and a
backtest over history before anything goes live (``backtest``).

History is columnar: arrays shaped (campaigns, hours), hour 0 starting at ``start_ms``. The
aggregation is vectorised over all campaigns (window sums, hour-of-week totals, daily series,
each creative's early life through cumulative sums); the rules then see one campaign (or one
portfolio) at a time through the small dataclasses of ``rules*``.

Invariants:
- a cycle at hour ``t`` reads only hours before ``t``: the same history gives the same cycle,
  and a backtest at ``t`` cannot see the future;
- the cycle changes nothing: it returns recommendations and the guard rails' split; applying
  accepted changes (``apply_changes``) and recording them (``guardrails.record``) are separate;
- hour of week 0 is Monday 00:00 UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from streams.marketing import guardrails
from streams.marketing.guardrails import DataFlags, GuardOutcome, GuardPolicy, GuardState
from streams.marketing.rules import BidPolicy, CampaignWindow, Recommendation, RuleName, Totals, bid_rule
from streams.marketing.rules_audience import AudiencePolicy, SegmentStats, audience_rule
from streams.marketing.rules_budget import BudgetInput, BudgetPolicy, budget_rule
from streams.marketing.rules_competitive import CompetitivePolicy, MarketEvent, competitive_rule
from streams.marketing.rules_daypart import HOURS_OF_WEEK, DaypartPolicy, daypart_modifiers, daypart_rule
from streams.marketing.rules_fatigue import CreativeWindow, FatiguePolicy, fatigue_rule

Array = npt.NDArray[np.float64]
HOUR_MS: Final = 3_600_000
ALL_RULES: Final[frozenset[RuleName]] = frozenset(
    {"bid", "budget", "fatigue", "daypart", "audience", "competitive"})


def hour_of_week(ms: int) -> int:
    """0 = Monday 00:00 UTC (1970-01-01 was a Thursday, hour 72 of its week)."""
    return (ms // HOUR_MS + 72) % HOURS_OF_WEEK


@dataclass(frozen=True)
class HourlyHistory:
    campaign_ids: tuple[str, ...]
    start_ms: int
    impressions: Array
    clicks: Array
    cost: Array
    conversions: Array
    value: Array
    frequency: Array | None = None  # mean frequency of the running creative, where reported

    @property
    def hours(self) -> int:
        return int(self.impressions.shape[1])


@dataclass(frozen=True)
class CampaignSettings:
    """Levers and targets per campaign, aligned with ``HourlyHistory.campaign_ids`` (NaN: none)."""

    bid: Array
    budget: Array
    target_cpa: Array
    target_roas: Array
    portfolio: tuple[str, ...]  # "" for a campaign in no portfolio
    creative_ids: tuple[str, ...]
    creative_start: npt.NDArray[np.int64]  # hour index at which the running creative started
    hour_modifiers: Array  # (campaigns, 168)


@dataclass(frozen=True)
class OptimisationPolicy:
    recent_days: int = 7
    baseline_days: int = 28
    budget_days: int = 28
    daypart_weeks: int = 8
    rules: frozenset[RuleName] = ALL_RULES
    bid: BidPolicy = field(default_factory=BidPolicy)
    budget: BudgetPolicy = field(default_factory=BudgetPolicy)
    fatigue: FatiguePolicy = field(default_factory=FatiguePolicy)
    daypart: DaypartPolicy = field(default_factory=DaypartPolicy)
    audience: AudiencePolicy = field(default_factory=AudiencePolicy)
    competitive: CompetitivePolicy = field(default_factory=CompetitivePolicy)
    guard: GuardPolicy = field(default_factory=GuardPolicy)


@dataclass(frozen=True)
class CycleInputs:
    """What the cycle gets besides the hourly history: flags, market events, segment stats."""

    flags: DataFlags = field(default_factory=DataFlags)
    events: tuple[MarketEvent, ...] = ()
    segments: Mapping[str, Sequence[SegmentStats]] = field(default_factory=dict)


@dataclass(frozen=True)
class CycleResult:
    as_of_ms: int
    recommendations: tuple[Recommendation, ...]
    outcome: GuardOutcome


@dataclass(frozen=True)
class Aggregates:
    recent: Array  # (5, campaigns): impressions, clicks, cost, conversions, value
    baseline: Array
    recent_days: float
    how: Array  # (3, campaigns, 168): clicks, conversions, value... by hour of week
    how_cost: Array
    how_days: float
    daily_spend: Array  # (campaigns, days)
    daily_value: Array
    early: Array  # (2, campaigns): impressions, clicks of each creative's early life
    late: Array  # (2, campaigns) over the fatigue rule's recent days
    early_freq: Array | None
    late_freq: Array | None
    age_days: Array


def _metrics(h: HourlyHistory) -> tuple[Array, ...]:
    return h.impressions, h.clicks, h.cost, h.conversions, h.value


def _window(h: HourlyHistory, lo: int, hi: int) -> Array:
    lo, hi = max(lo, 0), max(hi, 0)
    return np.stack([m[:, lo:hi].sum(axis=1) for m in _metrics(h)])


def aggregate(h: HourlyHistory, settings: CampaignSettings, t: int, policy: OptimisationPolicy) -> Aggregates:
    """Everything the rules need, computed from hours [0, t) only."""
    rd, bd = policy.recent_days * 24, policy.baseline_days * 24
    weeks = min(policy.daypart_weeks, t // HOURS_OF_WEEK)
    w = weeks * HOURS_OF_WEEK
    n = len(h.campaign_ids)
    shift = (hour_of_week(h.start_ms) + t - w) % HOURS_OF_WEEK

    def by_how(m: Array) -> Array:
        if w == 0:
            return np.zeros((n, HOURS_OF_WEEK))
        folded = m[:, t - w:t].reshape(n, weeks, HOURS_OF_WEEK).sum(axis=1)
        return np.roll(folded, shift, axis=1)

    days = min(policy.budget_days, t // 24)
    spend = h.cost[:, t - days * 24:t].reshape(n, days, 24).sum(axis=2)
    value = h.value[:, t - days * 24:t].reshape(n, days, 24).sum(axis=2)
    # Each creative's early life and its recent days through cumulative sums along the hours.
    fp = policy.fatigue
    start = np.clip(settings.creative_start, 0, t)
    e_lo = np.clip(start + fp.warmup_days * 24, 0, t)
    e_hi = np.clip(start + (fp.warmup_days + fp.early_days) * 24, 0, t)
    l_lo = np.maximum(np.full(n, t - fp.recent_days * 24), e_hi)
    rows = np.arange(n)

    def spans(m: Array) -> tuple[Array, Array]:
        cum = np.zeros((n, t + 1))
        np.cumsum(m[:, :t], axis=1, out=cum[:, 1:])
        return cum[rows, e_hi] - cum[rows, e_lo], cum[rows, t] - cum[rows, l_lo]

    e_imp, l_imp = spans(h.impressions)
    e_clk, l_clk = spans(h.clicks)
    early_freq = late_freq = None
    if h.frequency is not None:
        e_f, l_f = spans(h.frequency * h.impressions)
        early_freq, late_freq = e_f / np.maximum(e_imp, 1e-9), l_f / np.maximum(l_imp, 1e-9)
    return Aggregates(
        recent=_window(h, t - rd, t), baseline=_window(h, t - rd - bd, t - rd),
        recent_days=min(rd, t) / 24,
        how=np.stack([by_how(h.clicks), by_how(h.conversions), by_how(h.value)]),
        how_cost=by_how(h.cost), how_days=w / 24, daily_spend=spend, daily_value=value,
        early=np.stack([e_imp, e_clk]), late=np.stack([l_imp, l_clk]),
        early_freq=early_freq, late_freq=late_freq,
        age_days=(t - settings.creative_start) / 24)


def _totals(a: Array, i: int) -> Totals:
    return Totals(float(a[0, i]), float(a[1, i]), float(a[2, i]), float(a[3, i]), float(a[4, i]))


def _opt(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def run_cycle(h: HourlyHistory, settings: CampaignSettings, t: int, policy: OptimisationPolicy,
              state: GuardState, inputs: CycleInputs | None = None) -> CycleResult:
    """Every enabled rule over the history before hour ``t``, then the guard rails."""
    inputs = inputs or CycleInputs()
    as_of = h.start_ms + t * HOUR_MS
    agg = aggregate(h, settings, t, policy)
    recs: list[Recommendation] = []
    windows: dict[str, CampaignWindow] = {}
    rules = policy.rules
    fp, dp = policy.fatigue, policy.daypart
    how_clicks, how_conv = agg.how[0], agg.how[1]
    # Prefilter daypart on the vectorised modifiers: most campaigns need no new schedule.
    daypart_due = np.zeros(len(h.campaign_ids), dtype=bool)
    if "daypart" in rules and agg.how_days > 0:
        mods, _ = daypart_modifiers(how_clicks, how_conv, dp.max_modifier)
        daypart_due = ((np.abs(mods - settings.hour_modifiers).max(axis=1) >= dp.min_delta)
                       & (how_clicks.sum(axis=1) >= dp.min_clicks)
                       & (how_conv.sum(axis=1) >= dp.min_conversions))
    for i, cid in enumerate(h.campaign_ids):
        w = CampaignWindow(cid, agg.recent_days, _totals(agg.recent, i), _totals(agg.baseline, i),
                           bid=_opt(settings.bid[i]), budget=_opt(settings.budget[i]),
                           target_cpa=_opt(settings.target_cpa[i]),
                           target_roas=_opt(settings.target_roas[i]))
        windows[cid] = w
        if "bid" in rules:
            recs += bid_rule(w, policy.bid, as_of)
        if "fatigue" in rules and agg.age_days[i] >= fp.min_age_days:
            r = w.recent
            creative = CreativeWindow(
                settings.creative_ids[i], cid, float(agg.age_days[i]), float(fp.recent_days),
                early=Totals(float(agg.early[0, i]), float(agg.early[1, i])),
                recent=Totals(float(agg.late[0, i]), float(agg.late[1, i]),
                              r.cost * agg.late[1, i] / max(r.clicks, 1e-9),
                              0.0, r.value * agg.late[1, i] / max(r.clicks, 1e-9)),
                early_frequency=None if agg.early_freq is None else float(agg.early_freq[i]),
                recent_frequency=None if agg.late_freq is None else float(agg.late_freq[i]))
            recs += fatigue_rule(creative, fp, as_of)
        if daypart_due[i]:
            recs += daypart_rule(cid, how_clicks[i], how_conv[i], agg.how[2, i], agg.how_cost[i],
                                 settings.hour_modifiers[i], agg.how_days, dp, as_of)
        if "audience" in rules and cid in inputs.segments:
            recs += audience_rule(cid, inputs.segments[cid], agg.recent_days, policy.audience, as_of)
    if "budget" in rules:
        groups: dict[str, list[BudgetInput]] = {}
        for i, cid in enumerate(h.campaign_ids):
            if settings.portfolio[i] and not np.isnan(settings.budget[i]):
                groups.setdefault(settings.portfolio[i], []).append(
                    BudgetInput(cid, float(settings.budget[i]), agg.daily_spend[i], agg.daily_value[i]))
        for name in sorted(groups):
            recs += budget_rule(groups[name], policy.budget, as_of)
    if "competitive" in rules and inputs.events:
        recs += competitive_rule(inputs.events, windows, policy.competitive, as_of)
    outcome = guardrails.check(recs, policy.guard, state, inputs.flags, as_of)
    return CycleResult(as_of, tuple(recs), outcome)


def apply_changes(settings: CampaignSettings, ids: Sequence[str], changes: Sequence[Recommendation],
                  now_hour: int) -> CampaignSettings:
    """Settings after the accepted changes: bids, budgets, hour modifiers, fresh creatives."""
    index = {cid: i for i, cid in enumerate(ids)}
    bid, budget = settings.bid.copy(), settings.budget.copy()
    mods, start = settings.hour_modifiers.copy(), settings.creative_start.copy()
    creatives = list(settings.creative_ids)
    for r in changes:
        i = index.get(r.campaign_id)
        if i is None:
            continue
        if r.action == "set_bid" and r.proposed is not None:
            bid[i] = r.proposed
        elif r.action == "set_budget" and r.proposed is not None:
            budget[i] = r.proposed
        elif r.action == "set_hour_modifiers" and r.modifiers:
            mods[i] = np.asarray(r.modifiers)
        elif r.action in ("pause_creative", "refresh_creative"):
            start[i] = now_hour
            creatives[i] = f"{creatives[i]}+{now_hour}"
    return replace(settings, bid=bid, budget=budget, hour_modifiers=mods, creative_start=start,
                   creative_ids=tuple(creatives))
