"""Profiles (``customer.profiles`` values) and a small trained lead model for the scoring
tests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from streams.predictive.features import CHURN_MODEL_FEATURES
from streams.predictive.history import HistoryPolicy, train_lead_model
from streams.predictive.history_synthetic import histories
from streams.predictive.model_artefact import ModelArtefact
from streams.predictive.recommend_simulate import Shoppers
from streams.predictive.training import FeatureTable, TrainingConfig, train

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 UTC


def interaction(event_id: str, kind: str, at: int, type_: str | None = None,
                channel: str | None = None, value: float | None = None,
                currency: str | None = None) -> dict[str, Any]:
    return {"event_id": event_id, "kind": kind, "occurred_at": at, "type": type_,
            "channel": channel, "campaign_id": None, "value": value, "currency": currency}


def profile(person: str = "p_1", version: int = 1, recent: list[dict[str, Any]] | None = None,
            identifiers: tuple[str, ...] = ("email:a@b.net",), **extra: Any) -> dict[str, Any]:
    recent = recent if recent is not None else [
        interaction("tp_1", "touchpoint", T0, "click", "paid_search")]
    times = [i["occurred_at"] for i in recent] or [T0]
    value: dict[str, Any] = {
        "person_id": person, "version": version, "updated_at": max(times),
        "first_seen": min(times), "last_seen": max(times), "identifiers": sorted(identifiers),
        "attributes": {}, "tags": [], "lifecycle_stage": "known", "channels": [],
        "touchpoints": sum(i["kind"] == "touchpoint" for i in recent),
        "conversions": sum(i["kind"] == "conversion" for i in recent),
        "revenue": {}, "scores": {}, "recent": recent, "merged_into": None}
    value.update(extra)
    return value


@lru_cache(maxsize=1)
def lead_artefact() -> ModelArtefact:
    """A lead model trained on 400 generated histories (a few seconds, once per session)."""
    result = train_lead_model(histories(persons=400, days=240, seed=3),
                              HistoryPolicy(horizon_ms=7 * DAY_MS, cutoffs_per_person=6))
    return result.artefact


@lru_cache(maxsize=1)
def churn_artefact() -> ModelArtefact:
    """A churn model on the churn features, from a generated table where going quiet (a low
    recent activity rate) is what churn follows."""
    rng = np.random.default_rng(4)
    n = 3000
    values = np.full((n, len(CHURN_MODEL_FEATURES)), np.nan)
    recent = rng.gamma(1.0, 1.0, n)
    values[:, CHURN_MODEL_FEATURES.index("recent_activity_per_week")] = recent
    values[:, CHURN_MODEL_FEATURES.index("baseline_activity_per_week")] = rng.gamma(2.0, 1.0, n)
    values[:, CHURN_MODEL_FEATURES.index("touchpoints_total")] = rng.integers(0, 50, n)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-(1.0 - 2.0 * recent)))).astype(np.int8)
    cutoffs = T0 + np.sort(rng.integers(0, 300 * DAY_MS, n)).astype(np.int64)
    table = FeatureTable(CHURN_MODEL_FEATURES, values, labels, cutoffs)
    return train(table, TrainingConfig(label_horizon_ms=DAY_MS), name="churn_model").artefact


def event_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Generated history rows as ``customer_events`` columns (the rest filled plainly)."""
    n = len(rows)
    columns: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in rows[0]}
    columns.update({"flags": [[]] * n, "attributes": [r.get("attributes") or {} for r in rows],
                    "platform": [None] * n,
                    "order_id": [None] * n, "source_topic": ["customer.events"] * n,
                    "source_partition": [0] * n, "source_offset": list(range(n)),
                    "_topic": ["customer.events"] * n, "_partition": [0] * n,
                    "_offset": list(range(n)), "_kafka_ts": columns["occurred_at"],
                    "_version": [1] * n})
    return columns


def shopper_rows(world: Shoppers) -> list[dict[str, Any]]:
    """Simulated shoppers' events as ``customer_events`` rows (``history.HISTORY_SQL``'s
    columns; the event's properties in ``attributes``), with a CRM update per person at the
    start carrying their segment."""
    rows: list[dict[str, Any]] = []
    for kind, v in world.events:
        person = v["identifiers"]["customer_id"]
        rows.append({"person_id": person,
                     "event_id": v.get("touchpoint_id") or v.get("conversion_id"),
                     "kind": kind, "occurred_at": v["occurred_at"], "type": v["type"],
                     "channel": v.get("channel"), "campaign_id": v.get("campaign_id"),
                     "value": v.get("value"), "currency": v.get("currency"),
                     "identifiers": [f"customer_id:{person}"],
                     "attributes": dict(v["properties"])})
    start = min(r["occurred_at"] for r in rows)
    rows += [{"person_id": person, "event_id": f"crm-{person}", "kind": "profile",
              "occurred_at": start, "type": None, "channel": None, "campaign_id": None,
              "value": None, "currency": None, "identifiers": [f"customer_id:{person}"],
              "attributes": {"segment": segment}} for person, segment in world.segment.items()]
    return rows
