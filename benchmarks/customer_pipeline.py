"""The customer stages end to end in one worker on the local broker: touchpoints,
conversions and CRM updates of simulated people through the inputs stage, the identity stage
(single writer) and the profile and attribution stage, into ClickHouse.

Drain: on fresh topics, one worker is started and, once it answers, the backlog of
``--people`` people (their identity-phase events, then their conversions) is produced; the
run ends when every person has its profile and every conversion its credits. Per stage,
events/s between its first and last ClickHouse insert (the rows' ingest times:
``customer_inputs``, ``customer_events``, ``customer_profiles``); the whole backlog's events/s
from the first input row to the last profile or credit row; the worker's CPU time (its
process tree, from /proc) per input event over the drain.

Latency (``--paced-seconds``, 0 to skip): other people's events produced at half the drained
rate, then, per event, produce-to-ClickHouse: from the record's Kafka timestamp (set when it
is produced) to the ingest time of the row that ends its way through the stages, the
``customer_events`` row of a touchpoint or CRM update (resolved; its profile is written in the
same or the next batch of the profile stage) and the first ``attribution_credits`` row of a
conversion (resolved, folded into the profile and attributed).

Merges slices ``customer_pipeline`` (the drain per stage) and ``touchpoints``
(``events_per_s``, ``p99_ms``, ``worker_cpu_us_per_event`` and the details) into
``--results`` (benchmarks/results/latest.json), keeping every other key. The run's topics
and changelogs are deleted afterwards. ``--profile FILE`` records the worker with py-spy
during the drain (collapsed stacks). To compare two versions of the code, run the module from
a copy of each tree (the worker is started from the current directory), alternating.

The local broker is started if none answers (and stopped afterwards): run it under both
locks, ``flock /tmp/touchstream-broker.lock flock /tmp/touchstream-bench.lock python -m
benchmarks.customer_pipeline [--people 5000] [--paced-seconds 30] [--no-write]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import drop_topics, isolated
from streams.contract.codec import AvroCodec
from streams.customer import contract
from streams.customer.contract import CUSTOMER_EVENTS
from streams.io import kafka_local
from streams.io.kafka_admin import admin_client, end_offsets
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.ops.demo import prepare, start_worker, stop_worker
from streams.settings import Settings
from streams.simulators.customers import customers

RESULTS = Path(__file__).parent / "results" / "latest.json"
TICKS = os.sysconf("SC_CLK_TCK")


def _span(q: Querier, table: str, at: str) -> tuple[int, float, float]:
    """Rows of ``table`` and the first and last of their ingest times (epoch seconds)."""
    n, first, last = q.sql(f"SELECT count(), toFloat64(min({at})), toFloat64(max({at})) "
                           f"FROM {table}").rows[0]
    return int(n), float(first), float(last)


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its living descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the name: state ppid ... utime (11) stime (12)
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += children.get(p, [])
    return total


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, summed by thread name with digits dropped
    (``rdk:broker1`` and ``rdk:broker2`` count together; Python's threads are all named
    after the process)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name, rest = (task / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        name = name.rstrip("0123456789")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return out


def records_made(settings: Settings) -> dict[str, int]:
    """Records on the customer domain's internal and output topics, and on the changelogs of
    its stages' tables (``<app id>-<table>-changelog``), at the end of a run."""
    out = {t: sum(end_offsets(settings, t).values())
           for t in (*contract.INTERNAL, *contract.OUTPUTS)}
    bare = settings.model_copy(update={"topic_prefix": ""})
    changelogs = sorted(t for t in admin_client(settings).list_topics(timeout=10).topics
                        if t.startswith(settings.app_id + "-") and t.endswith("-changelog"))
    prefix = len(settings.app_id) + 1
    for t in changelogs:  # the table's name: between the app id and "-changelog"
        n = sum(end_offsets(bare, t).values())
        if n:
            out[f"changelog:{t[prefix:-len('-changelog')]}"] = n
    out["changelog_records"] = sum(n for t, n in out.items() if t.startswith("changelog:"))
    return out


