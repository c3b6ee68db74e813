"""Training a binary LightGBM scorer on a feature table with a time-based split.

A feature table is rows of (features, label, cut-off time): the features describe a person as
of the cut-off, the label says whether the outcome happened after it.

Invariants:
- Windows are consecutive in cut-off time: train [t0, t1), calibration [t1, t2), test [t2, t3].
  Trees are fitted on the train window only; the calibration window drives early stopping and
  the choice and fit of the calibrator; the test window is only ever scored, for the metrics.
- With a label horizon h, a row whose outcome (cut-off + h) is not yet known when the next
  window starts is purged from fitting, so no label from a later window leaks into an earlier one.
- As-of: every feature of a row is computed from events strictly before that row's cut-off;
  ``check_as_of`` refuses a table that says otherwise and ``window_counts`` builds count
  features that satisfy it by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from streams.predictive.drift import drift_reference
from streams.predictive.evaluation import Evaluation, evaluate
from streams.predictive.model_artefact import Dtype, FeatureSpec, ModelArtefact
from streams.predictive.training_calibration import Method, choose_calibrator


class AsOfViolation(ValueError):
    """A feature was computed from data at or after its row's cut-off time."""


@dataclass(frozen=True)
class FeatureTable:
    names: tuple[str, ...]
    values: NDArray[np.float64]  # (rows, features); NaN means missing
    labels: NDArray[np.int8]  # 0/1 outcome after the cut-off
    cutoff_ms: NDArray[np.int64]  # each row's cut-off (scoring) time, epoch ms UTC
    feature_time_ms: NDArray[np.int64] | None = None  # latest source event behind the row's features

    def __post_init__(self) -> None:
        rows = self.values.shape[0]
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise ValueError(f"values must be (rows, {len(self.names)}), got {self.values.shape}")
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must be unique")
        if self.labels.shape != (rows,) or self.cutoff_ms.shape != (rows,):
            raise ValueError("labels and cut-off times need one entry per row")
        if not np.isin(self.labels, (0, 1)).all():
            raise ValueError("labels must be 0 or 1")
        if self.feature_time_ms is not None and self.feature_time_ms.shape != (rows,):
            raise ValueError("feature times need one entry per row")

    def rows(self, index: NDArray[np.int64]) -> FeatureTable:
        ft = None if self.feature_time_ms is None else self.feature_time_ms[index]
        return FeatureTable(self.names, self.values[index], self.labels[index], self.cutoff_ms[index], ft)


def check_as_of(table: FeatureTable) -> None:
    """Raise ``AsOfViolation`` if any row's features use data at or after its cut-off."""
    if table.feature_time_ms is None:
        return
    bad = np.flatnonzero(table.feature_time_ms >= table.cutoff_ms)
    if bad.size:
        raise AsOfViolation(f"{bad.size} rows have features from at or after their cut-off "
                            f"(first rows {bad[:5].tolist()})")


