"""What the workflows would have decided over recorded history (``touchstream workflows
simulate``), and the definitions' check (``touchstream workflows check``).

History comes from ClickHouse (the ``customer_profiles`` and ``customer_scores`` rows still
there: both tables keep the latest version of each person (and score kind) once their parts
merge, so older versions may be gone) or from a JSON-lines file: one event per line, a
``customer.profiles`` value (``kind`` absent or ``profile``), a ``customer.scores`` value
(``kind: score``, the score's own kind in ``score_kind``), a conversation outcome
(``kind: conversation``, the fields of ``ConversationOutcome``) or a market event
(``kind: market``, the fields of ``MarketEvent``).

Events are folded in event time, per subject, from an empty state, with the engine the stage
runs; a deferred action is released at the end of its quiet hours (as the stage's timer
would), or stays deferred when the history ends first.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from streams.workflows.definitions import Workflow
from streams.workflows.engine import Decision, State, WorkflowPolicy, fold, release
from streams.workflows.fields import (
    ConversationOutcome,
    MarketEvent,
    PersonEvent,
    from_conversation,
    from_market,
    from_profile,
    from_score,
)

#: the history of profile versions since a time (epoch ms), oldest first
PROFILE_HISTORY_SQL: Final = """
SELECT person_id, version, toUnixTimestamp64Milli(updated_at) AS updated_at, attributes, tags,
       lifecycle_stage, touchpoints, conversions,
       mapFromArrays(score_names, score_values) AS scores,
       mapFromArrays(revenue_currencies, revenue_amounts) AS revenue, merged_into
FROM customer_profiles
WHERE updated_at >= fromUnixTimestamp64Milli({since_ms:Int64})
ORDER BY updated_at, person_id, version
"""
#: the scores since a time (the latest per person and kind once merged), oldest first
SCORE_HISTORY_SQL: Final = """
SELECT person_id, kind, score, probability, label, reasons, details, model_version,
       profile_version, toUnixTimestamp64Milli(scored_at) AS scored_at
FROM customer_scores FINAL
WHERE scored_at >= fromUnixTimestamp64Milli({since_ms:Int64})
ORDER BY scored_at, person_id, kind
"""
_SCORE_KEYS: Final = ("person_id", "score_kind", "score", "scored_at")
_CONVERSATION_KEYS: Final = ("conversation_id", "person_id", "ended_at", "intent", "sentiment",
                             "resolved", "escalated")
_MARKET_KEYS: Final = ("event_id", "occurred_at", "type", "competitor", "segment", "magnitude")
_PROFILE_KEYS: Final = ("person_id", "updated_at")


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


@dataclass(slots=True)
class Simulation:
    decisions: list[Decision] = field(default_factory=list)
    events: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def counts(self) -> Counter[tuple[str, str]]:
        """(workflow, status) -> decisions."""
        return Counter((d["workflow_id"], d["status"]) for d in self.decisions)


def event_of(raw: Mapping[str, Any]) -> PersonEvent | None:
    """One history record as an engine event; None for a profile merged into another."""
    kind = raw.get("kind", "profile")
    if kind == "conversation":
        _require(raw, _CONVERSATION_KEYS)
        return from_conversation(cast(ConversationOutcome, dict(raw)))
    if kind == "market":
        _require(raw, _MARKET_KEYS)
        return from_market(cast(MarketEvent, dict(raw)))
    if kind == "score":
        _require(raw, _SCORE_KEYS)
        return from_score({**raw, "kind": raw["score_kind"]})
    if kind != "profile":
        raise ValueError(f"unknown kind {kind!r}")
    _require(raw, _PROFILE_KEYS)
    if raw.get("merged_into"):
        return None
    return from_profile(raw)


def _require(raw: Mapping[str, Any], keys: Sequence[str]) -> None:
    missing = [key for key in keys if key not in raw]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")


def read_jsonl(lines: Iterable[str]) -> tuple[list[PersonEvent], list[Rejected]]:
    events: list[PersonEvent] = []
    rejected: list[Rejected] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            one = event_of(raw)
        except (ValueError, TypeError, KeyError) as exc:
            rejected.append(Rejected(number, str(exc)))
            continue
        if one is not None:
            events.append(one)
    return events, rejected


def events_from_rows(rows: Iterable[Mapping[str, Any]],
                     scores: Iterable[Mapping[str, Any]] = ()) -> list[PersonEvent]:
    """``PROFILE_HISTORY_SQL`` (and ``SCORE_HISTORY_SQL``) rows as events."""
    out: list[PersonEvent] = []
    for row in rows:
        one = event_of({**row, "kind": "profile"})
        if one is not None:
            out.append(one)
    out += [from_score(row) for row in scores]
    return out


def simulate(events: Sequence[PersonEvent], workflows: Sequence[Workflow],
             policy: WorkflowPolicy | None = None, until_ms: int | None = None) -> Simulation:
    """Fold ``events`` in event time; release deferred actions at their time, up to
    ``until_ms`` (default: the last event's time)."""
    policy = policy or WorkflowPolicy()
    ordered = sorted(events, key=lambda e: e["occurred_at"])
    states: dict[str, State] = {}
    due: list[tuple[int, str]] = []  # (earliest deliver_at, subject); stale entries skipped
    out = Simulation(events=len(ordered))

    def schedule(subject: str) -> None:
        if states[subject]["deferred"]:
            heapq.heappush(due, (min(d["deliver_at"] for d in states[subject]["deferred"]),
                                 subject))

    def release_until(at_ms: int) -> None:
        while due and due[0][0] <= at_ms:
            when, subject = heapq.heappop(due)
            pending = [d["deliver_at"] for d in states[subject]["deferred"]]
            if not pending or min(pending) != when:
                continue  # released already, or rescheduled
            states[subject], released = release(states[subject], when, policy)
            out.decisions += released
            schedule(subject)

    for one in ordered:
        release_until(one["occurred_at"])
        subject = one["subject"]
        states[subject], decisions = fold(states.get(subject), one, workflows, policy)
        out.decisions += decisions
        if decisions:
            schedule(subject)
    end = until_ms if until_ms is not None else (ordered[-1]["occurred_at"] if ordered else 0)
    release_until(end)
    return out


def decision_rows(decisions: Sequence[Decision]) -> list[tuple[Any, ...]]:
    """Rows for a readable table: time (UTC), subject, workflow, action, channel, status,
    reason."""

    def when(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")

    return [(when(d["deliver_at"] if d["status"] == "released" else d["triggered_at"]),
             d["subject"], d["workflow_id"], d["action_type"], d["channel"], d["status"],
             d["reason"] if d["status"] != "fired" else "")
            for d in decisions]