def _wait_done(q: Querier, people: int, touchpoints: int, conversions: int,
               timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        live, touched = q.sql("SELECT count(), sum(touchpoints) FROM customer_profiles "
                              "FINAL WHERE merged_into IS NULL").rows[0]
        credited = q.sql("SELECT uniqExact(conversion_id) FROM attribution_credits").rows[0][0]
        if live == people and touched == touchpoints and credited == conversions:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"not done in {timeout} s: {live} persons, {touched} "
                             f"touchpoints, {credited} conversions credited")
        time.sleep(0.5)


LATENCY_SQL = """
SELECT quantileExact(0.5)(ms), quantileExact(0.99)(ms), max(ms), count()
FROM
(
    SELECT toFloat64(e.landed - i.produced) * 1000 AS ms
    FROM (SELECT event_id, kind, min(_kafka_ts) AS produced FROM customer_inputs
          WHERE _kafka_ts >= fromUnixTimestamp64Milli({since:Int64}) GROUP BY event_id, kind) AS i
    INNER JOIN
    (
        SELECT event_id, kind, min(_ingested_at) AS landed FROM customer_events
        WHERE kind != 'conversion' GROUP BY event_id, kind
        UNION ALL
        SELECT conversion_id AS event_id, 'conversion' AS kind, min(_ingested_at) AS landed
        FROM attribution_credits GROUP BY conversion_id
    ) AS e ON i.event_id = e.event_id AND i.kind = e.kind
)
"""


