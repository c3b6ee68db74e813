"""Customers drawn from the BG/NBD and Gamma-Gamma generative processes, for tests and benchmarks.

Invariants: the draws depend only on the parameters, the ages and the generator passed in (so a
seeded ``numpy.random.Generator`` gives the same customers every time); each customer's first
purchase is at time 0 and ``t_x <= T``; a customer drops out only after a repeat purchase, as in the
BG/NBD likelihood.
"""

from __future__ import annotations

import numpy as np

from streams.predictive.clv import Array, ArrayLike, BgNbdParams, GammaGammaParams


def simulate_bgnbd(params: BgNbdParams, T: ArrayLike, rng: np.random.Generator) -> tuple[Array, Array]:
    """(x, t_x) of customers observed for ages T since their first purchase."""
    ages = np.asarray(T, dtype=np.float64)
    n = ages.size
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    live = np.arange(n)
    # One step per purchase, over the customers still alive and inside their window.
    while live.size:
        nxt = t_x[live] + rng.exponential(1.0, live.size) / rate[live]
        inside = nxt <= ages[live]
        live, nxt = live[inside], nxt[inside]
        x[live] += 1.0
        t_x[live] = nxt
        live = live[rng.random(live.size) >= dropout[live]]
    return x, t_x


def simulate_gamma_gamma(params: GammaGammaParams, x: ArrayLike, rng: np.random.Generator) -> Array:
    """Mean value of each customer's x repeat purchases (0 where x is 0).

    Each purchase is Gamma(p, nu) with nu ~ Gamma(q, gamma), so the mean of x of them is
    Gamma(p x, x nu): drawn directly rather than purchase by purchase.
    """
    xs = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(params.q, 1.0 / params.gamma, xs.size)
    repeat = xs > 0
    m = np.zeros(xs.size)
    m[repeat] = rng.gamma(params.p * xs[repeat], 1.0 / (xs[repeat] * nu[repeat]))
    return m
