"""Probabilistic matching of the CRM records on a schedule, in the worker: a stage with one timer.

What ``touchstream identity match`` does by hand (or the chart's CronJob), one worker does
every ``interval_ms``: read the latest state of every CRM record, link them (Fellegi-Sunter,
``matching.link``) and publish each match at or above the threshold as a ``match``
observation on ``identity.observations``, which the identity stage (the single writer of the
graph) applies under its guard rails. The reading and linking are the ``Job`` the wiring hands
in (ClickHouse lives outside the domain); this stage decides when it runs and publishes what it
returns.

Which worker runs it: exactly one, as the scheduled attribution (``attribution_stage``): the
owner of partition 0 of ``identity.links``, consumed undecoded (``raw``) only so that the
stage has a partition to own. Its table ``matching_schedule`` holds one entry (key
``schedule``), made on partition 0 by the first batch that brings a record of partition 0;
the timer runs over the entries of the worker's own partitions, so only the owner of
partition 0 finds it, and on a rebalance the entry (the next run's time, the runs so far)
moves with the partition through the table's changelog.

A run (seconds of blocking, comparing and EM fitting) goes to a background thread so the
worker's event loop keeps going; a later tick takes its records and the entry's next due time,
written through the stage's group commit like any other outcome. A failed run (ClickHouse
unavailable, say) is logged and tried again ``retry_ms`` later, never quarantined; a worker
stopped mid-run leaves the entry due, so the next owner runs it.

Invariants:
- at most one run at a time per worker and one entry, so one scheduled run per group;
- the first run is one interval after the entry is made, the next one interval after a run
  is published;
- a run publishes what the command would send at that moment (the job is the command's own
  ``streams.ops.identity.match``: pairs an operator unlinked and identifiers forgotten since
  are left out, so an undone join stays undone);
- the step changes nothing once the entry exists and never reads what it consumes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from streams.customer import contract as names
from streams.customer.schedule import KEY, OWNER_PARTITION, check_seconds, make_entry
from streams.customer.schedule import Runner as BackgroundRunner
from streams.kernel.records import BatchResult, OutputRecord
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage, Table, Timer, Value

log = logging.getLogger(__name__)

NAME: Final = "customer_matching_schedule"
SCHEDULE: Final = "matching_schedule"  # the worker's table

#: (the run's start, epoch ms) -> the match observations to publish
Job = Callable[[int], list[OutputRecord]]


@dataclass(frozen=True, slots=True)
class MatchingSchedule:
    interval_ms: int = 3_600_000
    retry_ms: int = 300_000

    def __post_init__(self) -> None:
        if self.interval_ms <= 0 or self.retry_ms <= 0:
            raise ValueError("the matching interval and retry are positive (0 turns it off "
                             "in the wiring)")

    @property
    def check_seconds(self) -> float:
        return check_seconds(self.interval_ms)


class Runner(BackgroundRunner[[int], list[OutputRecord]]):
    """One matching run at a time in a background thread; ``take`` hands each run's records
    over once."""

    def __init__(self, job: Job) -> None:
        super().__init__(job, "matching")


def _entry(now_ms: int, next_run_at: int, runs: int = 0, matches: int = 0,
           error: str | None = None) -> Value:
    return {"partition": OWNER_PARTITION, "next_run_at": next_run_at, "runs": runs,
            "last_matches": matches, "error": error, "last_event_at": now_ms}


def step(policy: MatchingSchedule, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """Make the schedule's entry from the first record of the owner's partition."""
    return make_entry(SCHEDULE, lambda now: _entry(now, now + policy.interval_ms), events,
                      lookup, now_ms)


def tick(policy: MatchingSchedule, runner: Runner, entries: Sequence[tuple[str, Value]],
         now_ms: int) -> Outcome:
    """Publish a finished run's matches, or start a run that is due."""
    value = dict(entries).get(KEY)
    if value is None:
        return Outcome()
    try:
        done = runner.take()
    except Exception as exc:  # a failed run is tried again later, never quarantined
        log.exception("matching run failed; trying again in %d s", policy.retry_ms // 1000)
        again = _entry(now_ms, now_ms + policy.retry_ms, value["runs"], value["last_matches"],
                       f"{type(exc).__name__}: {exc}")
        return Outcome(changes={SCHEDULE: {KEY: (OWNER_PARTITION, again)}})
    if done is not None:
        log.info("matching run: %d matches published to %s", len(done),
                 names.IDENTITY_OBSERVATIONS)
        after = _entry(now_ms, now_ms + policy.interval_ms, value["runs"] + 1, len(done))
        return Outcome(BatchResult(outputs=list(done)),
                       {SCHEDULE: {KEY: (OWNER_PARTITION, after)}})
    if not runner.busy() and now_ms >= value["next_run_at"]:
        runner.start(now_ms)
    return Outcome()


def stage(policy: MatchingSchedule, job: Job) -> Stage:
    runner = Runner(job)
    return Stage(
        name=NAME,
        inputs=(Input(names.IDENTITY_LINKS, encoding="raw"),),
        step=functools.partial(step, policy),
        tables=(Table(SCHEDULE),),
        timers=(Timer("matching_schedule", policy.check_seconds, SCHEDULE,
                      functools.partial(tick, policy, runner)),),
    )
