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
    #: per cycle, chat events held by both stores once the survivor had caught up
    doubled: list[int]


def merged_rollups(stores: list[Querier], records: list[OutputRecord]) -> bool:
    """Every conversation's counters and status as expected, reading for each conversation
    the most advanced row any store holds (with one store per worker, a conversation's last
    row is in the store of the worker that folded its last event)."""
    from tests.integration import expected

    want = expected.conversations(records)
    best = best_rollups(stores)
    return set(best) == set(want) and all(
        best[c] == (w["events"], w["messages"], w["customer_messages"], w["status"])
        for c, w in want.items())


def best_rollups(stores: list[Querier]) -> dict[str, tuple[Any, ...]]:
    best: dict[str, tuple[Any, ...]] = {}
    for q in stores:
        for cid, *rest in q.sql("SELECT conversation_id, events, messages, customer_messages,"
                                " status FROM conversations FINAL").rows:
            if cid not in best or rest[0] > best[cid][0]:
                best[cid] = tuple(rest)
    return best


Positions = dict[int, set[int]]


def positions(store: Querier, p: Pipeline) -> Positions:
    """The chat events' source offsets a store holds, per partition."""
    out: Positions = {}
    for partition, offsets in store.sql(
            "SELECT _partition, groupUniqArray(_offset) FROM chat_events"
            " WHERE _topic = {t:String} GROUP BY _partition",
            {"t": p.settings.topic(topics.CHAT_EVENTS)}).rows:
        out[int(partition)] = {int(o) for o in offsets}
    return out


def union(*stores: Positions) -> Positions:
    out: Positions = {}
    for store in stores:
        for partition, offsets in store.items():
            out.setdefault(partition, set()).update(offsets)
    return out


def both(a: Positions, b: Positions) -> int:
    return sum(len(offsets & b.get(partition, set())) for partition, offsets in a.items())


def caught_up(a_store: Querier, p: Pipeline, left: Positions, ends: dict[int, int],
              timeout: float) -> float | None:
    """Seconds until A's store and ``left`` (the rows of the worker that left) hold every
    offset below ``ends`` between them, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            have = union(positions(a_store, p), left)
        except Exception:  # the store may be briefly unavailable in a scenario
            have = {}
        if all(len([o for o in have.get(part, ()) if o < end]) >= end
               for part, end in ends.items()):
            return round(time.monotonic() - started, 1)
        time.sleep(1.0)
    return None


def count_over(stores: list[Querier], p: Pipeline, records: list[OutputRecord]
               ) -> tuple[harness.Count, int]:
    """Exact accounting of the chat events over several stores, and how many are held by
    more than one: ``lost`` counts produced events no store holds, ``duplicated`` rows
    beyond one per event id within a store (one store's deduplication failing)."""
    from tests.integration import expected

    physical = p.settings.topic(topics.CHAT_EVENTS)
    ids_in: list[set[str]] = []
    landed = duplicated = 0
    for q in stores:
        rows, distinct = q.sql("SELECT count(), uniqExact(event_id) FROM chat_events FINAL"
                               " WHERE _topic = {t:String}", {"t": physical}).rows[0]
        landed += int(rows)
        duplicated += int(rows) - int(distinct)
        # one row per partition: a worker's /sql answers at most web_query_max_rows rows
        ids_in.append({str(i) for _, ids in q.sql(
            "SELECT _partition, groupUniqArray(event_id) FROM chat_events"
            " WHERE _topic = {t:String} GROUP BY _partition", {"t": physical}).rows
            for i in ids})
    produced = {r.value["event_id"] for r in records}
    held = set().union(*ids_in)
    doubled = sum(len(ids) for ids in ids_in) - len(held)
    spread = union(*(positions(q, p) for q in stores))
    want = expected.conversations(records)
    best = best_rollups(stores)
    exact = set(best) == set(want) and all(
        best[c] == (w["events"], w["messages"], w["customer_messages"], w["status"])
        for c, w in want.items())
    count = harness.Count(
        produced=len(produced), landed=landed - doubled, lost=len(produced - held),
        duplicated=duplicated, positions=sum(len(o) for o in spread.values()),
        event_ids=len(held & produced), rollup_events=sum(int(v[0]) for v in best.values()),
        rollup_exact=exact)
    return count, doubled


def workers_join_and_leave(p: Pipeline, tmp: Path, *, rate: float, hold: float,
                           kills: tuple[bool, ...], seed: int = 61,
                           catch_up_s: float = 240.0) -> Outcome:
    """Worker A runs throughout; worker B (its own store: the embedded engine admits one
    process per directory) joins under load, works ``hold`` seconds and leaves, once per
    item of ``kills`` (SIGKILL when True, else SIGTERM): 1 -> 2 -> 1 each time.

    Every event must end in one of the two stores (B's rows stay in B's store: the worker
    that takes a partition over resumes where the other stopped), within each store once,
    and the rollups (the most advanced row of each conversation in either store) must be
    exact: state moved with its partitions. After each cycle it counts the events held by
    both stores: none after a graceful leave; after a SIGKILL, what B had sunk and not yet
    committed or published to its changelogs, read again by A. A cycle whose stores do not
    catch up within ``catch_up_s`` ends the run (recovery None): the stall is found, the
    next cycles would only cost time."""
    p.start_worker()
    b = harness.another_worker(p.settings, p.env, p.log_dir, "worker-b", _free_port(),
                               tmp / "store-b")
    load = harness.Load(p.settings, rate, p.codec.encode, seed=seed).start()
    time.sleep(hold / 2)
    a_store = harness.patient_querier(p.settings)
    recoveries: list[float | None] = []
    doubled: list[int] = []
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
        # recovery: from B gone until the two stores hold all that was produced until then
        # (the load goes on meanwhile); B's store is read while B is away
        left_at = time.monotonic()
        ends = end_offsets(p.settings, topics.CHAT_EVENTS)
        b_store = b.querier()
        try:
            left = positions(b_store, p)
        finally:
            b_store.close()
        recoveries.append(caught_up(a_store, p, left, ends, timeout=catch_up_s))
        doubled.append(both(positions(a_store, p), left) - sum(doubled))  # this cycle's
        if recoveries[-1] is None:
            break
        time.sleep(max(0.0, left_at + hold / 2 - time.monotonic()))
    load.stop()
    records = load.records
    left_load = time.monotonic()
    b_store = b.querier()
    try:
        drained = caught_up(a_store, p, positions(b_store, p),
                            end_offsets(p.settings, topics.CHAT_EVENTS), timeout=catch_up_s)
        count, doubled_total = count_over([a_store, b_store], p, records)
    finally:
        b_store.close()
    recovery = None if None in recoveries or drained is None else max(
        r for r in recoveries if r is not None)
    logs = p.worker_logs()
    figures = count.figures(recovery)
    figures.update(rollup_exact=count.rollup_exact,
                   drained_after_load_s=round(time.monotonic() - left_load, 1),
                   events_per_s=rate, cycles=len(kills), recoveries_s=recoveries,
                   doubled_across_stores=doubled_total, doubled_per_cycle=doubled,
                   stores="one per worker; counted over both")
    return Outcome(count, recovery, harness.re_reads(logs), figures, doubled)
