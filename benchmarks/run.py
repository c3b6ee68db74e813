"""End-to-end benchmarks of each slice on the local broker (`make bench`).

For each slice, on fresh topics:

1. ceiling: a plain confluent-kafka consume loop over a pre-filled topic (events/s);
2. throughput: one worker drains the same backlog into ClickHouse (events/s, measured
   between the first and the last insert, from the rows' ingest times);
3. latency: on fresh topics, traffic at half that rate for a while; produce-to-visible
   latency is each row's ClickHouse ingest time minus its Kafka (producer) timestamp.

The ``runtime`` slice measures the runtime's own cost: a no-op stage
(``benchmarks.noop_worker``) on ``ad.metrics`` drained by one worker, with a minimal
ClickHouse row per event (the rate, as above), then without a sink (``nosink_*``) and
without decoding either (``raw_*``), those two rates from the worker's ``events.processed``
counter; no latency run. With ``--peer`` (default) the ``chat`` and ``runtime`` backlogs are
also read by an idiomatic Faust agent (``benchmarks.peer_faust``):
``peer_faust_events_per_s``. See ``benchmarks/README.md``.

Writes ``benchmarks/results/latest.json`` (or ``--output``) and prints a table.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import itertools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Consumer, Producer

from benchmarks import noop_worker
from benchmarks.peer_faust import PeerProgress
from streams import topics
from streams.contract.codec import AvroCodec
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, delete_topics_with_prefix, end_offsets
from streams.io.positions import sunk_next
from streams.io.producer import TokenBucket, producer_config
from streams.io.query import Querier, worker_alive, worker_url
from streams.kernel.paths import PROJECT_ROOT
from streams.kernel.records import OutputRecord
from streams.ops.demo import SINK_TABLES, stop_worker
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations

RESULTS = PROJECT_ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Slice:
    name: str
    topic: str
    table: str
    events: int
    pool: int
    agent: str
    #: ``python -m`` arguments of the slice's worker
    worker: tuple[str, ...] = ("streams.cli", "worker")
    #: the tables whose ``_offset`` tells how far the topic is sunk
    sunk: tuple[str, ...] = ()
    #: slices with a peer (``benchmarks.peer_faust``) and with a latency run
    peer: bool = False
    latency: bool = True
    #: events the peer handles from the start of the backlog (it is ten to a hundred
    #: times slower than the worker: a rate, not a whole drain)
    peer_events: int = 0
    #: the pool holds distinct rows (no restated interval, at least as many records as the
    #: backlog): a repeat replaces its row in a ReplacingMergeTree, and a drain measured from
    #: the rows would count events that left none
    distinct: bool = False


SLICES = {
    # every chat event is distinct: the stage drops an event id it has absorbed (a producer
    # duplicate), and a duplicate writes no row for the drain to be measured by
    "chat": Slice("chat", topics.CHAT_EVENTS, "chat_events", 120_000, 120_000, "chat_events",
                  sunk=tuple(SINK_TABLES[topics.CHAT_EVENTS]), peer=True, peer_events=40_000),
    # every ad row is distinct (campaign, level, entity, device, hour): a repeat of the pool
    # or a restated interval merges away in campaign_kpis, and the drain counts rows
    "ad": Slice("ad", topics.AD_METRICS, "campaign_kpis", 300_000, 300_000, "ad_metrics",
                sunk=tuple(SINK_TABLES[topics.AD_METRICS]), distinct=True),
    "runtime": Slice("runtime", noop_worker.TOPIC, noop_worker.TABLE, 1_000_000, 40_000,
                     noop_worker.NAME, worker=("benchmarks.noop_worker", "--variant", "sink"),
                     sunk=(noop_worker.TABLE,), peer=True, latency=False, peer_events=200_000),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def encoded_pool(s: Slice, codec: AvroCodec) -> list[tuple[bytes, bytes]]:
    if s.name == "chat":
        records = list(conversations(s.pool, seed=17))
    elif s.distinct:
        records = distinct_ad_metrics(s.pool)
    else:
        records = list(ad_metrics(s.pool, seed=17))
    return [(r.key.encode(), codec.encode(r.topic, r.value)) for r in records]


def distinct_ad_metrics(count: int) -> list[OutputRecord]:
    """``count`` simulated ad rows of as many distinct ``campaign_kpis`` keys: the first report
    of each interval (its restatements, about 3 %, are left out)."""
    seen: set[tuple[Any, ...]] = set()
    out: list[OutputRecord] = []
    for record in ad_metrics(int(count * 1.05) + 100, seed=17):
        v = record.value
        key = (v["platform"], v["account_id"], v["campaign_id"], v["level"], v["ad_group_id"],
               v["ad_id"], v["device"], v["interval_start"])
        if key not in seen:
            seen.add(key)
            out.append(record)
    if len(out) < count:
        raise RuntimeError(f"only {len(out)} distinct ad rows for a pool of {count}")
    return out[:count]


def produce(settings: Settings, topic: str, pool: list[tuple[bytes, bytes]], count: int,
            rate: float | None = None, late: list[float] | None = None) -> float:
    """Produce ``count`` messages cycling over the pool; returns seconds taken. With ``rate``
    and ``late``, every 64th message appends how many seconds after its place in the
    schedule (``i / rate`` from the start) it was handed to the producer: whether the
    producer kept the rate, or sent late and in bursts."""
    producer = Producer({**producer_config(settings), "linger.ms": 5 if rate else 20})
    physical = settings.topic(topic)
    bucket = TokenBucket(rate) if rate else None
    started = time.monotonic()
    for i, (key, value) in enumerate(itertools.islice(itertools.cycle(pool), count)):
        if bucket is not None:
            bucket.acquire()
            if late is not None and not i % 64:
                late.append(time.monotonic() - started - i / bucket.rate)
        while True:
            try:
                producer.produce(physical, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("benchmark messages were not delivered")
    return time.monotonic() - started


def ceiling(settings: Settings, topic: str, count: int) -> float:
    """Events/s of a plain confluent-kafka consume loop reading the backlog from the start."""
    consumer = Consumer({
        **settings.kafka_client_config(), "group.id": f"ceiling-{uuid.uuid4().hex[:6]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "fetch.max.bytes": 52428800, "queued.max.messages.kbytes": 262144,
    })
    consumer.subscribe([settings.topic(topic)])
    seen = 0
    started: float | None = None
    while seen < count:
        batch = consumer.consume(num_messages=10_000, timeout=1.0)
        if batch and started is None:
            started = time.monotonic()
        seen += sum(1 for m in batch if m.error() is None)
    assert started is not None
    elapsed = time.monotonic() - started
    consumer.close()
    return count / elapsed


def drop_topics(settings: Settings) -> None:
    """The run's topics and its worker's changelogs: nothing of a run stays on the broker."""
    delete_topics_with_prefix(settings, settings.topic_prefix, settings.app_id + "-")


def isolated(base: Path, name: str) -> tuple[Settings, dict[str, str]]:
    run = uuid.uuid4().hex[:6]
    values = {
        "topic_prefix": f"bench{run}.",
        "app_id": f"touchstream-bench-{name}-{run}",
        "clickhouse_url": f"chdb://{base / (name + '-' + run)}",
        "web_port": str(_free_port()),
        "log_level": "WARNING",
    }
    env = {f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()}
    return Settings(**values), env  # type: ignore[arg-type]


def sibling(settings: Settings, env: dict[str, str], suffix: str
            ) -> tuple[Settings, dict[str, str]]:
    """Another consumer of the same topics: its own group (``app_id``, under the run's, so
    ``drop_topics`` removes its changelogs too), data directory and web port."""
    values = {
        "topic_prefix": settings.topic_prefix,
        "app_id": f"{settings.app_id}-{suffix}",
        "clickhouse_url": f"{settings.clickhouse_url}-{suffix}",
        "web_port": str(_free_port()),
        "log_level": settings.log_level,
    }
    return (Settings(**values),  # type: ignore[arg-type]
            {**env, **{f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()}})


def launch(module: Sequence[str], settings: Settings, log_path: str,
           env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -m <module...>`` in its own session, once its ``/health`` answers with its
    app id (as ``streams.ops.demo.start_worker`` starts ``touchstream worker``)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", *module], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **env}, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{module[0]} exited with {proc.returncode}; see {log_path}")
        if worker_alive(settings):
            return proc
        time.sleep(0.5)
    stop_worker(proc)
    raise RuntimeError(f"{module[0]} did not come up within 120 s; see {log_path}")


def wait_sunk(q: Querier, settings: Settings, s: Slice, ends: dict[int, int],
              timeout: float) -> bool:
    """Whether every partition of the slice's topic is sunk up to ``ends`` within
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sunk = sunk_next(q.sql, settings.topic(s.topic), s.sunk, list(ends))
        if all(sunk.get(p, 0) >= end for p, end in ends.items()):
            return True
        time.sleep(0.5)
    return False


