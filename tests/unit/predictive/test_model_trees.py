"""The compiled walk of a LightGBM model's trees (``model_trees``): LightGBM's own leaves on
values at, just above and just below every threshold, missing, zero, tiny and infinite values,
for models with each missing type; the path contributions as the sparse product gives them;
a model with a split it does not read is left to LightGBM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

from streams.predictive.model import Scorer
from streams.predictive.model_contributions import PathAttribution
from streams.predictive.model_trees import ZERO, Trees
from tests.unit.predictive.test_scoring_golden import GOLDEN


def _thresholds(booster: lgb.Booster) -> list[tuple[int, float]]:
    return [(int(n["split_feature"]), float(n["threshold"])) for n in _nodes(booster)
            if n["decision_type"] == "<="]


def _hard_values(booster: lgb.Booster, rows: int, seed: int) -> NDArray[np.float64]:
    features = booster.num_feature()
    rng = np.random.default_rng(seed)
    x: NDArray[np.float64] = rng.normal(0, 5, size=(rows, features)) * rng.choice([0, 1, 10, 100],
                                                             size=(rows, features))
    for value, share in ((np.nan, 0.1), (-0.0, 0.05), (ZERO / 2, 0.05), (-ZERO, 0.03),
                         (1e301, 0.02), (-np.inf, 0.01), (np.inf, 0.01)):
        x[rng.random((rows, features)) < share] = value
    for k, (feature, threshold) in enumerate(_thresholds(booster)):
        for step, towards in enumerate((None, np.inf, -np.inf)):
            at = (3 * k + step) % rows
            x[at, feature] = threshold if towards is None else np.nextafter(threshold, towards)
    return x


def _sparse_sums(path: PathAttribution, leaves: NDArray[np.int64]) -> NDArray[np.float64]:
    n, trees = leaves.shape
    hits = sparse.csr_matrix((np.ones(n * trees), (leaves + path.offsets).ravel(),
                              np.arange(0, n * trees + 1, trees)),
                             shape=(n, path.table.shape[0]))
    sums: NDArray[np.float64] = np.asarray(hits @ path.table, dtype=np.float64)
    return sums


def _check(booster: lgb.Booster, seed: int) -> None:
    path = PathAttribution.from_booster(booster)
    assert path.trees is not None
    x = _hard_values(booster, 3_000, seed)
    expected = np.asarray(booster.predict(x, pred_leaf=True, num_threads=1), dtype=np.int64)
    assert np.array_equal(path.trees.leaves(x) - path.offsets, expected)
    assert path.trees.sums(x, path.table).tobytes() == _sparse_sums(path, expected).tobytes()
    assert path.contributions(booster, x).tobytes() == _sparse_sums(path, expected).tobytes()


@pytest.mark.parametrize("name", ["lead", "churn"])
def test_the_golden_models_leaves_and_sums(name: str) -> None:
    _check(Scorer.load(GOLDEN / name, contributions="path").booster, seed=len(name))


def _trained(params: dict[str, object], categorical: bool = False) -> lgb.Booster:
    rng = np.random.default_rng(5)
    x = rng.choice([0.0, 0.0, 1.0, 2.5, 7.0, np.nan], size=(2_000, 4))
    x[:, 2] = rng.integers(0, 6, size=2_000)  # a category where asked
    x[:, 3] = rng.normal(size=2_000)
    y = ((np.nan_to_num(x[:, 0]) + (x[:, 1] == 0) + x[:, 3] + 3 * np.isin(x[:, 2], (1, 3)))
         > 1.5).astype(np.float64)
    data = lgb.Dataset(x, y, categorical_feature=[2] if categorical else "auto",
                       params={"verbose": -1})
    return lgb.train({"objective": "binary", "num_leaves": 15, "min_data_in_leaf": 5,
                      "verbose": -1, "num_threads": 1, **params}, data, num_boost_round=12)


@pytest.mark.parametrize("params", [{}, {"zero_as_missing": True}, {"use_missing": False}])
def test_models_with_every_missing_type(params: dict[str, object]) -> None:
    booster = _trained(params)
    kinds = {n["missing_type"] for n in _nodes(booster)}
    assert kinds <= {"None", "Zero", "NaN"} and kinds
    _check(booster, seed=1)


def _nodes(booster: lgb.Booster) -> list[dict[str, Any]]:
    """Every split node of every tree of the model's dump."""
    out: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if "leaf_index" not in node:
            out.append(node)
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return out


def test_a_categorical_split_is_left_to_lightgbm(tmp_path: Path) -> None:
    booster = _trained({"min_data_per_group": 5, "cat_smooth": 1.0}, categorical=True)
    assert any(n["decision_type"] == "==" for n in _nodes(booster))
    dump = booster.dump_model()
    assert Trees.from_dump(dump, [0] * len(dump["tree_info"]), booster.model_to_string()) is None
    path = PathAttribution.from_booster(booster)
    assert path.trees is None
    x = _hard_values(booster, 500, 2)
    leaves = np.asarray(booster.predict(x, pred_leaf=True, num_threads=1), dtype=np.int64)
    assert path.contributions(booster, x).tobytes() == _sparse_sums(path, leaves).tobytes()
