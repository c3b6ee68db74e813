"""Shapley values: equal to a brute-force permutation computation, and the Shapley axioms."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

from streams.customer.attribution_paths import Paths
from streams.customer.shapley import (
    coalition_values,
    shapley_attribution,
    shapley_from_values,
    shapley_moebius,
)


def brute_force(v: Callable[[frozenset[int]], float], n: int) -> list[float]:
    """Average marginal contribution over every ordering of the players."""
    phi = [0.0] * n
    for order in itertools.permutations(range(n)):
        before: frozenset[int] = frozenset()
        for i in order:
            phi[i] += v(before | {i}) - v(before)
            before = before | {i}
    return [p / math.factorial(n) for p in phi]


def as_mask(s: frozenset[int]) -> int:
    return sum(1 << i for i in s)


def test_exact_formula_equals_brute_force_on_random_games() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 6):
        v = rng.normal(size=1 << n)
        v[0] = 0.0
        expected = brute_force(lambda s, v=v: float(v[as_mask(s)]), n)  # type: ignore[misc]
        assert shapley_from_values(v, n) == pytest.approx(expected)


def test_subset_game_equals_brute_force_and_moebius_for_paths() -> None:
    paths = [["a", "b", "a"], ["b"], ["c", "a"], ["a", "b", "c", "d"], ["d", "d"], ["b", "c"], ["e"]]
    conv, value = [3, 1, 2, 1, 4, 0, 2], [30.0, 5.0, 8.0, 2.5, 1.0, 0.0, 7.0]
    p = Paths.from_sequences(paths, conv, value, [1] * 7)
    n = len(p.channels)
    sets = [frozenset(p.channels.index(c) for c in path) for path in paths]

    def v(coalition: frozenset[int], weights: list[float]) -> float:
        return sum(w for s, w in zip(sets, weights, strict=True) if s <= coalition)

    exact_conv = brute_force(lambda s: v(s, [float(c) for c in conv]), n)
    exact_value = brute_force(lambda s: v(s, value), n)
    for method in ("moebius", "subset_sums"):
        got = shapley_attribution(p, method)
        assert got.conversions == pytest.approx(exact_conv) and got.values == pytest.approx(exact_value)
    masks = np.array([as_mask(s) for s in sets], dtype=np.int64)
    assert shapley_moebius(masks, np.array(conv, float), n) == pytest.approx(exact_conv)


def test_efficiency_symmetry_and_null_player() -> None:
    # Channels 0 and 1 always appear together (symmetric); channel 3 adds nothing to any coalition.
    rng = np.random.default_rng(1)
    n = 5
    sets = np.array([0b00011, 0b00111, 0b10011, 0b00100, 0b10000, 0b10111], dtype=np.int64)
    weights = rng.uniform(1, 10, size=len(sets))
    v = coalition_values(sets, weights, n)
    phi = shapley_from_values(v, n)
    assert phi.sum() == pytest.approx(v[-1]) == pytest.approx(weights.sum())
    assert phi[0] == pytest.approx(phi[1])
    assert phi[3] == 0.0
    # Symmetry and null player hold for any game, not only subset games.
    g = rng.normal(size=1 << n)
    g[0] = 0.0
    # Make player 3 a null player and players 0, 1 symmetric in g.
    masks = np.arange(1 << n)
    g = g[masks & ~(1 << 3)]
    swapped = (masks & ~0b11) | ((masks & 1) << 1) | ((masks >> 1) & 1)
    g = (g + g[swapped]) / 2
    phi = shapley_from_values(g, n)
    assert phi[3] == pytest.approx(0.0, abs=1e-12) and phi[0] == pytest.approx(phi[1])
    assert phi.sum() == pytest.approx(g[-1] - g[0])


def test_coalition_values_are_subset_sums() -> None:
    sets = np.array([0b001, 0b011, 0b101, 0b110, 0b011], dtype=np.int64)
    w = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    v = coalition_values(sets, w, 3)
    for mask in range(8):
        assert v[mask] == sum(x for s, x in zip(sets.tolist(), w, strict=True) if s & ~mask == 0)


def test_twenty_channels_exactly_without_permutations() -> None:
    rng = np.random.default_rng(2)
    names = [f"ch{i:02d}" for i in range(20)]
    paths = [list(rng.choice(names, size=rng.integers(1, 6))) for _ in range(3000)]
    conv = rng.integers(0, 3, size=len(paths)).astype(float)
    p = Paths.from_sequences(paths, conv, conv * 10, np.ones(len(paths)))
    fast, full = shapley_attribution(p, "moebius"), shapley_attribution(p, "subset_sums")
    assert len(p.channels) == 20
    assert full.conversions == pytest.approx(fast.conversions)
    assert full.conversions.sum() == pytest.approx(conv.sum())
    assert full.values.sum() == pytest.approx(10 * conv.sum())