def throughput(s: Slice, base: Path, pool: list[tuple[bytes, bytes]],
               peer: bool = False) -> dict[str, float]:
    """Fill the slice's topic, read it with the plain loop (ceiling), drain it with the
    slice's worker (and, for ``runtime``, the sink-less no-op worker; with ``peer``, the
    idiomatic Faust agent), one after the other."""
    settings, env = isolated(base, s.name)
    create_topics(settings)
    try:
        produce(settings, s.topic, pool, s.events)
        figures: dict[str, float] = {"ceiling_events_per_s": ceiling(settings, s.topic, s.events)}
        figures.update(drain(s, base, settings, env, s.worker))
        if s.name == "runtime":
            for variant in ("nosink", "raw"):
                counted = counted_drain(s, base, variant, *sibling(settings, env, variant))
                figures.update({f"{variant}_{k}": v for k, v in counted.items()})
        if peer and s.peer:
            peer_figures = peer_drain(s, base, *sibling(settings, env, "peer"))
            figures.update({f"peer_faust_{k}": v for k, v in peer_figures.items()})
    finally:
        drop_topics(settings)
    return figures


def drain(s: Slice, base: Path, settings: Settings, env: dict[str, str],
          worker_module: Sequence[str]) -> dict[str, float]:
    """One worker drains the backlog into ClickHouse: events/s between the first and the
    last insert, and the CPU spent over that span."""
    worker = launch(worker_module, settings, str(base / f"{s.name}-throughput.log"), env)
    broker = kafka_local.status(settings).pid
    sampler = CpuSampler(worker.pid, broker)
    sampler.start()
    try:
        q = Querier(settings)
        if not wait_sunk(q, settings, s, end_offsets(settings, s.topic), timeout=900):
            raise RuntimeError(f"{s.name}: backlog not drained")
        sampler.stop()
        inside = worker_latencies(settings)
        steps = inside[f"{s.agent}.step_events"]
        writes = {f"write_{k}": inside[f"{s.agent}.write"][k] for k in ("p50_ms", "p99_ms")}
        writes["write_events_p50"] = inside[f"{s.agent}.write_events"]["p50_ms"]
        first, last, first_rows, rows_left = q.sql(
            "SELECT min(t), max(t), countIf(t = (SELECT min(toUnixTimestamp64Milli(_ingested_at)) "
            f"FROM {s.table})), count() FROM (SELECT toUnixTimestamp64Milli(_ingested_at) AS t "
            f"FROM {s.table})"
        ).rows[0]
    finally:
        stop_worker(worker)
    span = (int(last) - int(first)) / 1000
    drained = s.events - int(first_rows)
    rate = drained / span if span > 0 else float("nan")
    # the CPU spent over the same span as the rate (the first to the last insert)
    cpu = cpu_per_event(sampler, int(first) / 1000, int(last) / 1000, drained)
    # rows the table still holds: a ReplacingMergeTree that folded repeated keys would have
    # dropped some of the first inserts' rows, and the span with them (a distinct pool: all)
    return {"events_per_s": rate, **cpu,
            "step_events_p50": steps["p50_ms"], "step_events_p99": steps["p99_ms"], **writes,
            "rows_left": float(rows_left)}


