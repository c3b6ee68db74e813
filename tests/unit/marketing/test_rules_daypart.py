"""Dayparting: empirical-Bayes shrinkage and bounded hour-of-week modifiers."""

from __future__ import annotations

import numpy as np

from streams.marketing.rules_daypart import DaypartPolicy, daypart_modifiers, daypart_rule, shrink_rates

POLICY = DaypartPolicy()


def hours(cvr: np.ndarray, clicks_per_hour: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    clicks = np.full(168, clicks_per_hour)
    return clicks, rng.binomial(clicks.astype(int), cvr).astype(float)


def test_no_real_difference_between_hours_gives_no_schedule() -> None:
    clicks, conv = hours(np.full(168, 0.03), 100, seed=1)
    mods, _ = daypart_modifiers(clicks, conv, 0.3)
    assert np.abs(mods - 1).max() < 0.05
    assert daypart_rule("c", clicks, conv, conv * 50, clicks * 0.5, None, 56, POLICY, 0) == []


def test_real_differences_give_bounded_modifiers_that_keep_the_mean() -> None:
    cvr = np.where(np.arange(168) % 24 < 12, 0.05, 0.02)
    clicks, conv = hours(cvr, 200, seed=2)
    [rec] = daypart_rule("c", clicks, conv, conv * 50, clicks * 0.5, None, 56, POLICY, 0)
    mods = np.array(rec.modifiers)
    assert len(mods) == 168 and mods.min() >= 0.8 - 1e-9 and mods.max() <= 1.2 + 1e-9  # one step
    assert mods[cvr == 0.05].mean() > 1.1 and mods[cvr == 0.02].mean() < 0.9
    full, _ = daypart_modifiers(clicks, conv, 0.3)
    assert abs(float((full * clicks).sum() / clicks.sum()) - 1) < 0.02
    assert rec.expected_effect > 0 and rec.change <= POLICY.max_step + 1e-9


def test_thin_hours_are_shrunk_more_than_thick_ones() -> None:
    rng = np.random.default_rng(3)
    trials = np.full(168, 400.0)
    truth = rng.uniform(0.02, 0.06, 168)
    successes = rng.binomial(400, truth).astype(float)
    trials[0], successes[0] = 10, 5  # raw 50 % on 10 clicks
    trials[1], successes[1] = 4000, 2000  # raw 50 % on 4,000 clicks
    posterior, pooled, strength = shrink_rates(successes, trials)
    assert 0 < strength < 1e6
    assert posterior[0] < posterior[1]
    assert abs(posterior[0] - pooled) < abs(0.5 - pooled)


def test_not_enough_data_says_nothing() -> None:
    cvr = np.where(np.arange(168) % 24 < 12, 0.05, 0.02)
    clicks, conv = hours(cvr, 5, seed=4)
    assert daypart_rule("c", clicks, conv, conv * 50, clicks * 0.5, None, 56, POLICY, 0) == []
