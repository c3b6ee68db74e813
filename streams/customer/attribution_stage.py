"""The Markov and Shapley attribution on a schedule, in the worker: a stage with one timer.

Which worker runs it: exactly one, the one that owns partition 0 of ``identity.links``. The
stage consumes ``identity.links`` undecoded (``raw``: its records are read, not parsed; no
other stage consumes that topic) only so that it has a partition of its own to own. Its table
``attribution_schedule`` holds one entry (key ``schedule``), written on partition 0 by the
first batch that brings a record of partition 0; the timer runs over the entries of the
worker's own partitions, so only the owner of partition 0 finds the entry, and on a rebalance
the entry (and the schedule: the next run's time, the last run's id) moves with the
partition, through the table's changelog.

When a run is due the timer starts it in a background thread (``Runner``): reading a month of
journeys and fitting the models takes seconds on a million touchpoints, which must not stall
the worker's event loop; a later tick takes the finished run and returns its rows
(``attribution_model_credits``) and the entry's next due time, written through the stage's
group commit like any other outcome. A run that fails (ClickHouse unavailable, say) is logged
and tried again ``retry_ms`` later; the entry is never quarantined for it. A worker stopped
mid-run leaves the entry due, so the next owner runs it.

Invariants:
- at most one run at a time per worker, and one entry, so one scheduled run per group;
- the first run is one interval after the entry is made, then every ``interval_ms``: each run
  covers the conversions of the ``window_ms`` before it started (a new version of every
  model and order it computes);
- the step changes nothing once the entry exists, and never reads what it consumes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from streams.customer import contract as names
from streams.customer.attribution import DAY_MS, ConversionTable, TouchTable
from streams.customer.attribution_run import RunPolicy, Window, compute, run_columns, run_id
from streams.customer.schedule import KEY, OWNER_PARTITION, check_seconds, make_entry
from streams.customer.schedule import Runner as BackgroundRunner
from streams.kernel.records import BatchResult, Columns
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage, Table, Timer, Value

log = logging.getLogger(__name__)

NAME: Final = "customer_attribution_schedule"
SCHEDULE: Final = "attribution_schedule"  # the worker's table

#: (window, lookback in ms) -> the window's touchpoints and conversions
Load = Callable[[Window, int], tuple[TouchTable, ConversionTable]]


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    interval_ms: int = 3_600_000
    window_ms: int = 30 * DAY_MS
    run: RunPolicy = field(default_factory=RunPolicy)
    retry_ms: int = 300_000

    @property
    def check_seconds(self) -> float:
        return check_seconds(self.interval_ms)


class Runner(BackgroundRunner[[Window, RunPolicy, int], tuple[int, Columns]]):
    """One attribution at a time in a background thread; ``take`` hands each result
    (created_at, rows) over once."""

    def __init__(self, load: Load) -> None:
        def work(window: Window, policy: RunPolicy, created_at_ms: int) -> tuple[int, Columns]:
            touches, conversions = load(window, policy.lookback_ms)
            result = compute(touches, conversions, window, policy)
            log.info("attribution run %s: %d conversions (%d with a journey), %d paths, %d rows",
                     run_id(created_at_ms, window, policy), result.conversions,
                     result.attributed, result.journeys, len(result.credits))
            return created_at_ms, run_columns(result, created_at_ms)

        super().__init__(work, "attribution")


def _entry(now_ms: int, next_run_at: int, last_run_id: str | None = None, runs: int = 0,
           error: str | None = None) -> Value:
    return {"partition": OWNER_PARTITION, "next_run_at": next_run_at, "last_run_id": last_run_id,
            "runs": runs, "error": error, "last_event_at": now_ms}


def step(policy: SchedulePolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """Make the schedule's entry from the first record of the owner's partition."""
    return make_entry(SCHEDULE, lambda now: _entry(now, now + policy.interval_ms), events,
                      lookup, now_ms)


def tick(policy: SchedulePolicy, runner: Runner, entries: Sequence[tuple[str, Value]],
         now_ms: int) -> Outcome:
    """Hand over a finished run, or start one that is due."""
    value = dict(entries)[KEY] if any(k == KEY for k, _ in entries) else None
    if value is None:
        return Outcome()
    try:
        done = runner.take()
    except Exception as exc:  # a failed run is tried again later, never quarantined
        log.exception("attribution run failed; trying again in %d s", policy.retry_ms // 1000)
        again = _entry(now_ms, now_ms + policy.retry_ms, value["last_run_id"], value["runs"],
                       f"{type(exc).__name__}: {exc}")
        return Outcome(changes={SCHEDULE: {KEY: (OWNER_PARTITION, again)}})
    if done is not None:
        created, rows = done
        window = Window(created - policy.window_ms, created)
        after = _entry(now_ms, created + policy.interval_ms, run_id(created, window, policy.run),
                       value["runs"] + 1)
        inserts = {names.ATTRIBUTION_MODEL_CREDITS_TABLE: rows} if rows["run_id"] else {}
        return Outcome(BatchResult(inserts=inserts),
                       {SCHEDULE: {KEY: (OWNER_PARTITION, after)}})
    if not runner.busy() and now_ms >= value["next_run_at"]:
        runner.start(Window(now_ms - policy.window_ms, now_ms), policy.run, now_ms)
    return Outcome()


def stage(policy: SchedulePolicy, load: Load) -> Stage:
    runner = Runner(load)
    return Stage(
        name=NAME,
        inputs=(Input(names.IDENTITY_LINKS, encoding="raw"),),
        step=functools.partial(step, policy),
        tables=(Table(SCHEDULE),),
        timers=(Timer("attribution_schedule", policy.check_seconds, SCHEDULE,
                      functools.partial(tick, policy, runner)),),
    )
