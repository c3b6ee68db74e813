"""Customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, fitted by maximum likelihood.

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at a Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out
with probability p ~ Beta(a, b). Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"; Fader and
Hardie 2013 note): a customer's order values are Gamma(p, nu) with nu ~ Gamma(q, gamma), independent
of the purchase process.

Inputs are per-customer arrays in one time unit (``rfm.summarise``): ``x`` repeat purchases,
``t_x`` recency, ``T`` age, ``m`` mean value of the repeat purchases. Every parameter and
prediction is in that unit (alpha scales with it; r, a, b do not).

Invariants:
- Fits maximise the papers' log-likelihoods over log-parameters (so parameters stay positive)
  with analytic gradients; identical customers are weighted once, so the cost grows with the
  number of distinct (x, t_x, T) rows.
- Functions are pure and vectorised; nothing here holds state.
- The conditional expectation uses Euler's transformation of the paper's 2F1 term, which is the
  same quantity but keeps the hypergeometric series short for customers with many purchases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import digamma, expit, gammaln, hyp2f1  # type: ignore[import-untyped]

from streams.predictive.rfm import UNIT_DAYS, RfmSummary, TimeUnit, summary_arrays

Array = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
Objective = Callable[[Array], tuple[float, Array]]
DAYS_PER_MONTH = 365.25 / 12
# Log-parameters stay within exp(+-20): far beyond any sensible model, short of overflow.
_LOG_BOUND = 20.0


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    customers: int
    iterations: int
    converged: bool


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    customers: int
    iterations: int
    converged: bool


def _arr(values: ArrayLike) -> Array:
    return np.asarray(values, dtype=np.float64)


def _check_summary(x: Array, t_x: Array, T: Array) -> None:
    if not (x.shape == t_x.shape == T.shape):
        raise ValueError("x, t_x and T must have the same shape")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any((x == 0) & (t_x != 0)):
        raise ValueError("need 0 <= t_x <= T, x >= 0, and t_x == 0 when x == 0")


Levels = tuple[Array, npt.NDArray[np.intp]]


def _levels(x: Array) -> Levels:
    """Distinct purchase counts and each customer's index into them: the special functions of x
    are evaluated once per count rather than once per customer."""
    values, inverse = np.unique(x, return_inverse=True)
    return values, inverse.reshape(x.shape)


def _bgnbd_terms(params: BgNbdParams, x: Array, t_x: Array, T: Array,
                 levels: Levels | None = None) -> tuple[Array, ...]:
    """Per-customer log-likelihood and its derivatives in r, alpha, a, b (paper eq. 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    counts, at = levels if levels is not None else _levels(x)
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1.0, 1.0)
    a1 = (gammaln(r + counts) - gammaln(r))[at] + r * np.log(alpha)
    a2 = (gammaln(a + b) + gammaln(b + counts) - gammaln(b) - gammaln(a + b + counts))[at]
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x), -np.inf)
    both = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - both), np.exp(a4 - both)
    ll = a1 + a2 + both
    d_r = (digamma(r + counts) - digamma(r))[at] + np.log(alpha) - w3 * np.log(alpha + T) \
        - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    psi_ab = (digamma(a + b) - digamma(a + b + counts))[at]
    d_a = psi_ab + w4 / a
    d_b = psi_ab + (digamma(b + counts) - digamma(b))[at] - w4 / b_x1
    return ll, d_r, d_alpha, d_a, d_b


