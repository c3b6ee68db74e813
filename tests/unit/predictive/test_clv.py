"""BG/NBD and Gamma-Gamma: the published CDNOW fits, held-out purchases, recovery, predictions."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple

import numpy as np
import pytest
from scipy.special import hyp2f1  # type: ignore[import-untyped]

from streams.predictive import clv, clv_cdnow, clv_simulate, rfm
from streams.predictive.clv import BgNbdParams, GammaGammaParams

CDNOW = clv_cdnow.summary()
TRUE_BGNBD = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


@pytest.fixture(scope="module")
def cdnow_bgnbd() -> clv.BgNbdFit:
    x, t_x, T, _ = CDNOW
    return clv.fit_bgnbd(x, t_x, T)


@pytest.fixture(scope="module")
def cdnow_gamma_gamma() -> clv.GammaGammaFit:
    x, _, _, m = CDNOW
    return clv.fit_gamma_gamma(x, m)


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_bgnbd: clv.BgNbdFit) -> None:
    assert cdnow_bgnbd.converged and cdnow_bgnbd.customers == 2357
    np.testing.assert_allclose(astuple(cdnow_bgnbd.params), astuple(clv_cdnow.PUBLISHED_BGNBD), rtol=0.01)
    assert cdnow_bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.1)  # as the paper reports


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_gamma_gamma: clv.GammaGammaFit) -> None:
    assert cdnow_gamma_gamma.converged and cdnow_gamma_gamma.customers == 946  # the repeat buyers
    np.testing.assert_allclose(astuple(cdnow_gamma_gamma.params),
                               astuple(clv_cdnow.PUBLISHED_GAMMA_GAMMA), rtol=0.01)


def test_the_fit_is_a_maximum(cdnow_bgnbd: clv.BgNbdFit) -> None:
    x, t_x, T, _ = CDNOW
    best = clv.bgnbd_log_likelihood(cdnow_bgnbd.params, x, t_x, T).sum()
    assert best == pytest.approx(cdnow_bgnbd.log_likelihood)
    p = cdnow_bgnbd.params
    for nudged in (BgNbdParams(p.r * 1.02, p.alpha, p.a, p.b), BgNbdParams(p.r, p.alpha, p.a, p.b * 0.98)):
        assert clv.bgnbd_log_likelihood(nudged, x, t_x, T).sum() < best


def test_analytic_gradients_match_finite_differences() -> None:
    x, t_x, T, m = CDNOW
    # Away from the optimum, where the gradient is large against the differences' rounding.
    away, away_gg = BgNbdParams(0.5, 2.0, 1.5, 1.2), GammaGammaParams(2.0, 5.0, 30.0)
    params = np.array(astuple(away))
    analytic = [g.sum() for g in clv._bgnbd_terms(away, x, t_x, T)[1:]]
    for i, derivative in enumerate(analytic):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        up = clv.bgnbd_log_likelihood(BgNbdParams(*(params + step)), x, t_x, T).sum()
        down = clv.bgnbd_log_likelihood(BgNbdParams(*(params - step)), x, t_x, T).sum()
        assert derivative == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)
    repeat = x > 0
    gg = np.array(astuple(away_gg))
    analytic = [g.sum() for g in clv._gamma_gamma_terms(away_gg, x[repeat], m[repeat])[1:]]
    for i, derivative in enumerate(analytic):
        step = np.zeros(3)
        step[i] = 1e-6 * gg[i]
        up = clv.gamma_gamma_log_likelihood(GammaGammaParams(*(gg + step)), x[repeat], m[repeat]).sum()
        down = clv.gamma_gamma_log_likelihood(GammaGammaParams(*(gg - step)), x[repeat], m[repeat]).sum()
        assert derivative == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)


def test_expected_purchases_equal_the_papers_formula() -> None:
    """Eq. 10 as printed, for the CDNOW customers (the module uses Euler's transformation)."""
    x, t_x, T, _ = CDNOW
    r, alpha, a, b = astuple(TRUE_BGNBD)
    for t in (1.0, 39.0, 104.0):
        head = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1,
                                                                      t / (alpha + T + t))
        odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0)
        printed = (a + b + x - 1) / (a - 1) * head / (1 + odds)
        np.testing.assert_allclose(clv.expected_purchases(TRUE_BGNBD, t, x, t_x, T), printed, rtol=1e-9)
    # Customer 1 of the paper's data (x 2, t_x 30.43, T 38.86): 1.226 purchases in the next 39 weeks.
    assert clv.expected_purchases(TRUE_BGNBD, 39.0, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_predicts_the_held_out_cdnow_purchases_better_than_their_past_rate(
        cdnow_bgnbd: clv.BgNbdFit) -> None:
    """Weeks 40-78 are held out: fitted on the calibration weeks, predicted per customer."""
    states = rfm.fold_by_person({}, clv_cdnow.sample_conversions())
    calibration = clv_cdnow.day_ms(clv_cdnow.CALIBRATION_END)
    end = clv_cdnow.day_ms(dt.date(1998, 6, 30))
    before = [rfm.summarise(s, calibration, "weeks") for s in states.values()]
    after = [rfm.summarise(s, end, "weeks") for s in states.values()]
    held_out = np.array([b.frequency - a.frequency for a, b in zip(before, after, strict=True)
                         if a is not None and b is not None])
    x, t_x, T, _ = rfm.summary_arrays(s for s in before if s is not None)
    predicted = clv.expected_purchases(cdnow_bgnbd.params, 39.0, x, t_x, T)
    naive = x / T * 39.0
    assert np.abs(predicted - held_out).mean() < 0.85 * np.abs(naive - held_out).mean()
    assert predicted.sum() == pytest.approx(held_out.sum(), rel=0.15)
    by_x = [predicted[np.minimum(x, 7) == k].mean() for k in range(8)]
    assert by_x == sorted(by_x)


def test_probability_alive() -> None:
    alive = clv.probability_alive(TRUE_BGNBD, [0, 3, 3, 3], [0, 10, 10, 30], [40, 40, 60, 40])
    assert alive[0] == 1.0
    assert 0 < alive[2] < alive[1] < alive[3] < 1  # a longer silence, a recent purchase


def test_new_customers_expected_purchases_grow_with_time() -> None:
    grown = clv.expected_purchases_new(TRUE_BGNBD, np.array([0.0, 1.0, 10.0, 52.0, 520.0]))
    assert grown[0] == 0.0
    assert np.all(np.diff(grown) > 0)


def test_simulated_customers_recover_the_parameters() -> None:
    rng = np.random.default_rng(7)
    T = rng.uniform(26.0, 52.0, 20_000)
    x, t_x = clv_simulate.simulate_bgnbd(TRUE_BGNBD, T, rng)
    m = clv_simulate.simulate_gamma_gamma(TRUE_GG, x, rng)
    assert np.all(t_x <= T) and np.all((x > 0) | (t_x == 0))
    bgnbd, gamma_gamma = clv.fit_bgnbd(x, t_x, T), clv.fit_gamma_gamma(x, m)
    for fit, truth, errors in (
            (bgnbd.params, TRUE_BGNBD, clv.bgnbd_log_standard_errors(bgnbd.params, x, t_x, T)),
            (gamma_gamma.params, TRUE_GG, clv.gamma_gamma_log_standard_errors(gamma_gamma.params, x, m))):
        z = np.log(np.array(astuple(fit)) / np.array(astuple(truth))) / np.array(errors)
        assert np.all(np.abs(z) < 3.5), (fit, z)
        assert np.all(np.array(errors) < 0.1)


def test_expected_average_value_shrinks_towards_the_population_mean() -> None:
    p, q, g = astuple(TRUE_GG)
    population = p * g / (q - 1)
    values = clv.expected_average_value(TRUE_GG, [0, 1, 10, 1000], [0.0, 100.0, 100.0, 100.0])
    assert values[0] == pytest.approx(population)
    assert population < values[1] < values[2] < values[3] < 100.0
    assert values[3] == pytest.approx(100.0, rel=0.01)
    with pytest.raises(ValueError, match="infinite"):
        clv.expected_average_value(GammaGammaParams(1.0, 0.9, 1.0), [1], [1.0])


def test_customer_lifetime_value_discounts_monthly_purchases() -> None:
    x, t_x, T, m = (np.array([0.0, 2.0, 10.0]), np.array([0.0, 30.0, 38.0]), np.array([39.0] * 3),
                    np.array([0.0, 20.0, 50.0]))
    per_month = clv.DAYS_PER_MONTH / 7
    value = clv.expected_average_value(TRUE_GG, x, m)
    undiscounted = clv.customer_lifetime_value(TRUE_BGNBD, TRUE_GG, x, t_x, T, m, unit="weeks",
                                               monthly_discount_rate=0.0)
    year = clv.expected_purchases(TRUE_BGNBD, 12 * per_month, x, t_x, T)
    np.testing.assert_allclose(undiscounted, year * value)
    one = clv.customer_lifetime_value(TRUE_BGNBD, TRUE_GG, x, t_x, T, m, unit="weeks", months=1,
                                      monthly_discount_rate=0.02)
    np.testing.assert_allclose(one, clv.expected_purchases(TRUE_BGNBD, per_month, x, t_x, T) * value / 1.02)
    discounted = clv.customer_lifetime_value(TRUE_BGNBD, TRUE_GG, x, t_x, T, m, unit="weeks")
    assert np.all(discounted < undiscounted) and np.all(discounted > undiscounted / 1.01 ** 12)
    # The same customers in days, with alpha in days, are worth the same.
    in_days = BgNbdParams(TRUE_BGNBD.r, TRUE_BGNBD.alpha * 7, TRUE_BGNBD.a, TRUE_BGNBD.b)
    np.testing.assert_allclose(
        clv.customer_lifetime_value(in_days, TRUE_GG, x, t_x * 7, T * 7, m, unit="days"), discounted)


def test_invalid_summaries_are_refused() -> None:
    with pytest.raises(ValueError, match="t_x"):
        clv.fit_bgnbd([1, 2], [5, 50], [40, 40])
    with pytest.raises(ValueError, match="repeat"):
        clv.fit_bgnbd([0, 0], [0, 0], [4, 5])
    with pytest.raises(ValueError, match="Gamma-Gamma"):
        clv.fit_gamma_gamma([0, 3], [0.0, 0.0])


def test_value_customers_gives_every_prediction_by_customer() -> None:
    summaries = {
        "loyal": rfm.RfmSummary(10, 38.0, 39.0, 50.0, "USD", "weeks"),
        "lapsed": rfm.RfmSummary(10, 5.0, 39.0, 50.0, "USD", "weeks"),
        "new": rfm.RfmSummary(0, 0.0, 2.0, 0.0, "USD", "weeks"),
    }
    values = clv.value_customers(TRUE_BGNBD, TRUE_GG, summaries, horizon=52.0)
    assert list(values) == ["loyal", "lapsed", "new"]
    loyal, lapsed, new = values.values()
    assert loyal.probability_alive > 0.9 > 0.1 > lapsed.probability_alive
    assert loyal.lifetime_value > new.lifetime_value > lapsed.lifetime_value > 0
    assert new.expected_order_value == pytest.approx(6.25 * 15.44 / 2.74)
    assert loyal.expected_purchases == pytest.approx(
        float(clv.expected_purchases(TRUE_BGNBD, 52.0, 10, 38.0, 39.0)[()]))
    mixed = {**summaries, "daily": rfm.RfmSummary(1, 3.0, 9.0, 5.0, "USD", "days")}
    with pytest.raises(ValueError, match="units"):
        clv.value_customers(TRUE_BGNBD, TRUE_GG, mixed, horizon=52.0)
