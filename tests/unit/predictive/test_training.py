"""Training on generated leads with a planted signal: time split, as-of rule, quality, calibration."""

from __future__ import annotations

import re

import numpy as np
import pytest

from streams.predictive.training import (
    AsOfViolation,
    FeatureTable,
    TrainingConfig,
    check_as_of,
    split_rows,
    time_windows,
    train,
    window_counts,
)
from streams.predictive.training_synthetic import HORIZON_MS, lead_table


@pytest.fixture(scope="module")
def leads() -> FeatureTable:
    return lead_table(persons=4000, seed=11)


def test_window_counts_use_only_events_strictly_before_the_cutoff() -> None:
    counts, latest = window_counts(
        row_keys=["a", "a", "b", "c"], row_cutoff_ms=[100, 101, 100, 100],
        event_keys=["a", "a", "a", "a", "b"], event_time_ms=[89, 90, 99, 100, 50], window_ms=10)
    # a@100 sees 90 and 99 (89 is outside the window, 100 is the cut-off itself); a@101 sees 99, 100
    assert counts.tolist() == [2, 2, 0, 0]
    assert latest.tolist() == [99, 100, -1, -1]


def test_check_as_of_refuses_features_from_the_future() -> None:
    table = FeatureTable(("x",), np.zeros((3, 1)), np.array([0, 1, 0], dtype=np.int8),
                         np.array([10, 20, 30]), np.array([9, 20, 5]))
    with pytest.raises(AsOfViolation, match=r"1 rows .*\[1\]"):
        check_as_of(table)
    with pytest.raises(AsOfViolation):
        train(table)
    check_as_of(table.rows(np.array([0, 2])))


def test_generated_table_obeys_the_as_of_rule(leads: FeatureTable) -> None:
    check_as_of(leads)
    assert leads.feature_time_ms is not None and (leads.feature_time_ms < leads.cutoff_ms).all()


def test_time_split_is_ordered_disjoint_and_purged() -> None:
    cutoff = np.arange(1000, dtype=np.int64) * 10
    windows = time_windows(cutoff, (0.6, 0.2, 0.2))
    train_i, cal_i, test_i = split_rows(cutoff, windows, label_horizon_ms=0)
    assert (train_i.size, cal_i.size, test_i.size) == (600, 200, 200)
    assert cutoff[train_i].max() < cutoff[cal_i].min() <= cutoff[cal_i].max() < cutoff[test_i].min()
    train_p, cal_p, test_p = split_rows(cutoff, windows, label_horizon_ms=95)
    # A row whose outcome is known only inside the next window is not fitted on.
    assert (train_p.size, cal_p.size, test_p.size) == (591, 191, 200)
    assert (cutoff[train_p] + 95 <= windows.calibration_start_ms).all()


def test_planted_signal_is_learnt_and_held_out_quality_is_real(leads: FeatureTable) -> None:
    result = train(leads, TrainingConfig(label_horizon_ms=HORIZON_MS))
    assert result.test.roc_auc > 0.75  # chance is 0.5
    assert result.test.pr_auc > 2 * result.test.base_rate
    assert result.best_iteration < 1000  # stopped early on the calibration window
    rows = result.artefact.metadata["window"]["rows"]
    assert rows["test"] == pytest.approx(0.2 * 4000, abs=2)
    assert rows["train"] + rows["calibration"] < 0.8 * 4000  # purged near the boundaries


def test_calibration_repairs_distorted_probabilities(leads: FeatureTable) -> None:
    base = TrainingConfig(label_horizon_ms=HORIZON_MS)
    # Up-weighting the rare positives (common for leads) inflates the raw probabilities.
    weighted = TrainingConfig(label_horizon_ms=HORIZON_MS, params={**base.params, "scale_pos_weight": 4.0})
    result = train(leads, weighted)
    assert result.test.brier < result.test_raw.brier - 0.005
    assert result.test.roc_auc == pytest.approx(result.test_raw.roc_auc, abs=0.02)  # monotone map
    assert result.test.expected_calibration_error < result.test_raw.expected_calibration_error


def _trees(model_text: str) -> list[str]:
    return [t.strip() for t in re.split(r"\nTree=\d+\n", model_text.split("end of trees")[0])[1:]]


def test_later_windows_never_fit_the_trees(leads: FeatureTable) -> None:
    config = TrainingConfig(label_horizon_ms=HORIZON_MS)
    first = train(leads, config)
    _, cal_i, test_i = split_rows(leads.cutoff_ms, first.windows, HORIZON_MS)
    # Scrambling the test window changes neither the trees nor the calibrator.
    labels = leads.labels.copy()
    labels[test_i] = 1 - labels[test_i]
    scrambled = FeatureTable(leads.names, leads.values, labels, leads.cutoff_ms, leads.feature_time_ms)
    second = train(scrambled, config, windows=first.windows)
    assert second.artefact.model_text == first.artefact.model_text
    assert second.artefact.calibrator == first.artefact.calibrator
    assert second.test.roc_auc < 0.5 < first.test.roc_auc
    # Scrambling the calibration window may stop training elsewhere, but the trees it keeps are the same.
    labels = leads.labels.copy()
    labels[cal_i] = 1 - labels[cal_i]
    scrambled = FeatureTable(leads.names, leads.values, labels, leads.cutoff_ms, leads.feature_time_ms)
    third = train(scrambled, config, windows=first.windows)
    kept = min(len(_trees(first.artefact.model_text)), len(_trees(third.artefact.model_text)))
    assert kept >= 1
    assert _trees(third.artefact.model_text)[:kept] == _trees(first.artefact.model_text)[:kept]


def test_a_window_with_one_class_is_refused() -> None:
    table = FeatureTable(("x",), np.arange(100.0).reshape(-1, 1), np.zeros(100, dtype=np.int8),
                         np.arange(100, dtype=np.int64))
    with pytest.raises(ValueError, match="both classes"):
        train(table)
