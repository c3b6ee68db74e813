"""The lift of the conversation features on the lead and churn models, on generated histories
whose ground truth makes conversations matter (``streams.predictive.history_synthetic``: a chat
with buying intent in the last 14 days multiplies the daily odds of buying by e^2, any other
chat by e^0.5, independently of the hidden interest that drives the other touchpoints; a
discontent customer's chats turn negative, escalated and about cancelling weeks before they
leave).

For each seed: ``--persons`` generated people over ``--days`` days, training rows made as the
trainer makes them from ClickHouse history (``history.lead_table`` / ``churn_table``: profiles
rebuilt as of sampled profile changes, chat sessions with their conversation's attributes),
then the same LightGBM training (time split 60/20/20, early stopping and calibration on the
middle window):
- lead (label: a purchase within 14 days): without conversation features
  (``BEHAVIOUR_FEATURES``), with the chat sessions only (``CHAT_SESSION_FEATURES``), and with
  the conversation details too (``FEATURES_WITH_CHAT_DETAILS``, what is served: intents,
  sentiment and its trend, escalations, lead signals);
- churn (label: no touchpoint or conversion within ``--churn-days``, 30 by default, people who
  had purchased; a 60-day horizon leaves the calibration window empty after purging): the
  churn features without the chat details and the chat churn signals (sentiment against the
  baseline, escalations, cancellation intents) against the served ones, with the share of the
  model's total gain that the sentiment, escalation and cancellation features take.
ROC-AUC, PR-AUC and Brier on the held-out latest window, and the differences, mean and standard
deviation over the seeds. Merged into ``quality.lead_lift`` of benchmarks/results/latest.json.

``python -m benchmarks.lead_lift [--persons 3000] [--days 360] [--seeds 3] [--churn-days 30]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from benchmarks.predictive_quality import merge_quality
from streams.predictive.features import (
    BEHAVIOUR_FEATURES,
    CHAT_DETAIL_FEATURES,
    CHAT_SESSION_FEATURES,
    CHURN_CHAT_SIGNAL_FEATURES,
    CHURN_FEATURES_WITH_CHAT_DETAILS,
    CHURN_SIGNAL_FEATURES,
    FEATURES_WITH_CHAT_DETAILS,
)
from streams.predictive.history import DAY_MS, HistoryPolicy, train_churn_model, train_lead_model
from streams.predictive.history_synthetic import histories
from streams.predictive.training import TrainingResult

METRICS = ("roc_auc", "pr_auc", "brier")
LEAD_SETS = {"without_conversation": BEHAVIOUR_FEATURES,
             "chat_sessions": BEHAVIOUR_FEATURES + CHAT_SESSION_FEATURES,
             "with_conversation": FEATURES_WITH_CHAT_DETAILS}
CHURN_SETS = {"without_chat_signals": (BEHAVIOUR_FEATURES + CHAT_SESSION_FEATURES
                                       + CHURN_SIGNAL_FEATURES),
              "with_chat_signals": CHURN_FEATURES_WITH_CHAT_DETAILS}
#: the churn features the issue names: sentiment, escalations, cancellation intent
CHURN_CHAT_FEATURES = (*CHURN_CHAT_SIGNAL_FEATURES, "chat_last_sentiment", "chat_sentiment_trend",
                       "chat_escalations_90d", "chat_cancel_intent_90d")


def gain_shares(result: TrainingResult, names: Sequence[str]) -> dict[str, float]:
    """Each of ``names``' share of the model's total split gain."""
    booster = lgb.Booster(model_str=result.artefact.model_text)
    gain = dict(zip(booster.feature_name(), booster.feature_importance("gain"), strict=True))
    total = float(sum(gain.values())) or 1.0
    return {n: float(gain.get(n, 0.0)) / total for n in names}


def _summary(runs: dict[str, list[dict[str, float]]], seeds: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, values in runs.items():
        out[name] = {m: round(float(np.mean([v[m] for v in values])), 4) for m in METRICS}
        out[name].update({f"{m}_sd": round(float(np.std([v[m] for v in values], ddof=1)), 4)
                          if seeds > 1 else 0.0 for m in METRICS})
    return out


def _lift(a: list[dict[str, float]], b: list[dict[str, float]], seeds: int) -> dict[str, float]:
    out = {}
    for m in METRICS:
        diffs = [x[m] - y[m] for x, y in zip(a, b, strict=True)]
        out[m] = round(float(np.mean(diffs)), 4)
        out[f"{m}_sd"] = round(float(np.std(diffs, ddof=1)), 4) if seeds > 1 else 0.0
    return out


def measure(persons: int, days: int, seeds: int, churn_days: int = 30) -> dict[str, Any]:
    lead_policy = HistoryPolicy(horizon_ms=14 * DAY_MS, cutoffs_per_person=4)
    churn_policy = HistoryPolicy(horizon_ms=churn_days * DAY_MS, cutoffs_per_person=4)
    lead: dict[str, list[dict[str, float]]] = {name: [] for name in LEAD_SETS}
    churn: dict[str, list[dict[str, float]]] = {name: [] for name in CHURN_SETS}
    shares: list[dict[str, float]] = []
    rows_info: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed in range(seeds):
        rows = histories(persons=persons, days=days, seed=100 + seed)
        for name, names in LEAD_SETS.items():
            result = train_lead_model(rows, lead_policy, names=names)
            lead[name].append({m: float(getattr(result.test, m)) for m in METRICS})
            if name == "with_conversation":
                data = result.artefact.metadata["data"]
                rows_info.append({"events": data["events"], "rows": data["rows"],
                                  "positive_rate": round(data["positive_rate"], 4),
                                  "test_rows": result.test.rows})
        for name, names in CHURN_SETS.items():
            result = train_churn_model(rows, churn_policy, names=names)
            churn[name].append({m: float(getattr(result.test, m)) for m in METRICS})
            if name == "with_chat_signals":
                shares.append(gain_shares(result, CHURN_CHAT_FEATURES))
                rows_info[-1]["churn_rows"] = result.artefact.metadata["data"]["rows"]
                rows_info[-1]["churn_positive_rate"] = round(
                    result.artefact.metadata["data"]["positive_rate"], 4)
    out: dict[str, Any] = {
        "data": (f"generated histories (streams.predictive.history_synthetic), {persons} people "
                 f"over {days} days per seed, seeds 100..{99 + seeds}; a buying-intent chat in "
                 "14 days: odds x e^2, another chat x e^0.5; discontent customers chat "
                 "negatively, escalate and speak of cancelling, then leave"),
        "label": "lead: purchase within 14 days after a sampled profile change; churn: no "
                 f"touchpoint or conversion within {churn_days} days (people who had purchased)",
        "split": "time-based 60/20/20 (train / early stopping + calibration / held-out test)",
        "conversation_detail_features": list(CHAT_DETAIL_FEATURES),
        "features": {name: len(names) for name, names in {**LEAD_SETS, **CHURN_SETS}.items()},
        "seeds": seeds, "per_seed": rows_info, "seconds": round(time.perf_counter() - started, 1)}
    out.update(_summary(lead, seeds))
    out["lift"] = _lift(lead["with_conversation"], lead["without_conversation"], seeds)
    out["lift_of_details_over_sessions"] = _lift(lead["with_conversation"], lead["chat_sessions"],
                                                 seeds)
    out["churn"] = _summary(churn, seeds)
    out["churn"]["lift"] = _lift(churn["with_chat_signals"], churn["without_chat_signals"], seeds)
    out["churn"]["gain_share"] = {n: round(float(np.mean([s[n] for s in shares])), 4)
                                  for n in CHURN_CHAT_FEATURES}
    out["churn"]["gain_share_total"] = round(float(np.mean([sum(s.values()) for s in shares])), 4)
    out["reproduce"] = (f"python -m benchmarks.lead_lift --persons {persons} --days {days} "
                        f"--seeds {seeds} --churn-days {churn_days}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--days", type=int, default=360)
    parser.add_argument("--churn-days", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave latest.json alone")
    args = parser.parse_args()
    figures = measure(args.persons, args.days, args.seeds, args.churn_days)
    if not args.no_write:
        merge_quality({"lead_lift": figures})
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
