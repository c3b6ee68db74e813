"""Training data from the interaction history in ClickHouse: a person's profile rebuilt as of a
cut-off, its lead features, and whether the person purchased in the window after it.

``HISTORY_SQL`` reads ``customer_events`` (touchpoints, conversions, CRM updates and chat
sessions, each attached to its resolved person) in time order; the caller runs it (the CLI,
through the worker or ClickHouse) and hands the rows to ``lead_table``.

Cut-offs are profile changes, as in the stream: for a sampled event of a person, the profile as
it stood just after that event (``profile_as_of``: the counters and the last ``recent_limit``
interactions, like the profile stage keeps them) gives the features, as of the event's time;
the cut-off is one millisecond later. The label is a purchase within ``horizon_ms`` after the
cut-off.

Invariants:
- no leakage: a row's features come from events at or before its event time, strictly before
  its cut-off (``feature_time_ms`` says which, and ``training.check_as_of`` verifies it); its
  label only from events after the cut-off; a row whose label window ends after the last event
  of the history (label not yet known) is left out;
- the features are ``features.lead_features`` of a profile-shaped dict: what the stream computes;
- deterministic for a seed (the sampled cut-offs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np

from streams.predictive.features import CHURN_MODEL_FEATURES, FEATURES, PURCHASE_TYPES, read_profile
from streams.predictive.training import FeatureTable, TrainingConfig, TrainingResult, train

DAY_MS: Final = 86_400_000
#: every interaction of every resolved person in a window, oldest first; run with
#: {since: epoch ms, until: epoch ms} (the column is qualified: the epoch-ms alias shadows it)
HISTORY_SQL: Final = """
SELECT person_id, event_id, kind, toUnixTimestamp64Milli(e.occurred_at) AS occurred_at, type,
       channel, campaign_id, value, currency, identifiers, attributes
