"""What the scheduled jobs of the customer domain (the Markov/Shapley attribution, the
probabilistic matching) share: one owner, a schedule entry, a run in a background thread.

Which worker runs a job: exactly one, the one that owns partition 0 of the topic its stage
consumes undecoded (``identity.links``) only so that it has a partition to own. The stage's
table holds one entry (key ``schedule``), made on partition 0 by the first batch that brings a
record of partition 0 (``make_entry``); the stage's timer runs over the entries of the worker's
own partitions, so only the owner finds it, and on a rebalance the entry (the next run's time,
the runs so far) moves with the partition through the table's changelog.

A run takes seconds (reading a month of journeys, fitting models), which must not stall the
worker's event loop, so ``Runner`` runs it in a background thread and a later tick takes the
result.

Invariants:
- at most one run at a time per runner, and ``take`` hands each result (or the error the run
  raised) over exactly once;
- ``make_entry`` changes nothing once the entry exists and never reads what it consumes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final, Generic, ParamSpec, TypeVar

from streams.kernel.stage import Events, Lookup, Outcome, Value

KEY: Final = "schedule"
OWNER_PARTITION: Final = 0

P = ParamSpec("P")
R = TypeVar("R")


def check_seconds(interval_ms: int) -> float:
    """How often a timer looks whether a run is due or done: every 30 s, or four times an
    interval when that is shorter (not below a second)."""
    return max(1.0, min(30.0, interval_ms / 4000))


class Runner(Generic[P, R]):
    """One run of ``work`` at a time in a background thread; ``take`` hands each result over
    once."""

    def __init__(self, work: Callable[P, R], thread_name: str) -> None:
        self._work = work
        self._thread_name = thread_name
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[R] | None = None
        self._lock = threading.Lock()

    def start(self, *args: P.args, **kwargs: P.kwargs) -> None:
        with self._lock:
            if self._future is not None:
                raise RuntimeError(f"a {self._thread_name} run is already under way")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix=self._thread_name)
            self._future = self._pool.submit(self._work, *args, **kwargs)

    def busy(self) -> bool:
        return self._future is not None

    def take(self) -> R | None:
        """The finished run's result, once; None while it runs or when none was started.
        Raises what the run raised."""
        with self._lock:
            future = self._future
            if future is None or not future.done():
                return None
            self._future = None
        return future.result()


def make_entry(table: str, first: Callable[[int], Value], events: Events, lookup: Lookup,
               now_ms: int) -> Outcome:
    """The schedule's entry (``first(now_ms)``), made from the first record of the owner's
    partition."""
    if not any(raw.partition == OWNER_PARTITION for raw in events.raws):
        return Outcome()
    if lookup(table, KEY) is not None:
        return Outcome()
    return Outcome(changes={table: {KEY: (OWNER_PARTITION, first(now_ms))}})


__all__ = ["KEY", "OWNER_PARTITION", "Runner", "check_seconds", "make_entry"]
