"""The fault scenarios as functions of their durations, so ``make faults`` runs them long and
``make test`` runs a short version of one (``tests/integration/test_rebalance.py``)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
from tests.faults import harness
from tests.integration.conftest import Pipeline, _free_port


@dataclass(frozen=True)
class Outcome:
    count: harness.Count
    recovery_s: float | None
    re_reads: dict[tuple[str, str], int]
    figures: dict[str, Any]


def merged_rollups(stores: list[Querier], records: list[OutputRecord]) -> bool:
    """Every conversation's counters and status as expected, reading for each conversation
    the most advanced row any store holds (with one store per worker, a conversation's last
    row is in the store of the worker that folded its last event)."""
    from tests.integration import expected

    want = expected.conversations(records)
    best: dict[str, tuple[Any, ...]] = {}
    for q in stores:
        for cid, *rest in q.sql("SELECT conversation_id, events, messages, customer_messages,"
                                " status FROM conversations FINAL").rows:
            if cid not in best or rest[0] > best[cid][0]:
                best[cid] = tuple(rest)
    return set(best) == set(want) and all(
        best[c] == (w["events"], w["messages"], w["customer_messages"], w["status"])
        for c, w in want.items())


def workers_join_and_leave(p: Pipeline, tmp: Path, *, rate: float, hold: float,
                           kills: tuple[bool, ...], seed: int = 61) -> Outcome:
    """Worker A runs throughout; worker B (its own store: the embedded engine admits one
    process per directory) joins under load, works ``hold`` seconds and leaves, once per
    item of ``kills`` (SIGKILL when True, else SIGTERM): 1 -> 2 -> 1 each time. Everything
    must end in A's store exactly once, and the rollups (the most advanced row of each
    conversation in either store) must be exact: state moved with its partitions."""
    p.start_worker()
    b = harness.another_worker(p.settings, p.env, p.log_dir, "worker-b", _free_port(),
                               tmp / "store-b")
    load = harness.Load(p.settings, rate, p.codec.encode, seed=seed).start()
    time.sleep(hold / 2)
    a_store = p.querier()
    recoveries: list[float | None] = []
    for kill in kills:
        b.start()
        time.sleep(hold)
        assert b.proc is not None
        if kill:
            os.killpg(b.proc.pid, signal.SIGKILL)
            b.proc.wait()
        else:
            b.proc.send_signal(signal.SIGTERM)
            b.proc.wait(60)
        # recovery: from B gone until A's store holds all that was produced until then
        # (the load goes on meanwhile)
        left_at = time.monotonic()
        ends = end_offsets(p.settings, topics.CHAT_EVENTS)
        recoveries.append(harness.sunk_until(a_store, p.settings, ends, timeout=240))
        time.sleep(max(0.0, left_at + hold / 2 - time.monotonic()))
    load.stop()
    records = load.records
    left = time.monotonic()
    drained = harness.sunk_everything(a_store, p.settings, timeout=240)
    recovery = None if None in recoveries or drained is None else max(
        r for r in recoveries if r is not None)
    count = harness.count(a_store, p.settings, records)
    logs = p.worker_logs()
    b_store = b.querier()
    try:
        exact = merged_rollups([a_store, b_store], records)
    finally:
        b_store.close()
    figures = count.figures(recovery)
    figures.update(rollup_exact=exact, drained_after_load_s=round(time.monotonic() - left, 1),
                   events_per_s=rate, cycles=len(kills), recoveries_s=recoveries)
    return Outcome(count, recovery, harness.re_reads(logs), figures)
