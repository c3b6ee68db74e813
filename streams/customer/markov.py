"""Markov-chain attribution with exact removal effects, and bootstrap intervals for its credits.

Invariants:
- States: (start), one state per window of the last ``order`` channels, (conversion) and
  (null). A path of n >= order channels passes through its n - order + 1 windows in turn; a
  shorter path is one state of all its channels (ChannelAttribution builds states the same
  way). Repeated consecutive states are one visit: a self-loop changes no absorption
  probability.
- Transition probabilities are counts over out-counts: a path adds its journeys (conversions
  plus nulls) to each of its transitions, its conversions to last -> (conversion) and its
  nulls to last -> (null).
- The removal effect of a channel is ``1 - P(conversion without it) / P(conversion)``, where
  "without it" sends every state containing the channel to (null). It is solved exactly on the
  absorbing chain (expected visits from (start): ``(I - Q)^T n = e_start``, sparse LU), never
  simulated.
- Value: a conversion entered from state s is worth the mean value of the observed
  conversions entered from s; value removal effects compare expected values the same way.
- Credits are proportional to removal effects and sum to the paths' total conversions (and
  total value). Bootstrap intervals resample journeys with replacement (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse  # type: ignore[import-untyped]
from scipy.sparse.linalg import splu  # type: ignore[import-untyped]

from streams.customer.attribution import Floats, Ints
from streams.customer.attribution_paths import Paths

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
NDArrayBool = np.ndarray[tuple[int, ...], np.dtype[np.bool_]]


@dataclass(frozen=True)
class _Structure:
    """The states of a set of paths and where each path goes, independent of path counts."""

    order: int
    states: tuple[tuple[int, ...], ...]  # channel codes of each state; states[0] = () is (start)
    contains: NDArrayBool
    pair_of: Ints  # for each internal transition (start -> first state, state -> next state) ...
    path_of: Ints  # ... its distinct (from, to) pair and the path it belongs to
    src: Ints  # each distinct pair's from and to states
    dst: Ints
    last: Ints  # last state of each path


def _structure(paths: Paths, order: int) -> _Structure:
    if not 1 <= order <= 6:
        raise ValueError("order must be between 1 and 6")
    n_ch = len(paths.channels)
    base = np.int64(n_ch + 1)
    if (n_ch + 1) ** order >= 2**62:
        raise ValueError(f"{n_ch} channels at order {order} are too many states to encode")
    lengths = paths.lengths
    elem_len = np.repeat(lengths, lengths)
    path = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    pos = np.arange(len(paths.codes), dtype=np.int64) - np.repeat(paths.offsets[:-1], lengths)
    is_window = np.where(elem_len >= order, pos <= elem_len - order, pos == 0)
    g = np.flatnonzero(is_window)
    width = np.minimum(elem_len[g], order)
    digits = paths.codes + 1  # 0 never occurs, so windows of different widths never collide
    window = np.zeros(len(g), dtype=np.int64)
    for j in range(order):
        take = j < width
        window = np.where(take, window * base + digits[np.minimum(g + j, len(digits) - 1)], window)
    wpath = path[g]
    keep = np.r_[True, (window[1:] != window[:-1]) | (wpath[1:] != wpath[:-1])]
    window, wpath = window[keep], wpath[keep]
    unique, inverse = np.unique(window, return_inverse=True)
    state = inverse.astype(np.int64) + 1
    first = np.r_[True, wpath[1:] != wpath[:-1]]
    last_of = np.r_[wpath[1:] != wpath[:-1], True]
    src = np.where(first, 0, np.r_[0, state[:-1]])
    decoded: list[tuple[int, ...]] = [()]
    contains = np.zeros((len(unique) + 1, n_ch), dtype=bool)
    for s, w in enumerate(unique.tolist(), start=1):
        codes: list[int] = []
        while w:
            w, d = divmod(w, int(base))
            codes.append(d - 1)
        decoded.append(tuple(reversed(codes)))
        contains[s, codes] = True
    pairs, pair_of = np.unique(src * len(decoded) + state, return_inverse=True)
    return _Structure(order, tuple(decoded), contains, pair_of.astype(np.int64), wpath,
                      pairs // len(decoded), pairs % len(decoded), state[last_of])


@dataclass(frozen=True)
class _Chain:
    q: sparse.csr_matrix  # transient -> transient probabilities (state 0 is (start))
    to_conversion: Floats
    to_null: Floats
    worth: Floats  # mean value of a conversion entered from each state


def _chain(st: _Structure, conversions: Floats, values: Floats, nulls: Floats) -> _Chain:
    n = len(st.states)
    journeys = conversions + nulls
    w = np.bincount(st.pair_of, weights=journeys[st.path_of], minlength=len(st.src))
    out = np.bincount(st.src, weights=w, minlength=n)
    conv = np.bincount(st.last, weights=conversions, minlength=n)
    null = np.bincount(st.last, weights=nulls, minlength=n)
    value = np.bincount(st.last, weights=values, minlength=n)
    total = out + conv + null
    inv = np.divide(1.0, total, out=np.zeros(n), where=total > 0)
    q = sparse.csr_matrix((w * inv[st.src], (st.src, st.dst)), shape=(n, n))
    worth = np.divide(value, conv, out=np.zeros(n), where=conv > 0)
    return _Chain(q, conv * inv, null * inv, worth)


def _absorbed(chain: _Chain, keep: NDArrayBool | None) -> tuple[float, float]:
    """P(conversion) and expected conversion value from (start), over the kept states only."""
    q, r, worth = chain.q, chain.to_conversion, chain.worth
    if keep is not None:
        idx = np.flatnonzero(keep)
        q, r, worth = q[idx][:, idx], r[idx], worth[idx]
    a = (sparse.identity(q.shape[0], format="csc") - q.T.tocsc()).tocsc()
    e = np.zeros(q.shape[0])
    e[0] = 1.0
    visits = np.asarray(splu(a).solve(e), dtype=np.float64)
    return float(visits @ r), float(visits @ (r * worth))


def _removal_effects(st: _Structure, chain: _Chain) -> tuple[float, Floats, Floats]:
    p, ev = _absorbed(chain, None)
    n_ch = st.contains.shape[1]
    re_conv, re_value = np.zeros(n_ch), np.zeros(n_ch)
    for c in range(n_ch):
        if not st.contains[:, c].any():
            continue
        p_c, ev_c = _absorbed(chain, ~st.contains[:, c])
        re_conv[c] = 1.0 - p_c / p if p > 0 else 0.0
        re_value[c] = 1.0 - ev_c / ev if ev > 0 else 0.0
    return p, re_conv, re_value


def _share(effects: Floats, total: float) -> Floats:
    s = effects.sum()
    return effects / s * total if s > 0 else np.zeros_like(effects)


@dataclass(frozen=True)
class MarkovResult:
    channels: tuple[str, ...]
    order: int
    conversion_probability: float
    removal_effects: Floats  # per channel, on conversions
    value_removal_effects: Floats  # per channel, on conversion value
    conversions: Floats  # credited conversions per channel (sum = total conversions)
    values: Floats  # credited value per channel (sum = total value)

    def as_dict(self) -> dict[str, tuple[float, float]]:
        return {c: (float(n), float(v)) for c, n, v in zip(self.channels, self.conversions, self.values,
                                                           strict=True)}


def _result(paths: Paths, st: _Structure, conversions: Floats, values: Floats, nulls: Floats) -> MarkovResult:
    p, re_conv, re_value = _removal_effects(st, _chain(st, conversions, values, nulls))
    return MarkovResult(paths.channels, st.order, p, re_conv, re_value,
                        _share(re_conv, float(conversions.sum())), _share(re_value, float(values.sum())))


def _counted(paths: Paths) -> Paths:
    """Paths with at least one journey: a path counted zero times creates no state."""
    keep = (paths.conversions + paths.nulls) > 0
    if keep.all():
        return paths
    lengths = paths.lengths[keep]
    mask = np.repeat(keep, paths.lengths)
    return Paths(paths.channels, np.r_[0, np.cumsum(lengths)].astype(np.int64), paths.codes[mask],
                 paths.conversions[keep], paths.values[keep], paths.nulls[keep])


def markov_attribution(paths: Paths, order: int = 1) -> MarkovResult:
    """Removal-effect credits of every channel under a Markov chain of the given order."""
    paths = _counted(paths)
    return _result(paths, _structure(paths, order), paths.conversions, paths.values, paths.nulls)


def transition_probabilities(paths: Paths, order: int = 1) -> dict[tuple[str, str], float]:
    """The chain's transition probabilities by state name (channels of a state joined by ',')."""
    paths = _counted(paths)
    st = _structure(paths, order)
    chain = _chain(st, paths.conversions, paths.values, paths.nulls)
    names = [START] + [",".join(paths.channels[c] for c in s) for s in st.states[1:]]
    coo = chain.q.tocoo()
    out = {(names[i], names[j]): float(v) for i, j, v in zip(coo.row.tolist(), coo.col.tolist(),
                                                            coo.data.tolist(), strict=True) if v > 0}
    for s, name in enumerate(names):
        for target, prob in ((CONVERSION, chain.to_conversion[s]), (NULL, chain.to_null[s])):
            if prob > 0:
                out[(name, target)] = float(prob)
    return out


