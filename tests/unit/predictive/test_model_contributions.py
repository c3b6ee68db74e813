"""Contributions: both methods add up to LightGBM's raw log-odds and find the planted driver."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from streams.predictive.model import Scorer
from streams.predictive.model_contributions import PathAttribution, shap_contributions
from streams.predictive.training import FeatureTable, TrainingConfig, TrainingResult, train
from streams.predictive.training_synthetic import HORIZON_MS, LEAD_REASON_CODES, lead_table


@pytest.fixture(scope="module")
def leads() -> FeatureTable:
    return lead_table(persons=4000, seed=9)


@pytest.fixture(scope="module")
def trained(leads: FeatureTable) -> TrainingResult:
    return train(leads, TrainingConfig(label_horizon_ms=HORIZON_MS))


def test_both_methods_sum_to_the_raw_log_odds(trained: TrainingResult, leads: FeatureTable) -> None:
    booster = lgb.Booster(model_str=trained.artefact.model_text)
    x = leads.values[:500].copy()
    x[::7, 1] = np.nan  # missing values follow the learnt default direction in both
    raw = booster.predict(x, raw_score=True)
    shap = shap_contributions(booster, x)
    path = PathAttribution.from_booster(booster).contributions(booster, x)
    assert shap.shape == path.shape == (500, len(leads.names) + 1)
    assert np.allclose(shap.sum(axis=1), raw, atol=1e-9)
    assert np.allclose(path.sum(axis=1), raw, atol=1e-9)
    assert np.allclose(path[:, -1], path[0, -1])  # the bias is the same for every row
    pricing = leads.names.index("pricing_visits_7d")
    assert np.corrcoef(shap[:, pricing], path[:, pricing])[0, 1] > 0.95
    assert not np.allclose(shap[:, :-1], path[:, :-1])  # two methods, not one twice


def test_trees_that_are_a_single_leaf_are_handled() -> None:
    rng = np.random.default_rng(0)
    n = 600
    # Nothing to split on: every tree is one leaf (the base rate).
    table = FeatureTable(("flat",), np.ones((n, 1)), (rng.random(n) < 0.3).astype(np.int8),
                         np.arange(n, dtype=np.int64))
    result = train(table, TrainingConfig(num_boost_round=5, early_stopping_rounds=5))
    booster = lgb.Booster(model_str=result.artefact.model_text)
    path = PathAttribution.from_booster(booster).contributions(booster, table.values[:10])
    assert np.allclose(path[:, 0], 0.0)
    assert np.allclose(path.sum(axis=1), booster.predict(table.values[:10], raw_score=True))


def test_path_scorer_gives_the_same_scores_and_the_planted_reason(trained: TrainingResult,
                                                                 leads: FeatureTable) -> None:
    shap = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES)
    path = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES, contributions="path")
    x = leads.values[:1000]
    assert [r.probability for r in path.score(x)] == pytest.approx([r.probability for r in shap.score(x)],
                                                                   abs=1e-12)
    hot = leads.values[leads.values[:, 0] >= 3][:200]
    top = [r.positive[0].code if r.positive else None for r in path.score(hot)]
    assert top.count("PRICING_INTEREST") / len(top) > 0.9
