"""Calibrators: isotonic agrees with scikit-learn, Platt recovers a known sigmoid, choice is held-out."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]

from streams.predictive.training_calibration import Calibrator, choose_calibrator, fit_isotonic, fit_platt


def test_isotonic_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    raw = np.round(rng.uniform(size=2000), 2)  # ties
    y = (rng.uniform(size=2000) < raw**2).astype(float)
    ours = fit_isotonic(raw, y)
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, y)
    grid = np.linspace(0, 1, 501)
    assert np.allclose(ours.apply(grid), reference.predict(grid), atol=1e-9)
    assert np.all(np.diff(ours.apply(grid)) >= 0)


def test_platt_recovers_a_known_distortion() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2, 50_000)
    raw = 1 / (1 + np.exp(-z))
    y = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(float)
    fitted = fit_platt(raw, y)
    assert fitted.a == pytest.approx(0.5, abs=0.03)
    assert fitted.b == pytest.approx(-1.0, abs=0.05)


def test_choice_prefers_the_method_that_fits_held_out_rows() -> None:
    rng = np.random.default_rng(3)
    raw = rng.uniform(size=4000)
    step = (rng.uniform(size=raw.size) < np.where(raw > 0.5, 0.9, 0.05)).astype(float)
    chosen, scores = choose_calibrator(raw, step)
    assert chosen.method == "isotonic" and scores["isotonic"] < scores["platt"]
    z = rng.normal(0, 1.5, 4000)
    smooth = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-(0.7 * z + 0.3)))).astype(float)
    chosen, scores = choose_calibrator(1 / (1 + np.exp(-z)), smooth)
    assert chosen.method == "platt" and scores["platt"] < scores["isotonic"]


def test_identity_is_a_candidate_for_an_already_calibrated_model() -> None:
    rng = np.random.default_rng(4)
    raw = rng.uniform(size=6000)
    y = (rng.uniform(size=raw.size) < raw).astype(float)  # raw is calibrated
    chosen, scores = choose_calibrator(raw, y, ("isotonic", "platt", "identity"))
    assert scores["identity"] <= scores["isotonic"]  # nothing fitted, nothing over-fitted
    identity = Calibrator.from_dict(Calibrator("identity").to_dict())
    assert np.array_equal(identity.apply(raw), raw)
    assert chosen.method in ("identity", "platt")


def test_round_trip_and_bad_data() -> None:
    c = Calibrator("isotonic", (0.0, 1.0), (0.1, 0.8))
    assert Calibrator.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown calibration"):
        Calibrator.from_dict({**c.to_dict(), "method": "magic"})
    with pytest.raises(ValueError, match="both classes"):
        choose_calibrator(np.array([0.1, 0.2, 0.3, 0.4]), np.zeros(4))