def window_counts(row_keys: ArrayLike, row_cutoff_ms: ArrayLike, event_keys: ArrayLike,
                  event_time_ms: ArrayLike, window_ms: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per row, the events of the same key in [cut-off - window, cut-off), and the latest one's time.

    The count is a feature that obeys the as-of rule by construction (strictly before the
    cut-off); the latest time (-1 when there is none) is the row's ``feature_time_ms`` evidence.
    """
    rk, ek = np.asarray(row_keys), np.asarray(event_keys)
    rc = np.asarray(row_cutoff_ms, dtype=np.int64)
    et = np.asarray(event_time_ms, dtype=np.int64)
    codes = np.unique(np.concatenate([rk, ek]), return_inverse=True)[1]
    row_code, event_code = codes[:rk.size].astype(np.int64), codes[rk.size:].astype(np.int64)
    order = np.lexsort((et, event_code))
    event_code, et = event_code[order], et[order]
    # Search (key, time) pairs in the sorted events: key-major, then time.
    key_start = np.searchsorted(event_code, row_code, side="left")
    key_end = np.searchsorted(event_code, row_code, side="right")
    counts = np.zeros(rk.size, dtype=np.int64)
    latest = np.full(rk.size, -1, dtype=np.int64)
    for i in range(rk.size):
        times = et[key_start[i]:key_end[i]]
        hi = int(np.searchsorted(times, rc[i], side="left"))
        lo = int(np.searchsorted(times, rc[i] - window_ms, side="left"))
        counts[i] = hi - lo
        if hi > lo:
            latest[i] = times[hi - 1]
    return counts, latest


@dataclass(frozen=True)
class TimeWindows:
    train_start_ms: int
    calibration_start_ms: int
    test_start_ms: int
    test_end_ms: int  # inclusive: the last cut-off seen

    def to_dict(self) -> dict[str, int]:
        return {"train_start_ms": self.train_start_ms, "calibration_start_ms": self.calibration_start_ms,
                "test_start_ms": self.test_start_ms, "test_end_ms": self.test_end_ms}


def time_windows(cutoff_ms: NDArray[np.int64], fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
                 ) -> TimeWindows:
    """Boundaries at the quantiles of the cut-off times, so each window holds about its fraction."""
    if len(fractions) != 3 or min(fractions) <= 0:
        raise ValueError("three positive window fractions are needed")
    total = sum(fractions)
    q1, q2 = fractions[0] / total, (fractions[0] + fractions[1]) / total
    t = np.sort(cutoff_ms)
    return TimeWindows(int(t[0]), int(t[int(q1 * t.size)]), int(t[int(q2 * t.size)]), int(t[-1]))


def split_rows(cutoff_ms: NDArray[np.int64], windows: TimeWindows, label_horizon_ms: int = 0
               ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Row indices of the train, calibration and test windows, each in time order, purged."""
    order = np.argsort(cutoff_ms, kind="mergesort")
    t = cutoff_ms[order]
    train = order[(t >= windows.train_start_ms) & (t < windows.calibration_start_ms)
                  & (t + label_horizon_ms <= windows.calibration_start_ms)]
    calibration = order[(t >= windows.calibration_start_ms) & (t < windows.test_start_ms)
                        & (t + label_horizon_ms <= windows.test_start_ms)]
    test = order[(t >= windows.test_start_ms) & (t <= windows.test_end_ms)]
    return train, calibration, test


@dataclass(frozen=True)
class TrainingConfig:
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    label_horizon_ms: int = 0
    num_boost_round: int = 1000
    early_stopping_rounds: int = 50
    calibration_methods: tuple[Method, ...] = ("isotonic", "platt")
    drift_bins: int = 10
    seed: int = 7
    num_threads: int = 1
    params: dict[str, Any] = field(default_factory=lambda: {
        "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "feature_fraction": 0.9,
        "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0})


@dataclass(frozen=True)
class TrainingResult:
    artefact: ModelArtefact
    windows: TimeWindows
    best_iteration: int
    test_raw: Evaluation  # uncalibrated LightGBM probabilities on the test window
    test: Evaluation  # calibrated, as served
    calibration_brier: dict[str, float]


def _dtype(column: NDArray[np.float64]) -> Dtype:
    present = column[~np.isnan(column)]
    if present.size and np.isin(present, (0.0, 1.0)).all():
        return "bool"
    if present.size and (present == np.round(present)).all():
        return "int"
    return "float"


def feature_specs(names: Sequence[str], values: NDArray[np.float64]) -> tuple[FeatureSpec, ...]:
    specs = []
    for j, name in enumerate(names):
        column = values[:, j]
        present = column[~np.isnan(column)]
        lo, hi = (float(present.min()), float(present.max())) if present.size else (0.0, 0.0)
        specs.append(FeatureSpec(name, _dtype(column), lo, hi, float(np.isnan(column).mean())))
    return tuple(specs)


def train(table: FeatureTable, config: TrainingConfig | None = None, name: str = "lead_model",
          windows: TimeWindows | None = None) -> TrainingResult:
    """Fit, early-stop, calibrate and evaluate; return the artefact and held-out metrics."""
    config = config or TrainingConfig()
    check_as_of(table)
    windows = windows or time_windows(table.cutoff_ms, config.fractions)
    train_idx, calib_idx, test_idx = split_rows(table.cutoff_ms, windows, config.label_horizon_ms)
    for label, idx in (("train", train_idx), ("calibration", calib_idx), ("test", test_idx)):
        if idx.size == 0 or table.labels[idx].min() == table.labels[idx].max():
            raise ValueError(f"the {label} window needs rows of both classes ({idx.size} rows)")
    params: dict[str, Any] = {"objective": "binary", "verbosity": -1, "seed": config.seed,
                              "num_threads": config.num_threads, "deterministic": True,
                              **config.params}
    x_train, y_train = table.values[train_idx], table.labels[train_idx]
    x_cal, y_cal = table.values[calib_idx], table.labels[calib_idx]
    dtrain = lgb.Dataset(x_train, y_train, feature_name=list(table.names), free_raw_data=False)
    dcal = lgb.Dataset(x_cal, y_cal, reference=dtrain, free_raw_data=False)
    booster = lgb.train(params, dtrain, num_boost_round=config.num_boost_round, valid_sets=[dcal],
                        valid_names=["calibration"],
                        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)])
    best = int(booster.best_iteration) or booster.current_iteration()
    model_text = booster.model_to_string(num_iteration=best)

    def raw(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(booster.predict(x, num_iteration=best), dtype=np.float64)

    raw_cal = raw(x_cal)
    calibrator, cal_brier = choose_calibrator(raw_cal, y_cal.astype(np.float64), config.calibration_methods)
    raw_test, y_test = raw(table.values[test_idx]), table.labels[test_idx]
    test_raw, test = evaluate(y_test, raw_test), evaluate(y_test, calibrator.apply(raw_test))
    # Score reference from the calibration window: out-of-sample scores, as live scoring sees them
    # (in-sample training scores are sharper and would read as drift on day one).
    reference = drift_reference(table.names, x_train, calibrator.apply(raw_cal) * 100.0, config.drift_bins)
    metadata: dict[str, Any] = {
        "window": {**windows.to_dict(), "label_horizon_ms": config.label_horizon_ms,
                   "rows": {"train": int(train_idx.size), "calibration": int(calib_idx.size),
                            "test": int(test_idx.size)}},
        "metrics": {"test": test.to_dict(), "test_uncalibrated": test_raw.to_dict(),
                    "calibration_brier_two_fold": cal_brier},
        "params": {**params, "num_boost_round": config.num_boost_round,
                   "early_stopping_rounds": config.early_stopping_rounds},
        "best_iteration": best, "lightgbm_version": lgb.__version__}
    artefact = ModelArtefact(name, model_text, calibrator, feature_specs(table.names, x_train),
                             reference, metadata)
    return TrainingResult(artefact, windows, best, test_raw, test, cal_brier)
