"""Fault scenarios under steady load, with exact accounting and the recovery time, written
to ``benchmarks/results/latest.json`` under ``faults``. ``make faults`` runs them.

Durations are settings of the run (environment): ``TOUCHSTREAM_SOAK_SECONDS`` (default
1800: the 30-minute soak), ``TOUCHSTREAM_FAULT_RATE`` (events/s of the steady load, default
600), ``TOUCHSTREAM_FAULT_HOLD_SECONDS`` (how long a second worker stays, default 20),
``TOUCHSTREAM_SOAK_RETENTION_SECONDS`` (unset: the worker's defaults; set, the soak's worker
keeps a closed conversation that long, with an inactivity timeout of a third of it). The
worker's memory holds every conversation of the last retention period, so a flat line shows
only in a run longer than that: six hours at the defaults. With a short retention, events of a
simulated conversation can arrive after it timed out and left the tables, which starts its
record again, so the rollups are then reported, not checked (nothing lost or doubled still is).
Per-person state (the profile's 500 seen event ids, 200 journey touchpoints and 50 recent
events, a workflow subject's 64 seen event ids) also grows
until it reaches its caps: the simulated population of about 20,000 people takes longer than
30 minutes to fill them at the soak's rates, so the heaps still grow at the end of a run whose
tables hold a level number of entries; the report separates heaps from mapped files and counts
the entries each minute to show it. ``TOUCHSTREAM_SOAK_CUSTOMERS`` (unset: the simulator's
20,000) draws the known customers from fewer people, so that each person's state reaches its
caps early in the run (about 500 chat touchpoints each) and the second half shows whether
memory is then level. Unknown customers
(no customer id) make no person: a chat becomes a touchpoint by its customer id only.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.io import kafka_local, registry_local
from streams.io.kafka_admin import create_topics, delete_topics_with_prefix, end_offsets
from streams.io.query import Querier
from streams.settings import Settings
from streams.simulators.chat import CUSTOMER_POOL
from tests.faults import harness, scenarios
from tests.integration.conftest import Pipeline, _free_port

pytestmark = pytest.mark.faults

RATE = float(os.environ.get("TOUCHSTREAM_FAULT_RATE", "600"))
HOLD = float(os.environ.get("TOUCHSTREAM_FAULT_HOLD_SECONDS", "20"))
SOAK_SECONDS = float(os.environ.get("TOUCHSTREAM_SOAK_SECONDS", "1800"))
SOAK_RETENTION = float(os.environ.get("TOUCHSTREAM_SOAK_RETENTION_SECONDS", "0")) or None
SOAK_CUSTOMERS = int(os.environ.get("TOUCHSTREAM_SOAK_CUSTOMERS", "0")) or None


def store(p: Pipeline) -> Querier:
    """The pipeline's store, through its worker when one holds it (asked patiently)."""
    return harness.patient_querier(p.settings)


def sunk_since(p: Pipeline, ends: dict[int, int], timeout: float) -> float | None:
    return harness.sunk_until(store(p), p.settings, ends, timeout)


def report(name: str, count: harness.Count, recovery_s: float | None, **extra: object
           ) -> dict[str, object]:
    figures = count.figures(recovery_s)
    figures.update(extra)
    harness.record(name, figures)
    print(name, figures)
    return figures


def check(count: harness.Count) -> None:
    assert count.lost == 0, count
    assert count.duplicated == 0, count
    assert count.positions == count.produced, count
    assert count.rollup_exact, count


@pytest.mark.timeout(900)
@pytest.mark.parametrize("kill", [False, True], ids=["graceful", "sigkill"])
def test_workers_one_two_one(pipeline: Pipeline, tmp_path: Path, kill: bool) -> None:
    out = scenarios.workers_join_and_leave(pipeline, tmp_path, rate=RATE, hold=HOLD,
                                           kills=(kill,))
    name = f"workers_1_2_1_{'sigkill' if kill else 'graceful'}"
    stalled = {k: n for k, n in out.re_reads.items() if n > 2}
    out.figures["stalled_re_reads"] = {f"{where}@{offset}": n
                                       for (where, offset), n in stalled.items()}
    harness.record(name, out.figures)
    print(name, out.figures)
    assert out.recovery_s is not None
    assert not stalled
    assert out.count.lost == 0 and out.count.duplicated == 0, out.figures
    assert out.figures["rollup_exact"], out.figures
    if not kill:  # one store per worker: a graceful leave hands over where B stopped
        assert out.doubled == [0], out.figures


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Settings]:
    """A broker of our own on free ports with its own data directory: this scenario stops
    it (the shared one on 9092 is never stopped)."""
    port = _free_port()
    while _free_port() == port + 1:  # the controller listens on port + 1
        port = _free_port()
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}",
                        local_state_dir=tmp_path / "state", kafka_heap="384m")
    kafka_local.up(settings)
    try:
        yield settings
    finally:
        kafka_local.down(settings)


