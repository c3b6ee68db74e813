"""Held-out metrics against scikit-learn's reference implementations and hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score  # type: ignore[import-untyped]

from streams.predictive.evaluation import brier, evaluate, pr_auc, reliability_table, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_scikit_learn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(500) < 0.2).astype(int)
    p = np.round(np.clip(0.2 + 0.3 * y + rng.normal(0, 0.2, 500), 0, 1), 1)  # many ties
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert pr_auc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_hand_cases() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert pr_auc([0, 1], [0.2, 0.9]) == 1.0
    assert brier([0, 1], [0.0, 1.0]) == 0.0
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_reliability_table_bins_and_counts() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 1.0, 0.12])
    table = reliability_table(y, p)
    assert len(table) == 10
    assert [b.count for b in table] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[1].mean_predicted == pytest.approx(0.135)
    assert table[1].observed_rate == 1.0
    assert table[9].observed_rate == 0.5  # 1.0 falls in the last bin
    assert table[2].mean_predicted is None and table[2].observed_rate is None


def test_evaluate_bundles_and_rejects_bad_input() -> None:
    e = evaluate([0, 1, 1, 0], [0.1, 0.7, 0.6, 0.4])
    assert (e.rows, e.positives, e.base_rate, e.roc_auc) == (4, 2, 0.5, 1.0)
    assert sum(b["count"] for b in e.to_dict()["reliability"]) == 4
    with pytest.raises(ValueError, match="0 or 1"):
        evaluate([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        evaluate([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="length"):
        evaluate([0, 1, 1], [0.1, 0.2])
