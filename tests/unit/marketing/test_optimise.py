"""The optimisation cycle: aggregation by hour of week, no look-ahead, flags, applying changes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from streams.marketing.guardrails import DataFlags, GuardState
from streams.marketing.optimise import (
    CampaignSettings,
    CycleInputs,
    HourlyHistory,
    OptimisationPolicy,
    aggregate,
    apply_changes,
    hour_of_week,
    run_cycle,
)

THURSDAY = 1_767_225_600_000  # 2026-01-01 00:00 UTC
POLICY = OptimisationPolicy()


def random_history(n: int, hours: int, seed: int) -> HourlyHistory:
    rng = np.random.default_rng(seed)
    how = (np.arange(hours) + 72) % 168
    impressions = rng.poisson(rng.uniform(200, 2000, (n, 1)) * np.ones(hours)).astype(float)
    age = np.arange(hours) / 24
    ctr = rng.uniform(0.01, 0.05, (n, 1)) * (0.5 + 0.5 * np.exp(-age / 15))
    clicks = rng.binomial(impressions.astype(int), ctr).astype(float)
    cvr = rng.uniform(0.01, 0.08, (n, 1)) * np.where(how % 24 < 12, 1.5, 0.5)
    conversions = rng.poisson(clicks * cvr).astype(float)
    cost = clicks * rng.uniform(0.3, 2, (n, 1))
    value = conversions * rng.uniform(20, 80, (n, 1))
    frequency = 1 + age * rng.uniform(0.1, 0.3, (n, 1))
    return HourlyHistory(tuple(f"c{i}" for i in range(n)), THURSDAY, impressions, clicks, cost,
                         conversions, value, frequency)


def settings_for(h: HourlyHistory) -> CampaignSettings:
    n = len(h.campaign_ids)
    return CampaignSettings(
        bid=np.ones(n), budget=h.cost[:, -168:].sum(axis=1) / 7 * 1.5, target_cpa=np.full(n, np.nan),
        target_roas=np.full(n, 2.0), portfolio=("p",) * n,
        creative_ids=tuple(f"{c}-ad" for c in h.campaign_ids),
        creative_start=np.zeros(n, dtype=np.int64), hour_modifiers=np.ones((n, 168)))


def test_hour_of_week_starts_on_monday() -> None:
    assert hour_of_week(THURSDAY) == 72
    assert hour_of_week(THURSDAY + 4 * 86_400_000) == 0
    assert hour_of_week(THURSDAY + 4 * 86_400_000 + 10 * 3_600_000) == 10


def test_hour_of_week_totals_land_on_their_hour() -> None:
    hours = 9 * 168 + 5
    h = random_history(2, hours, seed=1)
    monday_ten = ((np.arange(hours) + 72) % 168 == 10).astype(float)
    h = replace(h, clicks=np.tile(monday_ten, (2, 1)))
    agg = aggregate(h, settings_for(h), hours, POLICY)
    assert agg.how[0, 0, 10] == POLICY.daypart_weeks and agg.how[0, 0].sum() == POLICY.daypart_weeks
    assert agg.how_days == POLICY.daypart_weeks * 7


def test_a_cycle_never_reads_the_future() -> None:
    h = random_history(12, 60 * 24, seed=2)
    t = 50 * 24 + 7
    garbage = np.random.default_rng(9).uniform(0, 1e6, h.impressions.shape)
    past = np.arange(h.hours) < t

    def spoil(m: np.ndarray) -> np.ndarray:
        return np.where(past, m, garbage)

    assert h.frequency is not None
    future = replace(h, impressions=spoil(h.impressions), clicks=spoil(h.clicks), cost=spoil(h.cost),
                     conversions=spoil(h.conversions), value=spoil(h.value), frequency=spoil(h.frequency))
    settings = settings_for(h)
    a = run_cycle(h, settings, t, POLICY, GuardState())
    b = run_cycle(future, settings, t, POLICY, GuardState())
    assert a.recommendations and a.recommendations == b.recommendations
    assert {r.rule for r in a.recommendations} >= {"fatigue", "daypart"}


def test_flags_and_inputs_reach_the_guard_rails() -> None:
    h = random_history(6, 50 * 24, seed=3)
    cycle = run_cycle(h, settings_for(h), h.hours, POLICY, GuardState(),
                      CycleInputs(flags=DataFlags(anomalous=frozenset(h.campaign_ids))))
    assert cycle.recommendations and not cycle.outcome.accepted
    assert {r.guard for r in cycle.outcome.refused} == {"data_anomalous"}


def test_apply_changes_moves_levers_and_refreshes_creatives() -> None:
    h = random_history(4, 50 * 24, seed=4)
    settings = settings_for(h)
    cycle = run_cycle(h, settings, h.hours, POLICY, GuardState())
    kinds = {r.action for r in cycle.outcome.accepted}
    assert "refresh_creative" in kinds or "pause_creative" in kinds
    after = apply_changes(settings, h.campaign_ids, cycle.outcome.accepted, h.hours)
    for r in cycle.outcome.accepted:
        i = h.campaign_ids.index(r.campaign_id)
        if r.action == "set_bid":
            assert after.bid[i] == r.proposed
        if r.action in ("refresh_creative", "pause_creative"):
            assert after.creative_start[i] == h.hours and after.creative_ids[i] != settings.creative_ids[i]
        if r.action == "set_hour_modifiers":
            assert tuple(after.hour_modifiers[i]) == r.modifiers
    assert settings.creative_start.max() == 0  # the input is not mutated