@pytest.mark.timeout(900)
def test_broker_stopped_for_20_s(own_broker: Settings, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    values = {
        "kafka_bootstrap_servers": own_broker.kafka_bootstrap_servers,
        "topic_prefix": f"f{run}.", "app_id": f"touchstream-fault-{run}",
        "clickhouse_url": f"chdb://{tmp_path / 'clickhouse'}", "web_port": str(_free_port()),
        "batch_max_events": "2000", "batch_max_seconds": "0.2",
        "consumer_session_timeout_seconds": "6", "sink_retry_initial_seconds": "0.2",
        "sink_retry_max_seconds": "1", "log_level": "INFO",
    }
    env = {f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()}
    settings = Settings(**values)  # type: ignore[arg-type]
    create_topics(settings)
    (tmp_path / "logs").mkdir()
    p = Pipeline(settings=settings, env=env, log_dir=tmp_path / "logs")
    try:
        p.start_worker()
        load = harness.Load(settings, RATE, p.codec.encode, seed=71).start()
        time.sleep(HOLD)
        kafka_local.down(own_broker)
        time.sleep(20)
        kafka_local.up(own_broker)
        back = time.monotonic()
        # recovery: from the broker answering until the store holds what was produced
        # until then (the load goes on meanwhile)
        recovery = sunk_since(p, end_offsets(settings, topics.CHAT_EVENTS), timeout=300)
        time.sleep(max(0.0, back + HOLD - time.monotonic()))
        load.stop()
        assert harness.sunk_everything(store(p), settings, timeout=300)
        count = harness.count(store(p), settings, load.records)
        report("broker_stopped_20s", count, recovery, events_per_s=RATE)
        assert recovery is not None
        check(count)
    finally:
        p.stop_workers()
        delete_topics_with_prefix(settings, settings.topic_prefix, f"{settings.app_id}-")


@pytest.mark.timeout(900)
def test_clickhouse_unavailable_for_60_s(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    load = harness.Load(pipeline.settings, RATE, pipeline.codec.encode, seed=81).start()
    time.sleep(HOLD)
    pipeline.maintenance("DETACH TABLE chat_events")
    time.sleep(60)
    pipeline.maintenance("ATTACH TABLE chat_events")
    back = time.monotonic()
    at_attach = end_offsets(pipeline.settings, topics.CHAT_EVENTS)
    recovery = sunk_since(pipeline, at_attach, timeout=300)
    time.sleep(HOLD / 2)
    load.stop()
    assert harness.sunk_everything(store(pipeline), pipeline.settings, timeout=300)
    count = harness.count(store(pipeline), pipeline.settings, load.records)
    retries = pipeline.stats("counters").get("insert.retries{chat_events}", 0)
    report("clickhouse_unavailable_60s", count, recovery, insert_retries=retries,
           caught_up_s=round(time.monotonic() - back, 1), events_per_s=RATE)
    assert recovery is not None and retries >= 1
    check(count)


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[Settings]:
    """A schema registry of our own on free ports with its own storage: this scenario stops
    it (one a developer runs on the default port is never touched)."""
    settings = Settings(registry_port=_free_port(), registry_management_port=_free_port(),
                        local_state_dir=tmp_path / "registry-state")
    registry_local.up(settings)
    try:
        yield settings
    finally:
        registry_local.down(settings)


@pytest.mark.timeout(900)
def test_schema_registry_unavailable_for_30_s(pipeline: Pipeline, own_registry: Settings
                                               ) -> None:
    """Producers and a worker on the registry's ids; the registry stops for 30 s under load
    and the worker is restarted meanwhile (a deploy, a crash), so its schema cache is empty
    and it must pause until the registry answers: nothing dead-lettered, lost or doubled.

    Once a known failure: three chat.events partitions re-read after the outage seemed never
    processed. The worker had in fact caught up; the harness's querier gave the busy worker
    one second to answer, opened the store directly, was refused, and every query failed
    until the timeout (``harness.patient_querier``)."""
    url = registry_local.local_registry(own_registry).url
    pipeline.env.update({"TOUCHSTREAM_SCHEMA_REGISTRY_URL": url,
                         "TOUCHSTREAM_SCHEMA_REGISTRY_TIMEOUT_SECONDS": "2"})
    pipeline.settings = pipeline.settings.model_copy(update={
        "schema_registry_url": url, "schema_registry_timeout_seconds": 2.0})
    # the producers' codec: ids registered up front (a loaded registry answers slowly), then
    # cached, so the producers keep writing while the registry is down, as real ones do
    codec = AvroCodec.from_settings(pipeline.settings.model_copy(update={
        "schema_registry_timeout_seconds": 60.0}))
    codec.register_all()
    codec.encode(topics.CHAT_EVENTS, next(harness.chat_load(1, seed=100)).value)
    pipeline.start_worker()
    load = harness.Load(pipeline.settings, RATE, codec.encode, seed=101).start()
    time.sleep(HOLD)
    assert registry_local.down(own_registry)
    stopped = time.monotonic()
    pipeline.stop_workers()
    pipeline.workers.clear()
    pipeline.start_worker()
    time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    registry_local.up(own_registry)
    # recovery: from the registry answering until the store holds what was produced until then
    recovery = sunk_since(pipeline, end_offsets(pipeline.settings, topics.CHAT_EVENTS),
                          timeout=300)  # 7.7-8.9 s in three runs
    time.sleep(HOLD / 2)
    load.stop()
    assert harness.sunk_everything(store(pipeline), pipeline.settings, timeout=300)
    count = harness.count(store(pipeline), pipeline.settings, load.records)
    dead = int(pipeline.scalar("SELECT count() FROM dead_letters"))
    logs = pipeline.worker_logs()
    report("schema_registry_unavailable_30s", count, recovery, dead_letters=dead,
           paused=logs.count("pausing and retrying until it answers"), events_per_s=RATE,
           note="recovery_s: from the restarted registry answering until the store holds all "
                "produced until then; the worker was restarted while the registry was down")
    assert recovery is not None
    assert dead == 0
    assert "pausing and retrying until it answers" in logs, logs[-3000:]
    check(count)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of ``pid`` (MB): ``VmRSS`` all of it, ``RssAnon`` its heaps (the
    Python objects, malloc, the engine's allocations), ``RssFile`` mapped files (mostly the
    embedded engine's library, paged in as code paths are first used)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


@pytest.mark.timeout(SOAK_SECONDS + 900)
def test_soak_at_half_the_drained_rate(pipeline: Pipeline) -> None:
    retention = SOAK_RETENTION or pipeline.settings.conversation_retention_seconds
    if SOAK_RETENTION:
        pipeline.env["TOUCHSTREAM_CONVERSATION_RETENTION_SECONDS"] = str(SOAK_RETENTION)
        pipeline.env["TOUCHSTREAM_CONVERSATION_INACTIVITY_SECONDS"] = str(SOAK_RETENTION / 3)
        # a follow-up stays in the worker's table until it falls due (a day by default):
        # due within the run, the table reaches its level as the conversations' does
        pipeline.env["TOUCHSTREAM_FOLLOW_UP_DELAY_SECONDS"] = str(SOAK_RETENTION / 3)
    worker = pipeline.start_worker()
    # the drained rate: a backlog produced at once, then timed until it is all in the store
    burst = harness.Load(pipeline.settings, 50_000.0, pipeline.codec.encode, seed=91,
                         limit=20_000, customers=SOAK_CUSTOMERS).start()
    burst.thread.join()
    started = time.monotonic()
    assert harness.sunk_everything(store(pipeline), pipeline.settings, timeout=300)
    drained = len(burst.records) / (time.monotonic() - started)
    rate = drained / 2
    load = harness.Load(pipeline.settings, rate, pipeline.codec.encode, seed=92,
                        customers=SOAK_CUSTOMERS).start()
    t0 = time.monotonic()
    load_start = [round(x, 2) for x in os.getloadavg()]
    cpu_start = cpu_seconds(worker.pid)
    memory: list[tuple[float, float]] = []
    anon: list[tuple[float, float]] = []
    mapped: list[tuple[float, float]] = []
    keys: list[tuple[float, dict[str, int]]] = []  # entries of the worker's tables
    while time.monotonic() - t0 < SOAK_SECONDS:
        minute = (time.monotonic() - t0) / 60
        memory.append((minute, rss_mb(worker.pid)))
        anon.append((minute, rss_mb(worker.pid, "RssAnon")))
        mapped.append((minute, rss_mb(worker.pid, "RssFile")))
        if not keys or minute - keys[-1][0] >= 1:
            # a worker busy with a write may answer late: then the next minute
            with contextlib.suppress(OSError):
                keys.append((minute, pipeline.stats("table_keys")))
        time.sleep(min(10.0, SOAK_SECONDS / 12))
    cpu_soak = cpu_seconds(worker.pid) - cpu_start
    load.stop()
    assert harness.sunk_everything(store(pipeline), pipeline.settings, timeout=300)
    physical = pipeline.settings.topic(topics.CHAT_EVENTS)
    windows = store(pipeline).sql(
        "SELECT toUnixTimestamp(toStartOfInterval(_ingested_at, INTERVAL 10 SECOND)) AS w,"
        " quantileExact(0.99)(dateDiff('millisecond', _kafka_ts, _ingested_at)) AS p99"
        " FROM chat_events WHERE _topic = {t:String} AND _kafka_ts >= fromUnixTimestamp64Milli("
        "{since:Int64}) GROUP BY w ORDER BY w",
        {"t": physical, "since": int((time.time() - (time.monotonic() - t0)) * 1000)}).rows
    p99 = [((int(w) - int(windows[0][0])) / 60, float(v)) for w, v in windows]
    everything = [*burst.records, *load.records]
    settled = [(m, v) for m, v in memory if m * 60 >= 2 * retention] or memory
    later = [(m, k) for m, k in keys if m * 60 >= 2 * retention] or keys
    half = SOAK_SECONDS / 120  # minutes: the second half, when per-person state had time to fill
    count = harness.count(store(pipeline), pipeline.settings, everything)
    report(
        "soak", count, None, seconds=SOAK_SECONDS, drained_events_per_s=round(drained),
        events_per_s=round(rate), rss_mb_first=round(memory[0][1]),
        rss_mb_last=round(memory[-1][1]), rss_mb_per_min=round(slope(memory), 3),
        # once every conversation of a retention period is held, memory should stay level
        retention_s=retention,
        rss_mb_per_min_after_retention=round(slope(settled), 3),
        # heaps against mapped files, after the retention period
        rss_anon_mb_per_min_after_retention=round(slope(
            [(m, v) for m, v in anon if m >= settled[0][0]]), 3),
        rss_file_mb_first=round(mapped[0][1]), rss_file_mb_last=round(mapped[-1][1]),
        rss_mb_per_min_second_half=round(slope([(m, v) for m, v in memory if m >= half]), 3),
        rss_anon_mb_per_min_second_half=round(slope([(m, v) for m, v in anon if m >= half]), 3),
        customers=SOAK_CUSTOMERS or CUSTOMER_POOL,
        # what the worker's tables hold: entries at the end and their growth a minute
        table_keys_last=keys[-1][1] if keys else None,
        table_keys_per_min_after_retention={
            name: round(slope([(m, float(k.get(name, 0))) for m, k in later]), 1)
            for name in (later[-1][1] if later else {})},
        table_keys_per_min_second_half={
            name: round(slope([(m, float(k.get(name, 0))) for m, k in keys if m >= half]), 1)
            for name in (keys[-1][1] if keys else {})},
        # each minute's figures, so that a slope over any stretch can be taken afterwards
        rss_mb_by_min=[[round(m, 1), round(v)] for m, v in memory if m - int(m) < 1 / 6],
        table_keys_by_min=[[round(m, 1), k] for m, k in keys],
        worker_cpu_ms_per_event=round(cpu_soak * 1000 / max(1, len(load.records)), 3),
        load_average_start=load_start, load_average_end=[round(x, 2) for x in os.getloadavg()],
        p99_ms_median_window=sorted(v for _, v in p99)[len(p99) // 2] if p99 else None,
        p99_ms_per_min=round(slope(p99), 3) if len(p99) > 1 else None,
        windows=len(p99))
    if SOAK_RETENTION:
        assert (count.lost, count.duplicated, count.positions) == (0, 0, count.produced), count
    else:
        check(count)
