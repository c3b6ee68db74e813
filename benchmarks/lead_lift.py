"""The lift of the conversation features on the lead model, on generated histories whose
ground truth makes conversations matter (``streams.predictive.history_synthetic``: a chat in
the last 14 days multiplies the daily odds of buying by e^2, independently of the hidden
interest that drives the other touchpoints).

For each seed: ``--persons`` generated people over ``--days`` days, training rows made as the
trainer makes them from ClickHouse history (``history.lead_table``: profiles rebuilt as of
sampled profile changes, label = a purchase within 14 days), then the same LightGBM training
(time split 60/20/20, early stopping and calibration on the middle window) with all features
and without the three chat-session features. ROC-AUC, PR-AUC and Brier on the held-out latest
window, and their difference (with - without), mean and standard deviation over the seeds.
Merged into ``quality.lead_lift`` of benchmarks/results/latest.json.

``python -m benchmarks.lead_lift [--persons 3000] [--days 240] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from benchmarks.predictive_quality import merge_quality
from streams.predictive.features import BEHAVIOUR_FEATURES, CONVERSATION_FEATURES, FEATURES
from streams.predictive.history import DAY_MS, HistoryPolicy, train_lead_model
from streams.predictive.history_synthetic import histories

METRICS = ("roc_auc", "pr_auc", "brier")


def measure(persons: int, days: int, seeds: int) -> dict[str, Any]:
    policy = HistoryPolicy(horizon_ms=14 * DAY_MS, cutoffs_per_person=4)
    runs: dict[str, list[dict[str, float]]] = {"with_conversation": [], "without_conversation": []}
    rows_info: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed in range(seeds):
        rows = histories(persons=persons, days=days, seed=100 + seed)
        for name, names in (("with_conversation", FEATURES),
                            ("without_conversation", BEHAVIOUR_FEATURES)):
            result = train_lead_model(rows, policy, names=names)
            runs[name].append({m: float(getattr(result.test, m)) for m in METRICS})
            if name == "with_conversation":
                data = result.artefact.metadata["data"]
                rows_info.append({"events": data["events"], "rows": data["rows"],
                                  "positive_rate": round(data["positive_rate"], 4),
                                  "test_rows": result.test.rows})
    out: dict[str, Any] = {
        "data": (f"generated histories (streams.predictive.history_synthetic), {persons} people "
                 f"over {days} days per seed, seeds 100..{99 + seeds}; chat in 14 days: odds x e^2"),
        "label": "purchase within 14 days after a sampled profile change",
        "split": "time-based 60/20/20 (train / early stopping + calibration / held-out test)",
        "conversation_features": list(CONVERSATION_FEATURES),
        "features_with": len(FEATURES), "features_without": len(BEHAVIOUR_FEATURES),
        "seeds": seeds, "per_seed": rows_info, "seconds": round(time.perf_counter() - started, 1)}
    for name, values in runs.items():
        out[name] = {m: round(float(np.mean([v[m] for v in values])), 4) for m in METRICS}
        out[name].update({f"{m}_sd": round(float(np.std([v[m] for v in values], ddof=1)), 4)
                          if seeds > 1 else 0.0 for m in METRICS})
    out["lift"] = {}
    for m in METRICS:
        diffs = [a[m] - b[m] for a, b in zip(runs["with_conversation"],
                                             runs["without_conversation"], strict=True)]
        out["lift"][m] = round(float(np.mean(diffs)), 4)
        out["lift"][f"{m}_sd"] = round(float(np.std(diffs, ddof=1)), 4) if seeds > 1 else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.persons, args.days, args.seeds)
    merge_quality({"lead_lift": figures})
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
