"""Calibrated intent confidences: a temperature for the softmax, fitted on out-of-fold
predictions, and the reliability tables that show it.

Invariants: the temperature is fitted on the grouped folds of the ``train`` split only (see
``streams.training.selection``: a fold's messages are wordings the model trained on the other
folds never saw), by minimising the negative log-likelihood over a grid; dividing the logits
by a temperature never changes which intent wins, only how sure the model says it is. The
reliability table bins the top confidence and compares it with the share of right answers.

``python -m streams.training.calibration`` prints the fitted temperature and the tables
before and after (the training command then uses ``TEMPERATURE`` of
``streams.training.intent``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.text.intent import IntentModel, load_taxonomy
from streams.training.data import LabelledMessage, read_all
from streams.training.intent import sample_weights
from streams.training.selection import Candidate, fold_of

F64 = npt.NDArray[np.float64]
GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(55))  # 0.3 .. 3.0


def out_of_fold(rows: Sequence[LabelledMessage], candidate: Candidate, folds: int = 4,
                seed: int = 0) -> tuple[F64, npt.NDArray[np.int64]]:
    """Probabilities (temperature 1) of every hand-written message when its fold was held
    out, and the index of its true intent."""
    taxonomy = load_taxonomy()
    index = {name: i for i, name in enumerate(taxonomy.names)}
    probs: list[F64] = []
    truth: list[int] = []
    for k in range(folds):
        train = [r for r in rows if fold_of(r.group, folds) != k]
        held = [r for r in rows if fold_of(r.group, folds) == k
                and not r.group.startswith("bitext/")]
        model = IntentModel.train(
            [r.text for r in train], [r.intent for r in train], taxonomy=taxonomy,
            sample_weight=sample_weights(train, candidate.bitext_share),
            epochs=candidate.epochs, seed=seed,
            learning_rate=candidate.learning_rate, weight_decay=candidate.weight_decay,
            hashing=candidate.hashing)
        probs.append(model.probabilities([r.text for r in held]).astype(np.float64))
        truth.extend(index[r.intent] for r in held)
    return np.vstack(probs), np.array(truth, dtype=np.int64)


def tempered(probs: F64, temperature: float) -> F64:
    """``probs`` as the softmax of the logits divided by ``temperature``."""
    logp = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out: F64 = np.exp(logp)
    out /= out.sum(axis=1, keepdims=True)
    return out


def nll(probs: F64, truth: npt.NDArray[np.int64]) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-12, 1.0))))


def fit_temperature(probs: F64, truth: npt.NDArray[np.int64]) -> float:
    return min(GRID, key=lambda t: nll(tempered(probs, t), truth))


def reliability(probs: F64, truth: npt.NDArray[np.int64], bins: int = 10
                ) -> dict[str, Any]:
    """Top confidence binned in ``bins`` equal-width bins: count, mean confidence and
    accuracy of each, and the expected calibration error (ECE)."""
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == truth
    rows: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (top > lo) & (top <= hi) if b else (top <= hi)
        n = int(mask.sum())
        if not n:
            continue
        conf, acc = float(top[mask].mean()), float(right[mask].mean())
        ece += n / len(top) * abs(conf - acc)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "messages": n,
                     "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"ece": round(ece, 4), "bins": rows}


def main() -> None:
    rows = [r for r in read_all() if r.split == "train"]
    probs, truth = out_of_fold(rows, Candidate("v2"))
    temperature = fit_temperature(probs, truth)
    print(json.dumps({
        "temperature": temperature,
        "nll_before": round(nll(probs, truth), 4),
        "nll_after": round(nll(tempered(probs, temperature), truth), 4),
        "reliability_before": reliability(probs, truth),
        "reliability_after": reliability(tempered(probs, temperature), truth)}, indent=1))


if __name__ == "__main__":
    main()