def bgnbd_log_likelihood(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """Each customer's BG/NBD log-likelihood."""
    return _bgnbd_terms(params, _arr(x), _arr(t_x), _arr(T))[0]


def _distinct(*columns: Array) -> tuple[list[Array], Array]:
    table, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
    return [table[:, i].copy() for i in range(table.shape[1])], counts.astype(np.float64)


def _maximise(objective: Objective, start: Array) -> tuple[Array, float, int, bool]:
    result = minimize(objective, start, jac=True, method="L-BFGS-B",
                      bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(start),
                      options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    # L-BFGS-B may stop on a failed line search at the limit of float precision: judge by the gradient.
    converged = bool(result.success) or float(np.max(np.abs(result.jac))) < 1e-6
    return np.asarray(result.x, dtype=np.float64), float(result.fun), int(result.nit), converged


def _log_standard_errors(objective: Objective, theta: Array, customers: float) -> tuple[float, ...]:
    """Standard errors of the log-parameters: the inverse Hessian of the total negative
    log-likelihood, the Hessian by central differences of the analytic gradient."""
    k = theta.size
    hessian = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = 1e-5
        hessian[i] = (objective(theta + step)[1] - objective(theta - step)[1]) / 2e-5
    hessian = (hessian + hessian.T) / 2.0 * customers
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return tuple(float("nan") for _ in range(k))
    return tuple(float(np.sqrt(v)) if v > 0 else float("nan") for v in np.diag(covariance))


def _bgnbd_objective(x: Array, t_x: Array, T: Array) -> tuple[Objective, float]:
    """Mean negative log-likelihood over log-parameters and its gradient; distinct rows weighted."""
    (ux, utx, uT), weight = _distinct(x, t_x, T)
    total = float(weight.sum())
    levels = _levels(ux)

    def objective(theta: Array) -> tuple[float, Array]:
        r, alpha, a, b = np.exp(theta)
        ll, *grads = _bgnbd_terms(BgNbdParams(r, alpha, a, b), ux, utx, uT, levels)
        gradient = np.array([p * float(weight @ g) for p, g in zip((r, alpha, a, b), grads, strict=True)])
        return -float(weight @ ll) / total, -gradient / total

    return objective, total


def _bgnbd_inputs(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Array, Array, Array]:
    xs, txs, Ts = _arr(x), _arr(t_x), _arr(T)
    _check_summary(xs, txs, Ts)
    if xs.size == 0 or not np.any(xs > 0):
        raise ValueError("BG/NBD needs customers, some of them with repeat purchases")
    return xs, txs, Ts


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters for customers (x repeat purchases, recency, age)."""
    xs, txs, Ts = _bgnbd_inputs(x, t_x, T)
    objective, total = _bgnbd_objective(xs, txs, Ts)
    # Start from a unit-free guess: alpha set so that r / alpha is the observed purchase rate.
    rate = max(float(xs.mean()), 1e-3) / max(float(Ts.mean()), 1e-9)
    start = np.log(np.array([1.0, 1.0 / rate, 1.0, 1.0]))
    theta, nll, iterations, converged = _maximise(objective, start)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return BgNbdFit(BgNbdParams(r, alpha, a, b), -nll * total, xs.size, iterations, converged)


def bgnbd_log_standard_errors(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike,
                              T: ArrayLike) -> tuple[float, ...]:
    """Asymptotic standard errors of log r, log alpha, log a, log b at fitted ``params``
    (relative standard errors of the parameters, to first order)."""
    objective, total = _bgnbd_objective(*_bgnbd_inputs(x, t_x, T))
    theta = np.log(np.array([params.r, params.alpha, params.a, params.b]))
    return _log_standard_errors(objective, theta, total)


def expected_purchases(params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                       T: ArrayLike) -> Array:
    """E[purchases in (T, T + t] | x, t_x, T] (paper eq. 10; a must not be exactly 1)."""
    xs = _arr(x)
    return _arr(_purchases_if_alive(params, _arr(t), xs, _arr(T))
                * probability_alive(params, xs, _arr(t_x), _arr(T)))


def _purchases_if_alive(params: BgNbdParams, ts: Array, xs: Array, Ts: Array) -> Array:
    """E[purchases in (T, T + t]] of a customer still alive at T: eq. 10 without P(alive)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = ts / (alpha + Ts + ts)
    # ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) == (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)
    tail = np.power(1.0 - z, a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + xs - 1.0, z)
    return _arr((a + b + xs - 1.0) / (a - 1.0) * (1.0 - tail))


def expected_purchases_new(params: BgNbdParams, t: ArrayLike) -> Array:
    """E[X(t)]: repeat purchases within t of a new customer's first purchase (paper eq. 9)."""
    zero = np.zeros_like(_arr(t))
    return expected_purchases(params, t, zero, zero, zero)


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """P(still alive at T | x, t_x, T) (paper eq. 13); 1 for customers without a repeat purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, txs, Ts = _arr(x), _arr(t_x), _arr(T)
    repeat = xs > 0
    log_odds_dead = np.log(a) - np.log(np.where(repeat, b + xs - 1.0, 1.0)) \
        + (r + xs) * (np.log(alpha + Ts) - np.log(alpha + txs))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def _gamma_gamma_terms(params: GammaGammaParams, x: Array, m: Array,
                       levels: Levels | None = None) -> tuple[Array, ...]:
    """Per-customer log-likelihood of the mean spend m over x purchases, and its derivatives."""
    p, q, g = params.p, params.q, params.gamma
    counts, at = levels if levels is not None else _levels(x)
    px = p * x
    log_m, log_x = np.log(m), np.log(counts)[at]
    log_gxm = np.log(g + x * m)
    ll = (gammaln(p * counts + q) - gammaln(p * counts))[at] - gammaln(q) + q * np.log(g) \
        + (px - 1.0) * log_m + px * log_x - (px + q) * log_gxm
    psi = digamma(p * counts + q)
    d_p = x * ((psi - digamma(p * counts))[at] + log_m + log_x - log_gxm)
    d_q = (psi - digamma(q))[at] + np.log(g) - log_gxm
    d_g = q / g - (px + q) / (g + x * m)
    return ll, d_p, d_q, d_g


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Array:
    """Each customer's Gamma-Gamma log-likelihood (customers with x > 0 and m > 0 only)."""
    return _gamma_gamma_terms(params, _arr(x), _arr(m))[0]


def _gamma_gamma_objective(x: Array, m: Array) -> tuple[Objective, float, Array]:
    keep = (x > 0) & (m > 0)
    if not np.any(keep):
        raise ValueError("Gamma-Gamma needs customers with repeat purchases of positive value")
    (ux, um), weight = _distinct(x[keep], m[keep])
    total = float(weight.sum())
    levels = _levels(ux)

    def objective(theta: Array) -> tuple[float, Array]:
        p, q, g = np.exp(theta)
        ll, *grads = _gamma_gamma_terms(GammaGammaParams(p, q, g), ux, um, levels)
        gradient = np.array([v * float(weight @ d) for v, d in zip((p, q, g), grads, strict=True)])
        return -float(weight @ ll) / total, -gradient / total

    return objective, total, um


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters, over the customers with x > 0 and m > 0."""
    objective, total, means = _gamma_gamma_objective(_arr(x), _arr(m))
    # p = 1, q = 2 puts the population mean spend p * gamma / (q - 1) at gamma: start near the data's.
    start = np.log(np.array([1.0, 2.0, float(np.mean(means))]))
    theta, nll, iterations, converged = _maximise(objective, start)
    p, q, g = (float(v) for v in np.exp(theta))
    return GammaGammaFit(GammaGammaParams(p, q, g), -nll * total, int(total), iterations, converged)


def gamma_gamma_log_standard_errors(params: GammaGammaParams, x: ArrayLike,
                                    m: ArrayLike) -> tuple[float, ...]:
    """Asymptotic standard errors of log p, log q, log gamma at fitted ``params``."""
    objective, total, _ = _gamma_gamma_objective(_arr(x), _arr(m))
    theta = np.log(np.array([params.p, params.q, params.gamma]))
    return _log_standard_errors(objective, theta, total)


def expected_average_value(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Array:
    """E[order value | x, m]: a weighted mean of the population mean and the customer's own mean.

    A customer without repeat purchases gets the population mean p * gamma / (q - 1).
    """
    p, q, g = params.p, params.q, params.gamma
    if q <= 1.0:
        raise ValueError(f"the population mean spend is infinite for q = {q} <= 1")
    xs, ms = _arr(x), _arr(m)
    own = np.where(xs > 0, ms, 0.0)
    return _arr(p * (g + xs * own) / (p * xs + q - 1.0))


def customer_lifetime_value(bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams, x: ArrayLike,
                            t_x: ArrayLike, T: ArrayLike, m: ArrayLike, unit: TimeUnit = "days",
                            months: int = 12, monthly_discount_rate: float = 0.01) -> Array:
    """Discounted expected value of each customer's purchases over the next ``months``.

    Month k's expected purchases (BG/NBD) times the expected order value (Gamma-Gamma), discounted
    by (1 + rate)^k, as if paid at the end of the month; a month is 365.25 / 12 days.
    """
    xs, txs, Ts = _arr(x), _arr(t_x), _arr(T)
    alive = probability_alive(bgnbd, xs, txs, Ts)
    discounted, _ = _discounted_purchases(bgnbd, xs, Ts, alive, unit, months,
                                          monthly_discount_rate, None)
    return _arr(discounted * expected_average_value(gamma_gamma, xs, m))


def month_ends(unit: TimeUnit, months: int = 12) -> list[float]:
    """The ends of the next ``months`` months in ``unit`` (a month is 365.25 / 12 days)."""
    per_month = DAYS_PER_MONTH / UNIT_DAYS[unit]
    return [k * per_month for k in range(1, months + 1)]


def purchases_if_alive(params: BgNbdParams, ts: ArrayLike, x: ArrayLike, T: ArrayLike) -> Array:
    """E[purchases in (T, T + t]] of a customer still alive at T, for every t of ``ts`` (rows)
    and customer (columns): what ``value_columns`` multiplies by P(alive), to compute once per
    (x, T) and reuse (``if_alive``)."""
    return _purchases_if_alive(params, _arr(ts).reshape(-1, 1), _arr(x), _arr(T))


def _discounted_purchases(bgnbd: BgNbdParams, xs: Array, Ts: Array, alive: Array, unit: TimeUnit,
                          months: int, monthly_discount_rate: float, horizon: float | None,
                          if_alive: Array | None = None) -> tuple[Array, Array | None]:
    """The discounted monthly purchases of ``customer_lifetime_value`` and, when ``horizon`` is
    one of its month ends, the expected purchases up to it (the same array, not computed again).
    ``if_alive``: ``purchases_if_alive`` at the month ends, when known."""
    if months < 1 or monthly_discount_rate <= -1.0:
        raise ValueError("need months >= 1 and a discount rate > -1")
    shape = np.broadcast(xs, Ts, alive).shape
    ends = month_ends(unit, months)
    # every month end in one pass (months, customers): the same values as month by month, at
    # one call of hyp2f1 instead of twelve
    if if_alive is None:
        if_alive = _purchases_if_alive(bgnbd, _arr(ends).reshape((months,) + (1,) * len(shape)),
                                       xs, Ts)
    cumulative = _arr(if_alive * alive)
    discounted = np.zeros(shape)
    before = np.zeros_like(discounted)
    at_horizon = None
    for k, t in enumerate(ends, start=1):
        month = cumulative[k - 1]
        discounted += (month - before) / (1.0 + monthly_discount_rate) ** k
        before = month
        if t == horizon:
            at_horizon = month
    return discounted, at_horizon


def value_columns(bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams, x: Array, t_x: Array,
                  T: Array, m: Array, horizon: float, unit: TimeUnit, months: int = 12,
                  monthly_discount_rate: float = 0.01, if_alive: Array | None = None
                  ) -> tuple[Array, Array, Array, Array]:
    """``value_customers`` as arrays (expected purchases over ``horizon``, P(alive), expected
    order value, discounted lifetime value), each function of the customer evaluated once.
    ``if_alive``: ``purchases_if_alive`` at ``month_ends`` and then ``horizon`` (months + 1
    rows), when the caller has it (the same numbers, not computed again)."""
    alive = probability_alive(bgnbd, x, t_x, T)
    discounted, at_horizon = _discounted_purchases(
        bgnbd, x, T, alive, unit, months, monthly_discount_rate, horizon,
        None if if_alive is None else if_alive[:months])
    if at_horizon is None:
        at_horizon = _arr((_purchases_if_alive(bgnbd, _arr(horizon), x, T) if if_alive is None
                           else if_alive[months]) * alive)
    order_value = expected_average_value(gamma_gamma, x, m)
    return at_horizon, alive, order_value, _arr(discounted * order_value)


@dataclass(frozen=True)
class CustomerValue:
    expected_purchases: float  # over the horizon
    probability_alive: float
    expected_order_value: float
    lifetime_value: float  # discounted, over the months asked for


def value_customers(bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams,
                    summaries: Mapping[str, RfmSummary], horizon: float, months: int = 12,
                    monthly_discount_rate: float = 0.01) -> dict[str, CustomerValue]:
    """Every prediction for customers by id, from summaries in the unit the models were fitted in
    (``horizon`` is in that unit too)."""
    if not summaries:
        return {}
    units = {s.unit for s in summaries.values()}
    if len(units) != 1:
        raise ValueError(f"summaries mix time units: {sorted(units)}")
    x, t_x, T, m = summary_arrays(summaries.values())
    columns = [c.tolist() for c in value_columns(bgnbd, gamma_gamma, x, t_x, T, m, horizon,
                                                 units.pop(), months, monthly_discount_rate)]
    return {customer: CustomerValue(*values)
            for customer, values in zip(summaries, zip(*columns, strict=True), strict=True)}