FROM customer_events AS e FINAL
WHERE person_id != '' AND e.occurred_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND e.occurred_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
ORDER BY person_id, e.occurred_at, event_id
"""
#: an interaction of the rebuilt profile; ``attributes`` carries a chat session's conversation
#: figures (``features.CHAT_DETAIL_FEATURES``; empty for other interactions)
INTERACTION: Final = ("event_id", "kind", "occurred_at", "type", "channel", "campaign_id",
                      "value", "currency", "attributes")


@dataclass(frozen=True)
class HistoryPolicy:
    horizon_ms: int = 14 * DAY_MS  # the label: a purchase this soon after the cut-off
    cutoffs_per_person: int = 4  # sampled profile changes per person
    recent_limit: int = 50  # as the profile stage keeps (customer_recent_interactions)
    seed: int = 7


def by_person(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Rows grouped by person, each person's in time order (then event id)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        out.setdefault(str(row["person_id"]), []).append(row)
    for events in out.values():
        events.sort(key=lambda r: (int(r["occurred_at"]), str(r["event_id"])))
    return out


def profile_as_of(person: str, events: Sequence[Mapping[str, Any]], upto: int,
                  recent_limit: int = 50) -> dict[str, Any]:
    """The profile after ``events[:upto + 1]`` (a person's events in time order)."""
    seen = events[:upto + 1]
    identifiers = sorted({str(i) for e in seen for i in e.get("identifiers") or ()})
    return {"person_id": person, "first_seen": int(seen[0]["occurred_at"]),
            "updated_at": int(seen[-1]["occurred_at"]), "identifiers": identifiers,
            "touchpoints": sum(e["kind"] == "touchpoint" for e in seen),
            "conversions": sum(e["kind"] == "conversion" for e in seen),
            "recent": [{k: e.get(k) for k in INTERACTION} for e in seen[-recent_limit:]]}


def _purchase_times(events: Sequence[Mapping[str, Any]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.asarray(sorted(int(e["occurred_at"]) for e in events
                             if e["kind"] == "conversion" and e.get("type") in PURCHASE_TYPES),
                      dtype=np.int64)


def lead_table(rows: Iterable[Mapping[str, Any]], policy: HistoryPolicy = HistoryPolicy(),
               names: Sequence[str] = FEATURES) -> FeatureTable:
    """One row per sampled (person, profile change) whose label window is complete; label: a
    purchase within the horizon."""
    return _table(rows, policy, names, "lead")


def churn_table(rows: Iterable[Mapping[str, Any]], policy: HistoryPolicy = HistoryPolicy(),
                names: Sequence[str] = CHURN_MODEL_FEATURES) -> FeatureTable:
    """Like ``lead_table`` for people who had purchased by the cut-off; label: no touchpoint
    and no conversion within the horizon (the customer went quiet)."""
    return _table(rows, policy, names, "churn")


def _table(rows: Iterable[Mapping[str, Any]], policy: HistoryPolicy, names: Sequence[str],
           target: Literal["lead", "churn"]) -> FeatureTable:
    people = by_person(rows)
    end = max((int(e[-1]["occurred_at"]) for e in people.values()), default=0)
    rng = np.random.default_rng(policy.seed)
    values: list[list[float]] = []
    labels: list[int] = []
    cutoffs: list[int] = []
    feature_times: list[int] = []
    for person in sorted(people):
        events = people[person]
        outcome = _purchase_times(events) if target == "lead" else _activity_times(events)
        # a profile change whose label window is complete; the person's last change at one
        # time stands for the others at that time (the stream scores the latest version)
        eligible = [i for i, e in enumerate(events)
                    if int(e["occurred_at"]) + 1 + policy.horizon_ms <= end
                    and (i + 1 == len(events)
                         or int(events[i + 1]["occurred_at"]) != int(e["occurred_at"]))]
        if target == "churn":
            first = _purchase_times(events)
            eligible = [i for i in eligible
                        if first.size and first[0] <= int(events[i]["occurred_at"])]
        if not eligible:
            continue
        take = min(policy.cutoffs_per_person, len(eligible))
        for i in sorted(rng.choice(eligible, size=take, replace=False).tolist()):
            t = int(events[i]["occurred_at"])
            features, signals = read_profile(profile_as_of(person, events, i, policy.recent_limit), t)
            row = {**features, **{k: float(v) for k, v in signals.items()}}  # type: ignore[arg-type]
            values.append([row.get(n, math.nan) for n in names])
            cutoff = t + 1
            lo = int(np.searchsorted(outcome, cutoff, side="left"))
            hi = int(np.searchsorted(outcome, cutoff + policy.horizon_ms, side="left"))
            labels.append(int(hi > lo) if target == "lead" else int(hi == lo))
            cutoffs.append(cutoff)
            feature_times.append(t)
    return FeatureTable(tuple(names), np.asarray(values, dtype=np.float64).reshape(-1, len(names)),
                        np.asarray(labels, dtype=np.int8), np.asarray(cutoffs, dtype=np.int64),
                        np.asarray(feature_times, dtype=np.int64))


def _activity_times(events: Sequence[Mapping[str, Any]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.asarray(sorted(int(e["occurred_at"]) for e in events
                             if e["kind"] in ("touchpoint", "conversion")), dtype=np.int64)


def train_lead_model(rows: Sequence[Mapping[str, Any]], policy: HistoryPolicy = HistoryPolicy(),
                     config: TrainingConfig | None = None, names: Sequence[str] = FEATURES,
                     name: str = "lead_model") -> TrainingResult:
    """Build the table from ``rows``, train, calibrate and evaluate on the held-out latest
    window; the artefact's metadata also names the features, the history's data window and
    how the rows were made."""
    return _train(lead_table(rows, policy, names), rows, policy, config, names, name,
                  "a purchase within the horizon after the cut-off")


def train_churn_model(rows: Sequence[Mapping[str, Any]], policy: HistoryPolicy | None = None,
                      config: TrainingConfig | None = None,
                      names: Sequence[str] = CHURN_MODEL_FEATURES,
                      name: str = "churn_model") -> TrainingResult:
    """The churn model: ``churn_table`` (default horizon 60 days), trained like the lead one."""
    policy = policy or HistoryPolicy(horizon_ms=60 * DAY_MS)
    return _train(churn_table(rows, policy, names), rows, policy, config, names, name,
                  "no touchpoint or conversion within the horizon (people who had purchased)")


def _train(table: FeatureTable, rows: Sequence[Mapping[str, Any]], policy: HistoryPolicy,
           config: TrainingConfig | None, names: Sequence[str], name: str, label: str
           ) -> TrainingResult:
    config = replace(config or TrainingConfig(), label_horizon_ms=policy.horizon_ms)
    result = train(table, config, name=name)
    times = [int(r["occurred_at"]) for r in rows]
    metadata = {**result.artefact.metadata, "features": list(names), "label": label,
                "data": {"source": "customer_events", "first_event_ms": min(times),
                         "last_event_ms": max(times), "events": len(rows),
                         "persons": len({r["person_id"] for r in rows}),
                         "rows": int(table.labels.size),
                         "positive_rate": float(table.labels.mean()),
                         "horizon_ms": policy.horizon_ms,
                         "cutoffs_per_person": policy.cutoffs_per_person,
                         "recent_limit": policy.recent_limit, "seed": policy.seed}}
    return replace(result, artefact=replace(result.artefact, metadata=metadata))