def cpu_per_event(sampler: CpuSampler, start: float, end: float, events: int
                  ) -> dict[str, float]:
    cpu_first, cpu_last = sampler.at(start), sampler.at(end)
    return {f"{who}_cpu_us_per_event": round((cpu_last[who] - cpu_first[who]) / events * 1e6, 1)
            for who in cpu_first}


def progress_rate(readings: Sequence[tuple[float, int]], total: int
                  ) -> tuple[float, float, float, int]:
    """From readings (time, events done so far) of a drain of ``total`` events: the rate
    between the first reading with events done and the first with all of them, that span's
    start and end, and the events counted over it."""
    start = next(((t, n) for t, n in readings if n > 0), None)
    end = next(((t, n) for t, n in readings if n >= total), None)
    if start is None or end is None:
        raise ValueError(f"the readings do not cover a drain of {total} events")
    events = end[1] - start[1]
    span = end[0] - start[0]
    return (events / span if span > 0 else float("nan")), start[0], end[0], events


def counted_drain(s: Slice, base: Path, variant: str, settings: Settings,
                  env: dict[str, str]) -> dict[str, float]:
    """A sink-less variant of the no-op worker drains the backlog: events/s from its counter
    of events processed (durable and acknowledged), read every 0.05 s."""
    worker = launch(("benchmarks.noop_worker", "--variant", variant), settings,
                    str(base / f"{s.name}-{variant}.log"), env)
    sampler = CpuSampler(worker.pid, kafka_local.status(settings).pid)
    sampler.start()
    readings: list[tuple[float, int]] = []
    try:
        deadline = time.monotonic() + 900
        while not readings or readings[-1][1] < s.events:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{s.name}: backlog not drained without a sink")
            readings.append((time.time(), noop_worker.processed(worker_stats(settings))))
            time.sleep(0.05)
        time.sleep(0.25)  # a CPU reading after the end
        sampler.stop()
    finally:
        stop_worker(worker)
    rate, start, end, events = progress_rate(readings, s.events)
    return {"events_per_s": rate, **cpu_per_event(sampler, start, end, events)}