@dataclass(frozen=True)
class MarkovIntervals:
    """Percentile bootstrap intervals of the Markov credits, per channel."""

    estimate: MarkovResult
    level: float
    replicates: int
    conversions_low: Floats
    conversions_high: Floats
    values_low: Floats
    values_high: Floats


def markov_bootstrap(paths: Paths, order: int = 1, replicates: int = 200, seed: int = 0,
                     level: float = 0.95) -> MarkovIntervals:
    """Bootstrap the credits: resample the journeys (each path's conversions and nulls) with
    replacement, ``replicates`` times, and refit. A resampled conversion keeps its path's mean
    value. The chain's states stay those of the full data; a state no resample visits is
    simply never reached."""
    paths = _counted(paths)
    st = _structure(paths, order)
    estimate = _result(paths, st, paths.conversions, paths.values, paths.nulls)
    rng = np.random.default_rng(seed)
    weights = np.r_[paths.conversions, paths.nulls]
    total = round(float(weights.sum()))
    mean_value = np.divide(paths.values, paths.conversions, out=np.zeros(len(paths)),
                           where=paths.conversions > 0)
    conv_draws, value_draws = [], []
    for _ in range(replicates):
        counts = rng.multinomial(total, weights / weights.sum()).astype(np.float64)
        conv, null = counts[: len(paths)], counts[len(paths):]
        fit = _result(paths, st, conv, conv * mean_value, null)
        conv_draws.append(fit.conversions)
        value_draws.append(fit.values)
    alpha = (1.0 - level) / 2.0
    cd, vd = np.array(conv_draws), np.array(value_draws)
    return MarkovIntervals(estimate, level, replicates,
                           np.quantile(cd, alpha, axis=0), np.quantile(cd, 1 - alpha, axis=0),
                           np.quantile(vd, alpha, axis=0), np.quantile(vd, 1 - alpha, axis=0))
