"""Rescoring persons nothing happens to: a timer of the scoring stage over ``score_states``.

A profile change scores a person (``stage.step``), but scores also age without one: the churn
risk reads the activity of the recent weeks against the person's own baseline, and the lead
features count touches of the last 7 and 30 days, all as of the moment of scoring. So a
silent customer's risk would never rise, and a new model would apply only at each person's
next change. This timer rescores, in batches, the persons of the worker's partitions that are
due: those last scored (``last_event_at`` or ``rescored_at``, the later) at least
``interval_ms`` ago, and, before them, those whose state names other models than the ones
served now (``stage.served``; a state written before models were recorded counts as such).
Their latest profiles come from ``profiles`` (the agent reads them from ClickHouse,
``rescoring_source``); each is scored as of ``now_ms`` with the purchases the state folded.

Invariants:
- a person is rescored only from the profile version its state absorbed: a profile that is
  missing or at another version (ClickHouse behind, or a change under way) is left to the
  stage; the state's version, scoring key and purchases are never changed here;
- rows and records are those of the stage (``scoring.rows_and_records``), carrying the
  position and ``_version`` of the profile version scored and ``scored_at = now_ms``, so the
  row replaces the older one in ``customer_scores`` and consumers of ``customer.scores`` see
  a newer score of each kind;
- a state gains ``rescored_at`` and the ``models`` that scored it; ``at_risk`` follows the new
  churn label (the hysteresis reads the previous one);
- persons silent for more than ``max_silence_ms`` are no longer rescored for time (their
  activity signals are saturated), only for a model change;
- a profile source that is unavailable makes the tick do nothing (it is tried again at the
  next), rather than fail its entries.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from streams.kernel.errors import Unavailable
from streams.kernel.records import BatchResult
from streams.kernel.stage import Outcome, Timer, Value
from streams.predictive import contract as names
from streams.predictive.features import read_profile
from streams.predictive.rfm import summarise
from streams.predictive.scoring import Models, Scored, predict_columns, rows_and_records
from streams.predictive.stage import STATES, served

log = logging.getLogger(__name__)
DAY_MS: Final = 86_400_000
Profiles = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class RescorePolicy:
    models: Callable[[], Models]  # the models served now
    profiles: Profiles  # person ids -> their latest profiles (customer.profiles values)
    source_topic: str  # the physical name of customer.profiles, for the rows' positions
    interval_ms: int = 3_600_000
    #: persons rescored at most per tick: a tick runs on the worker's event loop (a
    #: ClickHouse read and a scoring step), so small batches keep other stages' waits short
    batch: int = 250
    max_silence_ms: int = 400 * DAY_MS

    @property
    def tick_seconds(self) -> float:
        """Ticks come 1/360 of the interval apart (5 s to 30 s: every 10 s for an hour), so
        a worker rescores up to ``batch`` x 360 persons an interval (90,000 by default)."""
        return min(30.0, max(5.0, self.interval_ms / 360_000))


def last_scored(value: Value) -> int:
    return max(int(value["last_event_at"]), int(value.get("rescored_at") or 0))


def due(entries: Sequence[tuple[str, Value]], now_ms: int, version: str,
        policy: RescorePolicy) -> list[tuple[str, Value]]:
    """The entries to rescore now, at most ``policy.batch``: older models first, then the
    longest unscored."""
    stale: list[tuple[int, str, Value]] = []
    aged: list[tuple[int, str, Value]] = []
    for key, value in entries:
        at = last_scored(value)
        if value.get("models") != version:
            stale.append((at, key, value))
        elif (now_ms - at >= policy.interval_ms
              and now_ms - int(value["last_event_at"]) <= policy.max_silence_ms):
            aged.append((at, key, value))
    stale.sort(key=lambda e: e[:2])
    aged.sort(key=lambda e: e[:2])
    return [(key, value) for _, key, value in (stale + aged)[:policy.batch]]


def tick(policy: RescorePolicy, entries: Sequence[tuple[str, Value]], now_ms: int) -> Outcome:
    models = policy.models()
    version = served(models)
    chosen = due(entries, now_ms, version, policy)
    if not chosen:
        return Outcome()
    try:
        profiles = policy.profiles([key for key, _ in chosen])
    except Unavailable as exc:
        log.warning("rescoring waits for its profiles: %s", exc)
        return Outcome()
    batch: list[Scored] = []
    for key, value in chosen:
        profile = profiles.get(key)
        if profile is None or int(profile["version"]) != int(value["version"]):
            continue
        features, signals = read_profile(profile, now_ms)
        batch.append(Scored(profile, features, signals, summarise(value["rfm"], now_ms, "weeks"),
                            bool(value["at_risk"]), policy.source_topic, int(value["partition"]),
                            int(value["offset"])))
    if not batch:
        return Outcome()
    predictions = predict_columns(models, batch)
    churn = next(c for c in predictions if c.kind == "churn")
    changed: dict[str, tuple[int, Value | None]] = {}
    for s, label in zip(batch, churn.labels, strict=True):
        person = str(s.profile["person_id"])
        value = dict(next(v for k, v in chosen if k == person))
        value.update(at_risk=label == "at_risk", models=version, rescored_at=now_ms)
        changed[person] = (int(value["partition"]), value)
    columns, records = rows_and_records(batch, predictions, now_ms)
    return Outcome(BatchResult(inserts={names.CUSTOMER_SCORES_TABLE: columns}, outputs=records),
                   {STATES: changed} if changed else {})


def timer(policy: RescorePolicy) -> Timer:
    """The stage's rescoring timer (the agent adds it when the interval is not 0)."""
    return Timer("predictive_rescoring", policy.tick_seconds, STATES,
                 functools.partial(tick, policy))


__all__ = ["Profiles", "RescorePolicy", "due", "tick", "timer"]