def peer_drain(s: Slice, base: Path, settings: Settings, env: dict[str, str]
               ) -> dict[str, float]:
    """The idiomatic Faust agent drains the backlog: events/s between its first and its
    last event, and its CPU over that span."""
    peer = launch(("benchmarks.peer_faust", "--slice", s.name), settings,
                  str(base / f"{s.name}-peer.log"), env)
    sampler = CpuSampler(peer.pid, kafka_local.status(settings).pid)
    sampler.start()
    try:
        deadline = time.monotonic() + 1800
        while True:
            with urllib.request.urlopen(worker_url(settings) + "/count", timeout=30) as resp:
                progress = PeerProgress.from_json(json.loads(resp.read()))
            if progress.events >= s.peer_events:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{s.name}: the peer handled {progress.events} of "
                                   f"{s.peer_events} events")
            time.sleep(0.5)
        time.sleep(0.25)  # a CPU reading after the end
        sampler.stop()
    finally:
        stop_worker(peer)
    assert progress.first is not None and progress.last is not None
    cpu = cpu_per_event(sampler, progress.first, progress.last, progress.events - 1)
    return {"events_per_s": progress.rate(), "events": float(progress.events),
            "worker_cpu_us_per_event": cpu["worker_cpu_us_per_event"]}


class CpuSampler:
    """``cpu_seconds`` every ``interval`` seconds on a thread, with the wall-clock time of
    each reading: ``at(t)`` interpolates the readings at time ``t`` (seconds since the
    epoch), so CPU can be taken over exactly the span a rate was measured on (not the time
    until the end of a drain is noticed, when the engine may still be merging)."""

    def __init__(self, worker: int, broker: int | None, interval: float = 0.1) -> None:
        self._pids = (worker, broker)
        self._interval = interval
        self._readings: list[tuple[float, dict[str, float]]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self._readings.append((time.time(), cpu_seconds(*self._pids)))
            if self._done.wait(self._interval):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def at(self, t: float) -> dict[str, float]:
        readings = self._readings
        times = [when for when, _ in readings]
        i = bisect.bisect_left(times, t)
        if i == 0 or i == len(readings):
            raise RuntimeError(f"no CPU readings around {t}")
        (t0, before), (t1, after) = readings[i - 1], readings[i]
        share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return {who: before[who] + share * (after[who] - before[who]) for who in before}


def cpu_seconds(worker: int, broker: int | None) -> dict[str, float]:
    """CPU seconds (user + system, all threads) the worker, the broker and the whole machine
    have spent so far: while a backlog drains, their growth per event says where the cores
    go."""
    tick = os.sysconf("SC_CLK_TCK")

    def process(pid: int | None) -> float:
        if pid is None:
            return float("nan")
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    machine = sum(int(v) for i, v in enumerate(busy) if i not in (3, 4)) / tick  # not idle/iowait
    return {"worker": process(worker), "broker": process(broker), "machine": machine}


def latency(s: Slice, base: Path, pool: list[tuple[bytes, bytes]], rate: float,
            seconds: float) -> dict[str, float]:
    settings, env = isolated(base, s.name + "-latency")
    create_topics(settings)
    worker = launch(s.worker, settings, str(base / f"{s.name}-latency.log"), env)
    try:
        q = Querier(settings)
        # let the consumer group settle before the clock starts
        # (a distinct pool warms up on its last records, which the run does not repeat)
        produce(settings, s.topic, pool[-100:] if s.distinct else pool[:100], 100)
        wait_sunk(q, settings, s, end_offsets(settings, s.topic), timeout=120)
        count = int(rate * seconds)
        late: list[float] = []
        load_before = os.getloadavg()[0]
        took = produce(settings, s.topic, pool, count, rate=rate, late=late)
        load_after = os.getloadavg()[0]
        if not wait_sunk(q, settings, s, end_offsets(settings, s.topic), timeout=300):
            raise RuntimeError(f"{s.name}: latency run not drained")
        p50, p99, n = q.sql(
            "SELECT quantileExact(0.5)(d), quantileExact(0.99)(d), count() FROM ("
            "SELECT toUnixTimestamp64Milli(_ingested_at) - toUnixTimestamp64Milli(_kafka_ts) AS d "
            f"FROM {s.table} WHERE _offset >= 0) "
        ).rows[0]
        inside = worker_latencies(settings)
    finally:
        stop_worker(worker)
        drop_topics(settings)
    late.sort()
    return {"p50_ms": float(p50), "p99_ms": float(p99), "latency_rate_events_per_s": count / took,
            "latency_events": float(n),
            "processing_p50_ms": inside[f"{s.agent}.processing"]["p50_ms"],
            "processing_p99_ms": inside[f"{s.agent}.processing"]["p99_ms"],
            "processing_cpu_p50_ms": inside[f"{s.agent}.processing_cpu"]["p50_ms"],
            "processing_cpu_p99_ms": inside[f"{s.agent}.processing_cpu"]["p99_ms"],
            "in_worker_p99_ms": inside[f"{s.agent}.in_worker"]["p99_ms"],
            "cost_per_message_p99_ms": inside[f"{s.agent}.cost_per_message"]["p99_ms"],
            "in_worker_p50_ms": inside[f"{s.agent}.in_worker"]["p50_ms"],
            "write_p50_ms": inside[f"{s.agent}.write"]["p50_ms"],
            "write_p99_ms": inside[f"{s.agent}.write"]["p99_ms"],
            "write_events_p50": inside[f"{s.agent}.write_events"]["p50_ms"],
            "step_events_p50": inside[f"{s.agent}.step_events"]["p50_ms"],
            "write_sink_p50_ms": inside[f"{s.agent}.write_sink"]["p50_ms"],
            "write_publish_p50_ms": inside[f"{s.agent}.write_publish"]["p50_ms"],
            **where_time_went(inside, s.agent),
            "producer_late_p50_ms": late[len(late) // 2] * 1000.0 if late else float("nan"),
            "producer_late_p99_ms": (late[int(len(late) * 0.99)] * 1000.0 if late
                                     else float("nan")),
            "producer_late_max_ms": late[-1] * 1000.0 if late else float("nan"),
            "load_average_1m_before": load_before, "load_average_1m_after": load_after}


#: the worker's histograms that say where a message's time went (``/stats``), as
#: ``<label>_p50_ms`` / ``_p99_ms`` in the latency figures
WHERE: Final = ("before_worker", "step_buffered", "write_sink", "write_publish",
                "write_queued", "produce_to_durable")


def where_time_went(inside: dict[str, dict[str, float]], agent: str) -> dict[str, float]:
    """From the worker's histograms: produce to arrival in the worker, a step's wait in the
    buffer, a part's wait for its write, the write's two halves, and how many steps were
    taken while the agent was behind (``steps_behind`` of ``steps``)."""
    out: dict[str, float] = {}
    for label in WHERE:
        figures = inside.get(f"{agent}.{label}")
        if figures is not None:
            out[f"{label}_p50_ms"] = figures["p50_ms"]
            out[f"{label}_p99_ms"] = figures["p99_ms"]
    out["write_events_p99"] = inside[f"{agent}.write_events"]["p99_ms"]
    out["steps"] = inside[f"{agent}.step_events"]["count"]
    out["steps_behind"] = inside.get(f"{agent}.step_events_behind", {}).get("count", 0.0)
    out["writes"] = inside[f"{agent}.write"]["count"]
    return out


def worker_stats(settings: Settings) -> dict[str, Any]:
    with urllib.request.urlopen(worker_url(settings) + "/stats", timeout=30) as resp:
        stats: dict[str, Any] = json.loads(resp.read())
    return stats


def worker_latencies(settings: Settings) -> dict[str, dict[str, float]]:
    """The worker's own latency histograms (``/stats``): per message, the computation of
    its batch (``processing``) and arrival in the worker to durable (``in_worker``)."""
    latencies: dict[str, dict[str, float]] = worker_stats(settings)["latency_ms"]
    return latencies


def calibration_seconds() -> float:
    """Seconds for a fixed pure-Python loop (best of three): a shared or throttled machine runs
    it up to twice as slowly, and every figure of the run with it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(), "kafka": Settings().kafka_version,
        "os": platform.platform(), "date": time.strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", default="chat,ad")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply event counts.")
    parser.add_argument("--rate", type=float, default=None,
                        help="Only the latency run, at this many events/s (prints, does not "
                        "write latest.json).")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="Also drain the chat and runtime backlogs with an idiomatic Faust "
                        "agent (benchmarks.peer_faust).")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json",
                        help="The JSON file the figures are merged into.")
    args = parser.parse_args(argv)
    base_settings = Settings()
    started_kafka = not kafka_local.status(base_settings).answering
    if started_kafka:
        kafka_local.up(base_settings)
    base = Path(tempfile.mkdtemp(prefix="touchstream-bench-"))
    results: dict[str, Any] = {"machine": machine(), "slices": {}}
    results["machine"]["calibration_loop_s_before"] = calibration_seconds()
    try:
        for name in args.slices.split(","):
            s = SLICES[name]
            s = dataclasses.replace(s, events=int(s.events * args.scale),
                                    peer_events=min(int(s.peer_events * args.scale),
                                                    int(s.events * args.scale)))
            if s.distinct:  # the backlog never repeats the pool
                s = dataclasses.replace(s, pool=max(s.pool, s.events))
            probe, _ = isolated(base, "probe")
            pool = encoded_pool(s, AvroCodec.from_settings(probe))
            if args.rate:
                print(f"[{name}] latency at {args.rate:,.0f}/s…", flush=True)
                lat = latency(s, base, pool, args.rate, args.latency_seconds)
                print(json.dumps({name: lat}, indent=1))
                continue
            print(f"[{name}] throughput over {s.events} events…", flush=True)
            tp = throughput(s, base, pool, peer=args.peer)
            half = tp["events_per_s"] / 2
            print(f"[{name}] {tp['events_per_s']:,.0f} events/s (CPU µs an event: worker "
                  f"{tp['worker_cpu_us_per_event']}, broker {tp['broker_cpu_us_per_event']}, "
                  f"machine {tp['machine_cpu_us_per_event']})"
                  + (f"; latency at {half:,.0f}/s…" if s.latency else ""), flush=True)
            if not s.latency:
                results["slices"][name] = runtime_figures(s, tp)
                continue
            lat = latency(s, base, pool, half, args.latency_seconds)
            results["slices"][name] = {
                "events_per_s": round(tp["events_per_s"]),
                "p50_ms": round(lat["p50_ms"], 1),
                "p99_ms": round(lat["p99_ms"], 1),
                "ceiling_events_per_s": round(tp["ceiling_events_per_s"]),
                "ratio": round(tp["events_per_s"] / tp["ceiling_events_per_s"], 4),
                **{k: v for k, v in tp.items() if k.endswith("_cpu_us_per_event")
                   and not k.startswith("peer_")},
                "events": s.events,
                "latency_rate_events_per_s": round(lat["latency_rate_events_per_s"]),
                "processing_p50_ms": lat["processing_p50_ms"],
                "processing_p99_ms": lat["processing_p99_ms"],
                "processing_cpu_p50_ms": lat["processing_cpu_p50_ms"],
                "processing_cpu_p99_ms": lat["processing_cpu_p99_ms"],
                "in_worker_p99_ms": lat["in_worker_p99_ms"],
                "cost_per_message_p99_ms": lat["cost_per_message_p99_ms"],
                "in_worker_p50_ms": lat["in_worker_p50_ms"],
                "write_p50_ms": lat["write_p50_ms"],
                "write_p99_ms": lat["write_p99_ms"],
                "write_events_p50": lat["write_events_p50"],
                "step_events_p50": lat["step_events_p50"],
                "drain_step_events_p50": tp["step_events_p50"],
                "drain_step_events_p99": tp["step_events_p99"],
                "drain_write_p50_ms": tp["write_p50_ms"],
                "drain_write_p99_ms": tp["write_p99_ms"],
                "drain_write_events_p50": tp["write_events_p50"],
                "drain_rows_left": int(tp["rows_left"]),
                **{k: lat[k] for k in LATENCY_DETAIL if k in lat},
                **peer_figures(tp),
            }
    finally:
        if started_kafka:
            kafka_local.down(base_settings)
        shutil.rmtree(base, ignore_errors=True)
    results["machine"]["calibration_loop_s_after"] = calibration_seconds()
    if args.rate:
        return results
    merged = update_latest(lambda previous: {
        **previous, **results, "slices": {**previous.get("slices", {}), **results["slices"]}},
        args.output)
    print_table(merged)
    return merged


#: latency figures recorded besides the headline ones: where a message's time went
LATENCY_DETAIL: Final = (
    *(f"{label}_{q}_ms" for label in WHERE for q in ("p50", "p99")),
    "write_sink_p50_ms", "write_publish_p50_ms", "write_events_p99", "steps", "steps_behind",
    "writes", "producer_late_p50_ms", "producer_late_p99_ms", "producer_late_max_ms",
    "load_average_1m_before", "load_average_1m_after")


def peer_figures(tp: dict[str, float]) -> dict[str, float]:
    """The peer's figures of a drain, and how much faster the worker drained the backlog."""
    if "peer_faust_events_per_s" not in tp:
        return {}
    peer = tp["peer_faust_events_per_s"]
    return {"peer_faust_events_per_s": round(peer),
            "peer_faust_events": int(tp["peer_faust_events"]),
            "peer_faust_worker_cpu_us_per_event": tp["peer_faust_worker_cpu_us_per_event"],
            "speedup_over_peer": round(tp["events_per_s"] / peer, 2)}


def runtime_figures(s: Slice, tp: dict[str, float]) -> dict[str, Any]:
    """The ``runtime`` slice in ``latest.json``."""
    return {
        "events_per_s": round(tp["events_per_s"]),
        "worker_cpu_us_per_event": tp["worker_cpu_us_per_event"],
        "ceiling_events_per_s": round(tp["ceiling_events_per_s"]),
        "ratio": round(tp["events_per_s"] / tp["ceiling_events_per_s"], 4),
        **{k: v for k, v in tp.items() if k.endswith("_cpu_us_per_event")
           and not k.startswith(("nosink_", "raw_", "peer_"))},
        "events": s.events,
        "drain_step_events_p50": tp["step_events_p50"],
        "nosink_events_per_s": round(tp["nosink_events_per_s"]),
        "nosink_worker_cpu_us_per_event": tp["nosink_worker_cpu_us_per_event"],
        "nosink_ratio": round(tp["nosink_events_per_s"] / tp["ceiling_events_per_s"], 4),
        "raw_events_per_s": round(tp["raw_events_per_s"]),
        "raw_worker_cpu_us_per_event": tp["raw_worker_cpu_us_per_event"],
        "raw_ratio": round(tp["raw_events_per_s"] / tp["ceiling_events_per_s"], 4),
        **peer_figures(tp),
        "stage": "benchmarks.noop_worker on ad.metrics: Avro decode, position guard, group "
                 "commit, a 4-column row per event into ClickHouse; nosink_*: no rows; raw_*: "
                 "no rows and no decoding",
    }


def update_latest(change: Callable[[dict[str, Any]], dict[str, Any]],
                  out: Path = RESULTS / "latest.json") -> dict[str, Any]:
    """Rewrite ``out`` as ``change`` makes it from what it holds."""
    merged = change(json.loads(out.read_text()) if out.exists() else {})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


def print_table(results: dict[str, Any]) -> None:
    header = (f"{'slice':<7} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'proc p99':>9} "
              f"{'ceiling/s':>11} {'ratio':>7} {'peer/s':>9}")
    print(header)
    print("-" * len(header))
    for name, r in results["slices"].items():
        if "ceiling_events_per_s" not in r:
            continue
        print(f"{name:<7} {r['events_per_s']:>10,} {r.get('p50_ms', '—'):>8} "
              f"{r.get('p99_ms', '—'):>8} "
              f"{r.get('processing_p99_ms', '—'):>9} {r['ceiling_events_per_s']:>11,} "
              f"{r['ratio']:>7} {r.get('peer_faust_events_per_s', '—'):>9}")
    print(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores")


if __name__ == "__main__":
    main()
