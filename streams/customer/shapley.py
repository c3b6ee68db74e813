"""Shapley-value attribution over channel coalitions, computed exactly.

Characteristic function: ``v(S)`` = the conversions (or conversion value) of the converting
journeys whose set of channels is a subset of the coalition ``S``. This is the definition of
Zhao et al. (2018, "Shapley value methods for attribution modeling in online advertising") and
of the ``mta`` package. We use it because it needs no model: every ``v(S)`` is observed data
(no conversion rate of a channel mix nobody saw has to be guessed), ``v`` is monotone,
``v({}) = 0`` and ``v(all channels)`` is every conversion, so efficiency hands out exactly the
observed conversions. Its price: the Shapley value of this game ignores touch order and
repeats (it only sees channel sets), and non-converting journeys play no part.

Invariants:
- ``coalition_values`` is the subset-sum (zeta) transform of conversions per exact channel
  set: ``v(S) = sum over T subset of S of w(T)``, in O(n 2^n).
- ``shapley_from_values`` is the exact Shapley formula for any game given as ``v`` over all
  2^n coalitions (bitmask index), in O(n 2^n): no permutations.
- ``shapley_moebius`` uses the Möbius form of the same game: ``w`` is its Möbius transform,
  so ``phi_i = sum over T containing i of w(T) / |T|`` (each journey's conversions are shared
  equally among its distinct channels). It is linear in the journeys, for any channel count;
  both give the same values, which sum to ``v(all)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Literal

import numpy as np

from streams.customer.attribution import Floats, Ints
from streams.customer.attribution_paths import Paths

MAX_SUBSET_CHANNELS = 24  # 2^24 coalitions of float64 is 128 MiB: above that only Möbius


def coalition_values(sets: Ints, weights: Floats, players: int) -> Floats:
    """``v`` over every coalition (index = bitmask): the total weight of the sets inside it."""
    if players > MAX_SUBSET_CHANNELS:
        raise ValueError(f"subset sums over more than {MAX_SUBSET_CHANNELS} players need too much memory")
    v = np.bincount(sets, weights=weights, minlength=1 << players).astype(np.float64)
    for i in range(players):
        # Coalitions with bit i set also hold every set of the coalition without it.
        view = v.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return v


def shapley_from_values(v: Floats, players: int) -> Floats:
    """Exact Shapley values of the game ``v`` (``v[mask]``, ``len(v) == 2 ** players``)."""
    if len(v) != 1 << players:
        raise ValueError("v needs one value per coalition")
    masks = np.arange(1 << players, dtype=np.int64)
    size = np.zeros(len(masks), dtype=np.int64)
    for i in range(players):
        size += (masks >> i) & 1
    n = players
    # weight[s] = s! (n - s - 1)! / n! for a coalition of size s that i joins
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)] + [0.0])
    phi = np.zeros(players)
    for i in range(players):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float(np.dot(weight[size[without]], v[without | (1 << i)] - v[without]))
    return phi


def shapley_moebius(sets: Ints, weights: Floats, players: int) -> Floats:
    """Shapley values of the subset game from its Möbius transform (``sets`` as bitmasks)."""
    phi = np.zeros(players)
    size = np.zeros(len(sets), dtype=np.int64)
    for i in range(players):
        size += (sets >> i) & 1
    share = np.divide(weights, size, out=np.zeros(len(sets)), where=size > 0)
    for i in range(players):
        phi[i] = share[(sets >> i) & 1 == 1].sum()
    return phi


@dataclass(frozen=True)
class ShapleyResult:
    channels: tuple[str, ...]
    conversions: Floats  # per channel, sums to the converting paths' conversions
    values: Floats  # per channel, sums to their value

    def as_dict(self) -> dict[str, tuple[float, float]]:
        return {c: (float(n), float(v)) for c, n, v in zip(self.channels, self.conversions, self.values,
                                                           strict=True)}


def _channel_sets(paths: Paths) -> tuple[Ints, Ints]:
    """Distinct (path, channel) pairs of the converting paths."""
    path = np.repeat(np.arange(len(paths), dtype=np.int64), paths.lengths)
    converting = paths.conversions[path] > 0
    pairs = np.unique(path[converting] * len(paths.channels) + paths.codes[converting])
    return pairs // len(paths.channels), pairs % len(paths.channels)


def shapley_attribution(paths: Paths, method: Literal["moebius", "subset_sums"] = "moebius") -> ShapleyResult:
    """Shapley credits of every channel for conversions and for value.

    ``moebius`` (the default) works for any number of channels; ``subset_sums`` evaluates the
    characteristic function on all 2^n coalitions and applies the Shapley formula (n up to 24).
    """
    path, channel = _channel_sets(paths)
    n = len(paths.channels)
    if method == "moebius":
        # Per path, its conversions shared equally among its distinct channels.
        distinct = np.bincount(path, minlength=len(paths)).astype(np.float64)
        conv = np.bincount(channel, weights=paths.conversions[path] / distinct[path], minlength=n)
        value = np.bincount(channel, weights=paths.values[path] / distinct[path], minlength=n)
        return ShapleyResult(paths.channels, conv.astype(np.float64), value.astype(np.float64))
    if n > MAX_SUBSET_CHANNELS:
        raise ValueError(f"subset_sums handles at most {MAX_SUBSET_CHANNELS} channels; use moebius")
    mask = np.zeros(len(paths), dtype=np.int64)
    np.bitwise_or.at(mask, path, np.left_shift(np.int64(1), channel))
    converting = paths.conversions > 0
    sets = mask[converting]
    return ShapleyResult(paths.channels,
                         shapley_from_values(coalition_values(sets, paths.conversions[converting], n), n),
                         shapley_from_values(coalition_values(sets, paths.values[converting], n), n))