def latency_phase(settings: Settings, q: Querier, rate: float, seconds: float,
                  timeout: float) -> dict[str, Any]:
    """Other people's events at ``rate`` per second for about ``seconds``."""
    n = 1
    while True:  # enough people for the duration (about 7.6 events a person)
        _, identity_phase, converted = customers(n, seed=77)
        if len(identity_phase) + len(converted) >= rate * seconds or n > 100_000:
            break
        n = max(n + 1, int(n * rate * seconds / max(len(identity_phase) + len(converted), 1)))
    # a person's conversions after their identity events, the whole at an even pace
    records = [*identity_phase, *converted]
    since = int(time.time() * 1000)
    started = time.monotonic()
    produce_records(settings, records, encode=AvroCodec.from_settings(settings).encode,
                    rate=rate)
    produced_s = time.monotonic() - started
    deadline = time.monotonic() + timeout
    while True:  # every paced event has landed (its identifiers may join earlier people)
        p50, p99, worst, events = q.sql(LATENCY_SQL, {"since": since}).rows[0]
        if int(events) >= len(records) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return {"paced_events": len(records), "paced_rate_per_s": round(len(records) / produced_s),
            "latency_events": int(events), "paced_conversions": len(converted),
            "p50_ms": round(float(p50), 1), "p99_ms": round(float(p99), 1),
            "max_ms": round(float(worst), 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--paced-seconds", type=float, default=30.0)
    parser.add_argument("--paced-rate", type=float, default=None,
                        help="events/s of the latency phase (default: half the drained rate); "
                        "a fixed rate compares two trees at the same load")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the worker with py-spy during the drain (collapsed stacks)")
    parser.add_argument("--profile-gil", action="store_true",
                        help="with --profile: only the threads holding the GIL (Python's CPU)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="customer-bench-"))
    settings, env = isolated(base, "customer")
    people, identity_phase, converted = customers(args.people, seed=3)
    records = [*identity_phase, *converted]
    started_broker = prepare(settings)  # the local broker, started (and stopped) if needed
    worker = spy = None
    try:
        worker = start_worker(settings, str(base / "worker.log"), env=env)
        q = Querier(settings)
        cpu_before = cpu_seconds(worker.pid)
        threads_before = thread_cpu(worker.pid)
        if args.profile is not None:
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            spy = subprocess.Popen([py_spy, "record", "--pid", str(worker.pid), "--format",
                                    "raw", "--rate", "50", "--output", str(args.profile),
                                    *(["--gil"] if args.profile_gil else [])],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        produce_records(settings, records, encode=AvroCodec.from_settings(settings).encode)
        touchpoints = sum(len(p.touchpoints) for p in people)
        n_conversions = sum(1 for p in people for _ in p.conversions)
        _wait_done(q, args.people, touchpoints, n_conversions, args.timeout)
        cpu = cpu_seconds(worker.pid) - cpu_before
        by_thread = {k: v - threads_before.get(k, 0.0)
                     for k, v in thread_cpu(worker.pid).items()}
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on an interrupt
            spy.wait(60)
        inputs, in_first, in_last = _span(q, "customer_inputs", "_ingested_at")
        events, id_first, id_last = _span(q, "customer_events", "_ingested_at")
        _, pr_first, pr_last = _span(q, "customer_profiles", "_updated_at")
        _, _, cr_last = _span(q, "attribution_credits", "_ingested_at")
        assert inputs == events == len(records), (inputs, events, len(records))
        profile_events = sum(end_offsets(settings, CUSTOMER_EVENTS).values())
        made = records_made(settings)  # the drain's (the paced phase adds its own later)
        drained = max(pr_last, cr_last) - in_first
        rate = len(records) / drained
        drain = {
            "people": args.people, "input_events": len(records),
            "conversions": len(converted), "customer_events": profile_events,
            "drain_seconds": round(drained, 1),
            "events_per_s": round(rate),
            "inputs_stage_events_per_s": round(inputs / max(in_last - in_first, 1e-3)),
            "identity_stage_events_per_s": round(events / max(id_last - id_first, 1e-3)),
            "profile_stage_events_per_s": round(profile_events / max(pr_last - pr_first, 1e-3)),
            "worker_cpu_seconds": round(cpu, 2),
            "worker_cpu_seconds_by_thread": {
                k: round(v, 2) for k, v in sorted(by_thread.items(), key=lambda kv: -kv[1])
                if v >= 0.05},
            "load_avg_1m": os.getloadavg()[0],
            "note": "one worker running all stages (and the other domains' idle agents), "
                    "embedded ClickHouse, local broker, the backlog produced once the worker "
                    "answers; a stage's rate is its events over the span of its ClickHouse "
                    "inserts, the three stages overlapping in time",
            "command": f"python -m benchmarks.customer_pipeline --people {args.people}",
        }
        paced: dict[str, Any] = {}
        if args.paced_seconds > 0:
            paced = latency_phase(settings, q, args.paced_rate or rate / 2, args.paced_seconds,
                                  args.timeout)
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        if worker is not None:
            stop_worker(worker)
        drop_topics(settings)
        if started_broker:
            kafka_local.down(settings)
        shutil.rmtree(base, ignore_errors=True)
    touch = {"events_per_s": drain["events_per_s"], "p99_ms": paced.get("p99_ms"),
             "worker_cpu_us_per_event": round(cpu / len(records) * 1e6, 1),
             "input_events": len(records), "drain_seconds": drain["drain_seconds"], **paced,
             "load_avg_1m": drain["load_avg_1m"],
             "records_per_input_event": {t: round(n / len(records), 2) for t, n in made.items()},
             "note": "touchpoints, conversions and CRM updates of simulated people through the "
                     "inputs, identity (single writer), profile and rule-based attribution "
                     "stages of one worker (embedded ClickHouse, local broker): events/s and "
                     "worker CPU per event draining a backlog; latency from the Kafka "
                     "timestamp to the row in ClickHouse at half the drained rate",
             "command": f"python -m benchmarks.customer_pipeline --people {args.people} "
                        f"--paced-seconds {args.paced_seconds:g}"
                        + (f" --paced-rate {args.paced_rate:g}" if args.paced_rate else "")}
    figures = {"customer_pipeline": drain, "touchpoints": touch}
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        data = json.loads(args.results.read_text()) if args.results.exists() else {}
        data.setdefault("slices", {}).update(figures)
        args.results.write_text(json.dumps(data, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
