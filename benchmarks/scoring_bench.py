"""Batch scoring throughput of the lead scorer on one core: score, calibration and reasons.

Trains a model on the generated lead table (``streams.predictive.training_synthetic``, 7
features), then scores batches of ``--batch`` rows through ``Scorer.score`` with the top 3
positive and negative reasons per row, and reports rows/s (best of ``--repeat`` passes over
``--rows`` rows): ``rows_per_s`` with TreeSHAP contributions (the default), ``rows_per_s_path``
with path attribution. For reference it also times scoring without reasons (LightGBM's raw
score and the calibrator) and LightGBM's plain ``predict``. Merged into
benchmarks/results/latest.json as slice ``scoring_compute``.

``python -m benchmarks.scoring_bench [--rows 50000] [--batch 1000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streams.predictive.model import Scorer
from streams.predictive.training import TrainingConfig, train
from streams.predictive.training_synthetic import HORIZON_MS, LEAD_REASON_CODES, lead_table

LATEST = Path(__file__).parent / "results" / "latest.json"


def merge_slice(name: str, figures: dict[str, Any], path: Path = LATEST) -> None:
    """Read-modify-write of latest.json: only slices.<name> changes."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("slices", {})[name] = figures
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".latest-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def best_rows_per_s(steps: dict[str, Callable[[NDArray[np.float64]], object]], x: NDArray[np.float64],
                    batch: int, repeat: int) -> dict[str, float]:
    """Best rows/s of each step over ``repeat`` passes, the steps interleaved so that a busy
    moment of a shared machine does not land on one of them only."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeat):
        for name, step in steps.items():
            started = time.perf_counter()
            for i in range(0, x.shape[0], batch):
                step(x[i:i + batch])
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: x.shape[0] / seconds for name, seconds in best.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave latest.json alone")
    args = parser.parse_args(argv)
    table = lead_table(persons=20_000, seed=3)
    result = train(table, TrainingConfig(label_horizon_ms=HORIZON_MS))
    scorer = Scorer.from_artefact(result.artefact, LEAD_REASON_CODES)
    path = Scorer.from_artefact(result.artefact, LEAD_REASON_CODES, contributions="path")
    x = table.values[np.random.default_rng(0).integers(0, table.values.shape[0], args.rows)]
    scorer.score(x[:args.batch])  # warm up
    path.score(x[:args.batch])
    rates = best_rows_per_s({
        "shap": scorer.score,
        "path": path.score,
        "without_reasons": lambda b: scorer.score(b, reasons=False),
        "lightgbm_predict": lambda b: scorer.booster.predict(b, num_threads=1)},
        x, args.batch, args.repeat)
    figures = {
        "rows_per_s": round(rates["shap"]),
        "batch": args.batch,
        "contributions": "TreeSHAP (pred_contrib)",
        "rows_per_s_path": round(rates["path"]),
        "rows_per_s_without_reasons": round(rates["without_reasons"]),
        "rows_per_s_lightgbm_predict": round(rates["lightgbm_predict"]),
        "features": len(table.names), "trees": result.best_iteration, "threads": 1,
        "reasons_per_row": "top 3 positive + top 3 negative"}
    print(json.dumps(figures, indent=1))
    if not args.no_write:
        merge_slice("scoring_compute", figures)
    return figures


if __name__ == "__main__":
    main()
