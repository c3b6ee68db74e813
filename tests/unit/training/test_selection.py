"""Grouped folds, balanced weights and the temperature that calibrates the intent model."""

from __future__ import annotations

import numpy as np

from streams.training.calibration import fit_temperature, nll, reliability, tempered
from streams.training.data import TRAINING_PATHS, LabelledMessage, read_all
from streams.training.intent import BITEXT_SHARE, sample_weights
from streams.training.selection import fold_of


def test_folds_are_made_of_whole_groups_and_cover_every_fold() -> None:
    rows = [r for r in read_all(TRAINING_PATHS) if r.split == "train"]
    folds: dict[str, set[int]] = {}
    for r in rows:
        folds.setdefault(r.group, set()).add(fold_of(r.group, 4))
    assert all(len(f) == 1 for f in folds.values())
    counts = np.bincount([fold_of(g, 4) for g in folds], minlength=4)
    # a hash spreads the groups: no fold is far from a quarter
    assert counts.min() > 0.2 * len(folds)
    assert fold_of("varied/de/pricing/3", 4) == fold_of("varied/de/pricing/3", 4)


def test_sample_weights_balance_intents_within_each_source() -> None:
    rows = ([LabelledMessage("a", "billing", "en", "train", "x/1")] * 3
            + [LabelledMessage("b", "refund", "en", "train", "x/2")]
            + [LabelledMessage("c", "refund", "en", "train", "bitext/refund/1")] * 2)
    w = sample_weights(rows)
    assert sum(w[:3]) == sum(w[3:4]) == 1.0  # each hand-written intent weighs the same
    assert sum(w[4:]) == BITEXT_SHARE
    # the share is a setting that cross-validation compares
    assert sum(sample_weights(rows, 0.25)[4:]) == 0.25
    assert sum(sample_weights(rows, 0.0)[4:]) == 0.0


def test_temperature_keeps_the_winner_and_fits_overconfidence() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 2000)
    # a model that is right 70% of the time but says 0.95
    predicted = np.where(rng.random(2000) < 0.7, truth, (truth + 1) % 3)
    probs = np.full((2000, 3), 0.025)
    probs[np.arange(2000), predicted] = 0.95
    t = fit_temperature(probs, truth)
    assert t > 1.0
    calibrated = tempered(probs, t)
    assert (calibrated.argmax(axis=1) == probs.argmax(axis=1)).all()
    assert nll(calibrated, truth) < nll(probs, truth)
    assert reliability(calibrated, truth)["ece"] < reliability(probs, truth)["ece"]
