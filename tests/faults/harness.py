"""Shared pieces of the fault scenarios: extra workers with their own store and web port,
steady load, exact accounting against what was produced, and the results file.

Accounting is exact: the produced chat events are known (records, and the end offsets of the
topic), and a store is asked for its rows (``FINAL``), its distinct source positions
(partition, offset), its distinct event ids and the rollup counters of its conversations.
``lost`` counts produced events with no row, ``duplicated`` rows beyond one per event id.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.io.query import Querier, worker_holds_store
from streams.kernel.records import OutputRecord
from streams.ops.demo import start_worker
from streams.settings import Settings
from tests.integration import expected

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "latest.json"
RE_READ = "re-reading from"


@dataclass
class Worker:
    """A worker process with its own web port and, unless shared, its own store."""

    settings: Settings
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.proc = start_worker(self.settings, str(self.log), env=self.env)
        return self

    def querier(self) -> Querier:
        return patient_querier(self.settings)


def patient_querier(settings: Settings) -> Querier:
    """A querier that goes through the worker holding the store whenever one does, asked
    patiently. ``Querier`` gives a worker one second to answer; a worker catching up after a
    fault often takes longer, the querier then opens the store directly, the engine refuses
    (the worker holds its lock) with an error that does not say so, and every query of the
    scenario failed until it timed out (the registry scenario's "stall")."""
    q = Querier(settings)
    if not q.via_worker and settings.embedded_clickhouse and worker_holds_store(
            settings, timeout=15.0):
        q.via_worker = True
    return q


def another_worker(base: Settings, env: dict[str, str], log_dir: Path, name: str,
                   port: int, store: Path | None) -> Worker:
    """A worker of the same app (same group) on ``port``; ``store``: its own data directory
    (the embedded engine admits one process per directory)."""
    values: dict[str, Any] = {"web_port": port}
    extra = {"TOUCHSTREAM_WEB_PORT": str(port)}
    if store is not None:
        values["clickhouse_url"] = f"chdb://{store}"
        extra["TOUCHSTREAM_CLICKHOUSE_URL"] = f"chdb://{store}"
    settings = base.model_copy(update=values)
    return Worker(settings, {**env, **extra}, log_dir / f"{name}.log")


class Load:
    """Chat events produced at a steady ``rate`` in a background thread until ``stop`` (or
    ``limit`` events), known customers drawn from ``customers`` people (None: the simulator's
    population); ``records`` holds what was handed to the producer, which waits for
    every acknowledgement before ``stop`` returns. The simulator builds its events before it
    yields the first, about 90 µs an event: they come in chunks of ``CHUNK`` (one seed each),
    the first built before the clock starts."""

    CHUNK = 10_000

    def __init__(self, settings: Settings, rate: float, encode: Any, *, seed: int,
                 limit: int = 10_000_000, customers: int | None = None) -> None:
        self.settings = settings
        self.customers = customers
        self.rate = rate
        self.limit = limit
        self.seed = seed
        self.records: list[OutputRecord] = []
        self._stop = threading.Event()
        self._first = list(chat_load(min(self.CHUNK, limit), seed, customers))
        self.thread = threading.Thread(
            target=produce_records, args=(settings, self._paced()),
            kwargs={"encode": encode, "rate": rate}, daemon=True)
        self.started = 0.0

    def _chunks(self) -> Iterator[list[OutputRecord]]:
        yield self._first
        made, n = len(self._first), 1
        while made < self.limit:
            chunk = list(chat_load(min(self.CHUNK, self.limit - made), self.seed * 1000 + n,
                                   self.customers))
            made, n = made + len(chunk), n + 1
            yield chunk

    def _paced(self) -> Iterator[OutputRecord]:
        for chunk in self._chunks():
            for rec in chunk:
                if self._stop.is_set():
                    return
                self.records.append(rec)
                yield rec

    def start(self) -> Load:
        self.started = time.monotonic()
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()


@dataclass(frozen=True)
class Count:
    produced: int
    landed: int  # rows (FINAL) of the produced events
    lost: int
    duplicated: int
    positions: int  # distinct (partition, offset)
    event_ids: int
    rollup_events: int  # sum of the conversations' event counters
    rollup_exact: bool  # every conversation's counters and status as expected

    def figures(self, recovery_s: float | None) -> dict[str, Any]:
        return {"produced": self.produced, "landed": self.landed, "lost": self.lost,
                "duplicated": self.duplicated, "recovery_s": recovery_s,
                "positions": self.positions, "event_ids": self.event_ids,
                "rollup_events": self.rollup_events, "rollup_exact": self.rollup_exact}


def _paged(querier: Querier, sql: str, page: int = 50_000) -> Iterator[Sequence[Any]]:
    """Every row of ``sql`` (which orders them), a page at a time: a worker's read-only
    ``/sql`` answers at most ``web_query_max_rows`` rows a query."""
    offset = 0
    while True:
        rows = querier.sql(f"{sql} LIMIT {page} OFFSET {offset}").rows
        yield from rows
        if len(rows) < page:
            return
        offset += page


def count(querier: Querier, settings: Settings, records: Sequence[OutputRecord]) -> Count:
    """Exact accounting of the chat events ``records`` in the store ``querier`` reads."""
    physical = settings.topic(topics.CHAT_EVENTS)
    ids = [r.value["event_id"] for r in records]
    rows, distinct_ids, positions = querier.sql(
        "SELECT count(), uniqExact(event_id), uniqExact(_partition, _offset)"
        " FROM chat_events FINAL WHERE _topic = {t:String}", {"t": physical}).rows[0]
    raw_rows = querier.sql("SELECT count() FROM chat_events WHERE _topic = {t:String}",
                           {"t": physical}).rows[0][0]
    want = expected.conversations(list(records))
    got = {r[0]: r[1:] for r in _paged(
        querier, "SELECT conversation_id, events, messages, customer_messages, status"
        " FROM conversations FINAL ORDER BY conversation_id")}
    exact = set(got) == set(want) and all(
        got[c] == (w["events"], w["messages"], w["customer_messages"], w["status"])
        for c, w in want.items())
    produced = len(set(ids))
    del raw_rows  # FINAL rows are what a reader sees; merges collapse the rest
    return Count(produced=produced, landed=int(rows), lost=produced - int(distinct_ids),
                 duplicated=int(rows) - int(distinct_ids), positions=int(positions),
                 event_ids=int(distinct_ids),
                 rollup_events=sum(int(v[0]) for v in got.values()), rollup_exact=exact)


def sunk_everything(querier: Querier, settings: Settings, timeout: float) -> float | None:
    """Seconds until the store holds every offset of chat.events, or None."""
    ends = end_offsets(settings, topics.CHAT_EVENTS)
    physical = settings.topic(topics.CHAT_EVENTS)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            rows = querier.sql(
                "SELECT _partition, uniqExact(_offset) FROM chat_events"
                " WHERE _topic = {t:String} GROUP BY _partition", {"t": physical}).rows
        except Exception:  # the store may be briefly unavailable in a scenario
            rows = []
            querier = patient_querier(settings)
        have = {int(p): int(n) for p, n in rows}
        if all(have.get(p, 0) >= end for p, end in ends.items()):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def sunk_until(querier: Querier, settings: Settings, ends: dict[int, int],
               timeout: float) -> float | None:
    """Seconds until the store holds every offset below ``ends`` (per partition), or None."""
    physical = settings.topic(topics.CHAT_EVENTS)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            rows = querier.sql(
                "SELECT _partition, uniqExact(_offset) FROM chat_events"
                " WHERE _topic = {t:String} GROUP BY _partition", {"t": physical}).rows
        except Exception:  # the store may still be coming back
            rows = []
            querier = patient_querier(settings)
        have = {int(part): int(n) for part, n in rows}
        if all(have.get(part, 0) >= end for part, end in ends.items()):
            return round(time.monotonic() - started, 1)
        time.sleep(0.5)
    return None


def re_reads(log: str) -> dict[tuple[str, str], int]:
    """How often each (partition, offset) re-read was asked for in a worker log."""
    out: dict[tuple[str, str], int] = {}
    for line in log.splitlines():
        if "while" in line and RE_READ in line:
            # "<topic>[<p>]: got offset N while M is next; re-reading from M"
            where = line.split(": got offset")[0].rsplit(" ", 1)[-1]
            offset = line.rsplit(RE_READ, 1)[1].strip()
            out[where, offset] = out.get((where, offset), 0) + 1
    return out


def record(scenario: str, figures: dict[str, Any]) -> None:
    """Merge one scenario's figures into ``latest.json`` under ``faults`` (read, then write
    at once; every other key kept)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("faults", {})[scenario] = figures
    tmp = RESULTS.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(RESULTS)


def chat_load(n: int, seed: int, customers: int | None = None) -> Iterator[OutputRecord]:
    """``n`` simulated chat events; known customers drawn from ``customers`` people (the
    simulator's population when None)."""
    from streams.simulators.chat import CUSTOMER_POOL, conversations

    return conversations(n, seed=seed, customers=customers or CUSTOMER_POOL)
