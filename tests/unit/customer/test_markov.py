"""Markov attribution: a chain solved by hand, state construction, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from streams.customer.attribution_paths import Paths
from streams.customer.markov import markov_attribution, markov_bootstrap, transition_probabilities


def test_removal_effects_of_a_chain_solved_by_hand() -> None:
    # start->A 2/3, start->B 1/3; A->B 1/2, A->null 1/2; B->conversion 1. P(conversion) = 2/3.
    # Without A only start->B converts: 1/3, effect 1/2. Without B nothing converts: effect 1.
    p = Paths.from_sequences([["A", "B"], ["A"], ["B"]], [1, 0, 1], [10.0, 0.0, 4.0], [0, 1, 0])
    r = markov_attribution(p, order=1)
    assert r.conversion_probability == pytest.approx(2 / 3)
    assert r.removal_effects == pytest.approx([0.5, 1.0])
    assert r.conversions == pytest.approx([2 / 3, 4 / 3])
    # Both conversions leave from B, worth (10 + 4) / 2 each; value effects follow the same chain.
    assert r.value_removal_effects == pytest.approx([0.5, 1.0])
    assert r.values == pytest.approx([14 / 3, 28 / 3])
    assert transition_probabilities(p) == pytest.approx({
        ("(start)", "A"): 2 / 3, ("(start)", "B"): 1 / 3, ("A", "B"): 0.5, ("A", "(null)"): 0.5,
        ("B", "(conversion)"): 1.0})


def test_higher_order_states_are_windows_of_the_last_k_channels() -> None:
    p = Paths.from_sequences([["a", "b", "c", "d"], ["b"], ["a", "b"]], [1, 1, 0], None, [0, 0, 2])
    t = transition_probabilities(p, order=3)
    assert t == pytest.approx({
        ("(start)", "a,b,c"): 1 / 4, ("(start)", "b"): 1 / 4, ("(start)", "a,b"): 2 / 4,
        ("a,b,c", "b,c,d"): 1.0, ("b,c,d", "(conversion)"): 1.0, ("b", "(conversion)"): 1.0,
        ("a,b", "(null)"): 1.0})
    r = markov_attribution(p, order=3)
    # Removing b kills every converting state; removing a, c or d kills the first path only.
    assert r.removal_effects == pytest.approx([0.5, 1.0, 0.5, 0.5])
    assert r.conversions.sum() == pytest.approx(2.0)


def test_repeated_touches_and_self_loops_change_nothing_at_order_one() -> None:
    rng = np.random.default_rng(4)
    names = list("abcde")
    paths = [list(rng.choice(names, size=rng.integers(1, 6))) for _ in range(300)]
    conv, null = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    value = conv * rng.uniform(1, 9, 300)
    doubled = [[c for c in path for _ in range(2)] for path in paths]
    a = markov_attribution(Paths.from_sequences(paths, conv, value, null))
    b = markov_attribution(Paths.from_sequences(doubled, conv, value, null))
    assert a.removal_effects == pytest.approx(b.removal_effects)
    assert a.values == pytest.approx(b.values)
    assert a.conversions.sum() == pytest.approx(conv.sum()) and a.values.sum() == pytest.approx(value.sum())
    for order in (2, 3):
        r = markov_attribution(Paths.from_sequences(paths, conv, value, null), order)
        assert r.conversion_probability == pytest.approx(conv.sum() / (conv.sum() + null.sum()))


def sample_paths(scale: int) -> Paths:
    rng = np.random.default_rng(7)
    names = ["search", "social", "email", "display"]
    paths = [list(rng.choice(names, size=rng.integers(1, 5), p=[0.4, 0.3, 0.2, 0.1])) for _ in range(400)]
    conv = np.array([int("search" in p) + int(len(p) > 2) for p in paths])
    return Paths.from_sequences(paths, conv * scale, conv * 25.0 * scale, np.full(400, 2 * scale))


def test_bootstrap_is_seeded_and_its_intervals_narrow_with_more_data() -> None:
    small = sample_paths(1)
    a = markov_bootstrap(small, order=1, replicates=60, seed=3)
    again = markov_bootstrap(small, order=1, replicates=60, seed=3)
    assert np.array_equal(a.conversions_low, again.conversions_low)
    assert np.array_equal(a.values_high, again.values_high)
    assert not np.array_equal(a.conversions_low, markov_bootstrap(small, 1, 60, seed=4).conversions_low)
    est = a.estimate.conversions
    assert (a.conversions_low <= est).all() and (est <= a.conversions_high).all()
    assert (a.values_low <= a.estimate.values).all() and (a.estimate.values <= a.values_high).all()
    assert (a.conversions_high - a.conversions_low > 0).all()
    big = markov_bootstrap(sample_paths(16), order=1, replicates=60, seed=3)
    # Sixteen times the journeys: intervals about four times narrower relative to the credits.
    ratio = ((big.conversions_high - big.conversions_low) / big.estimate.conversions) / (
        (a.conversions_high - a.conversions_low) / est)
    assert 0.15 < float(np.median(ratio)) < 0.4


def test_bootstrap_of_higher_order_chain() -> None:
    b = markov_bootstrap(sample_paths(1), order=3, replicates=20, seed=0, level=0.9)
    assert b.level == 0.9 and b.replicates == 20 and b.estimate.order == 3
    assert (b.conversions_low <= b.estimate.conversions + 1e-9).all()
