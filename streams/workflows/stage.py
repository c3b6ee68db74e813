"""The workflows stage: what the runtime runs for ``customer.profiles`` and
``customer.scores``.

Each profile version, and each score, is an event about its person (``fields.from_profile``,
``fields.from_score``); the engine folds it into the person's state in ``workflow_states``
(positioned, keyed by person id, the key of both inputs, which are co-partitioned) and
decides. Every decision is a row of ``workflow_actions``; the ones to deliver
now are records of ``workflow.actions``. A timer releases the actions quiet hours deferred.

Invariants:
- the step never changes what it looks up; it returns each changed state with its
  partition and the offset of the last event it absorbed;
- a profile already absorbed (same person and version: a redelivery, a replay), or a score
  of a kind at or before the last one absorbed (``scored_at``), changes no state and decides
  nothing; a profile merged into another person is skipped (its events
  continue under the surviving id);
- a state leaves the table once it holds no deferred action and its last event is older than
  ``retain_ms`` (then the windows and cooldowns it held are forgotten too: keep
  ``retain_ms`` above the longest window and cooldown);
- only events that decide something leave a row, so after a restart the position guard
  may start before where the state stands: the events replayed are skipped by the fold
  (their versions are absorbed);
- each input resumes at its own position per (topic, partition) (``POSITIONS_OF``, handed to
  the runtime): customer.profiles where ``workflow_states`` stands (a state's ``offset`` is
  that of the last *profile* it absorbed, -1 before any), customer.scores at the group's
  committed offset, which only passes events whose state changes are in the changelog; a
  restart may re-read some scores, which the fold skips (their ``scored_at`` is absorbed).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import BatchResult, Raw
from streams.kernel.stage import Changes, Events, Input, Lookup, Outcome, Stage, Table, Timer, Value
from streams.workflows import contract as names
from streams.workflows.definitions import Workflow
from streams.workflows.engine import Decision, State, WorkflowPolicy, fold, release
from streams.workflows.fields import PERSON_ID, SCORE_KINDS, UPDATED_AT, from_profile, from_score
from streams.workflows.records import Position, action_columns, action_records

NAME: Final = "workflows"
STATES: Final = names.WORKFLOW_STATES
#: per positioned table, the inputs whose offsets it holds (``run_stage(positions_of=...)``):
#: the states hold profile offsets only; no table holds the scores' (they resume at the
#: committed offset), so offsets of the two topics are never compared
POSITIONS_OF: Final = {STATES: (names.CUSTOMER_PROFILES,)}


@dataclass(frozen=True, slots=True)
class WorkflowStagePolicy:
    workflows: tuple[Workflow, ...]
    source_topic: str  # the physical name of customer.profiles, for the rows the timer makes
    #: the physical name of customer.scores; None: the stage reads profiles only
    scores_topic: str | None = None
    engine: WorkflowPolicy = field(default_factory=WorkflowPolicy)
    retain_ms: int = 120 * 86_400_000
    timer_interval: float = 30.0


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    if not value[PERSON_ID] or raw.key_str != value[PERSON_ID]:
        raise InvalidMessage("invalid_field", f"key {raw.key_str!r} is not the person id "
                             f"{value[PERSON_ID]!r}")
    if value[UPDATED_AT] <= 0:
        raise InvalidMessage("invalid_field", f"updated_at {value[UPDATED_AT]} is not a time")


def validate_score(raw: Raw, value: Mapping[str, Any]) -> None:
    if not value[PERSON_ID] or raw.key_str != value[PERSON_ID]:
        raise InvalidMessage("invalid_field", f"key {raw.key_str!r} is not the person id "
                             f"{value[PERSON_ID]!r}")
    if value["kind"] not in SCORE_KINDS:
        raise InvalidMessage("invalid_field", f"kind {value['kind']!r} is not one of "
                             f"{', '.join(SCORE_KINDS)}")
    if value["scored_at"] <= 0:
        raise InvalidMessage("invalid_field", f"scored_at {value['scored_at']} is not a time")
    score = value["score"]
    if score != score or score in (float("inf"), float("-inf")):
        raise InvalidMessage("invalid_field", f"score {score} is not a number")


def has_deferred(value: Value) -> bool:
    return bool(value["state"]["deferred"])


def stage(policy: WorkflowStagePolicy) -> Stage:
    inputs: tuple[Input, ...] = (Input(names.CUSTOMER_PROFILES, validate),)
    tables: tuple[Table, ...] = (Table(STATES, positioned=True, index=has_deferred,
                                       retain_ms=policy.retain_ms,
                                       closed=lambda value: not has_deferred(value)),)
    if policy.scores_topic is not None:
        inputs += (Input(names.CUSTOMER_SCORES, validate_score),)
    return Stage(
        name=NAME,
        inputs=inputs,
        step=functools.partial(step, policy),
        tables=tables,
        timers=(Timer("workflow_releases", policy.timer_interval, STATES,
                      functools.partial(release_due, policy), indexed=True),),
        sunk=(names.WORKFLOW_ACTIONS_TABLE,),
    )


def _value(state: State, partition: int, offset: int, score_offset: int) -> Value:
    return {"partition": partition, "offset": offset, "score_offset": score_offset,
            "last_event_at": state["last_event_at"], "state": state}


def step(policy: WorkflowStagePolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    states: dict[str, Value] = {}
    decided: list[tuple[Decision, Position]] = []
    for raw, value in zip(events.raws, events.values, strict=True):
        scored = raw.topic == policy.scores_topic
        if scored:
            event = from_score(value)
        elif value.get("merged_into"):
            continue
        else:
            event = from_profile(value)
        person = event["subject"]
        current = states.get(person) or lookup(STATES, person)
        before: State | None = None if current is None else current["state"]
        after, decisions = fold(before, event, policy.workflows, policy.engine)
        if after is before:
            continue  # already absorbed
        offset = -1 if current is None else current["offset"]
        score_offset = -1 if current is None else current.get("score_offset", -1)
        states[person] = _value(after, raw.partition, offset if scored else raw.offset,
                                raw.offset if scored else score_offset)
        where = Position(raw.topic, raw.partition, raw.offset)
        decided += [(d, where) for d in decisions]
    only = [d for d, _ in decided]
    result = BatchResult(inserts={names.WORKFLOW_ACTIONS_TABLE: action_columns(decided, now_ms)},
                         outputs=action_records(only))
    changes: Changes = {STATES: {k: (v["partition"], v) for k, v in states.items()}}
    return Outcome(result, changes)


def release_due(policy: WorkflowStagePolicy, entries: Sequence[tuple[str, Value]],
                now_ms: int) -> Outcome:
    """The deferred actions whose quiet hours are over, delivered (or suppressed) once."""
    changed: dict[str, tuple[int, Value | None]] = {}
    decided: list[tuple[Decision, Position]] = []
    for key, value in entries:
        after, decisions = release(value["state"], now_ms, policy.engine)
        if after is value["state"]:
            continue
        changed[key] = (value["partition"], {**value, "state": after})
        where = (Position(policy.source_topic, value["partition"], value["offset"])
                 if value["offset"] >= 0 or policy.scores_topic is None else
                 Position(policy.scores_topic, value["partition"], value["score_offset"]))
        decided += [(d, where) for d in decisions]
    result = BatchResult(inserts={names.WORKFLOW_ACTIONS_TABLE: action_columns(decided, now_ms)},
                         outputs=action_records([d for d, _ in decided]))
    return Outcome(result, {STATES: changed})
