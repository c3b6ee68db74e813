"""``slices.workflows``: trigger to action through a worker on the local broker.

The worker's CPU over the measured phase, per trigger, is reported beside the latencies
(``worker_cpu_ms_per_trigger``): latency on this shared machine follows its load.

A worker (``touchstream worker``, every stage) runs on fresh topics. Persons whose profiles
are known get a lead score above 70 (``customer.scores`` -> ``lead_nurture``, an email
action), and new persons arrive as marketing-qualified leads (``customer.profiles`` ->
``mql_proactive_chat``, a chat action), alternately, at a steady rate. Each trigger record
is produced with its Kafka timestamp set to the moment it is handed to the producer; an
action's latency is its own Kafka timestamp on ``workflow.actions`` (set by the worker's
producer) minus its trigger's (``trigger_event_id`` names it). Goal: p99 <= 1,000 ms.

Run: ``flock /tmp/touchstream-broker.lock flock /tmp/touchstream-bench.lock python -m
benchmarks.workflows_latency`` (``--rate``, ``--seconds``); it starts the local broker when
none answers (and stops it after), and merges its figures into ``benchmarks/results/latest.json``
under ``slices.workflows`` and keeps every other key.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Consumer, Producer

from benchmarks.run import drop_topics, isolated, launch, worker_latencies
from benchmarks.workflows_bench import merge
from streams.contract.codec import AvroCodec
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics
from streams.io.producer import TokenBucket, producer_config
from streams.kernel.paths import PROJECT_ROOT
from streams.ops.demo import stop_worker
from streams.settings import Settings
from streams.workflows import contract as names

SLICE: Final = "workflows"
CONSENT: Final = {"consent_email": "true", "timezone": "UTC"}


def profile(person: str, stage: str, when: int) -> dict[str, Any]:
    return {"person_id": person, "version": 1, "updated_at": when, "first_seen": when,
            "last_seen": when, "identifiers": [f"email:{person}@example.com"],
            "attributes": CONSENT, "tags": [], "lifecycle_stage": stage, "channels": ["web"],
            "touchpoints": 1, "conversions": 0, "revenue": {}, "scores": {}, "recent": [],
            "merged_into": None}


def lead_score(person: str, when: int) -> dict[str, Any]:
    return {"person_id": person, "kind": "lead", "score": 85.0, "probability": 0.85,
            "label": "hot", "reasons": ["DEMO: asked for a demo"], "details": {},
            "model_version": "rules-v1", "profile_version": 1, "scored_at": when}


class Triggers:
    """Produces trigger records, each with its Kafka timestamp, remembered by trigger id."""

    def __init__(self, settings: Settings, codec: AvroCodec) -> None:
        self.settings, self.codec = settings, codec
        self.producer = Producer({**producer_config(settings), "linger.ms": 0})
        self.sent: dict[str, int] = {}

    def send(self, topic: str, value: dict[str, Any], trigger_id: str | None) -> None:
        now = int(time.time() * 1000)
        self.producer.produce(self.settings.topic(topic), key=value["person_id"].encode(),
                              value=self.codec.encode(topic, value), timestamp=now)
        self.producer.poll(0)
        if trigger_id is not None:
            self.sent[trigger_id] = now

    def flush(self) -> None:
        if self.producer.flush(60):
            raise RuntimeError("trigger records were not delivered")


def actions(settings: Settings, wanted: set[str], timeout: float) -> dict[str, int]:
    """trigger id -> the Kafka timestamp of its (first) action, for the ``wanted`` ones."""
    consumer = Consumer({**settings.kafka_client_config(),
                         "group.id": f"bench-actions-{time.monotonic_ns()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([settings.topic(names.WORKFLOW_ACTIONS)])
    codec = AvroCodec.from_settings(settings)
    got: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not wanted <= got.keys():
        for message in consumer.consume(1000, timeout=0.5):
            if message.error() is None:
                value = codec.decode(names.WORKFLOW_ACTIONS, message.value())
                got.setdefault(value["trigger_event_id"], message.timestamp()[1])
    consumer.close()
    return got


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(rate: float, seconds: float) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="touchstream-bench-workflows-"))
    settings, env = isolated(base, "workflows-latency")
    create_topics(settings)
    worker = launch(("streams.cli", "worker"), settings, str(base / "worker.log"), env)
    try:
        codec = AvroCodec.from_settings(settings)
        triggers = Triggers(settings, codec)
        count = int(rate * seconds)
        leads = [f"lead-{i}" for i in range(count // 2 + 1)]
        start = int(time.time() * 1000)
        for person in leads:  # known profiles, before the clock (they fire nothing)
            triggers.send(names.CUSTOMER_PROFILES, profile(person, "lead", start), None)
        triggers.send(names.CUSTOMER_PROFILES, profile("warm-up", "mql", start),
                      "profile:warm-up:1")
        triggers.flush()
        if "profile:warm-up:1" not in actions(settings, {"profile:warm-up:1"}, 120):
            raise RuntimeError(f"no action for the warm-up profile; see {base / 'worker.log'}")
        triggers.sent.clear()
        bucket = TokenBucket(rate)
        cpu_before = cpu_seconds(worker.pid)
        began = time.monotonic()
        for i in range(count):
            bucket.acquire()
            now = int(time.time() * 1000)
            if i % 2:
                triggers.send(names.CUSTOMER_PROFILES, profile(f"mql-{i}", "mql", now),
                              f"profile:mql-{i}:1")
            else:
                person = leads[i // 2]
                triggers.send(names.CUSTOMER_SCORES, lead_score(person, now),
                              f"score:{person}:lead:{now}")
        triggers.flush()
        took = time.monotonic() - began
        seen = actions(settings, set(triggers.sent), 120)
        cpu = cpu_seconds(worker.pid) - cpu_before
        # where the time goes inside the worker: the workflows agent's own histograms
        inside = {label: {k: v for k, v in figures.items() if k in ("p50_ms", "p99_ms")}
                  for label, figures in worker_latencies(settings).items()
                  if label.startswith(f"{SLICE}.")}
    finally:
        stop_worker(worker)
        drop_topics(settings)
        # Faust's data directory lands in the working directory
        shutil.rmtree(Path.cwd() / f"{settings.app_id}-data", ignore_errors=True)
        shutil.rmtree(PROJECT_ROOT / f"{settings.app_id}-data", ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
    delays = [float(seen[t] - sent) for t, sent in triggers.sent.items() if t in seen]
    missing = len(triggers.sent) - len(delays)
    if not delays:
        raise RuntimeError("no action arrived")
    return {
        "trigger_to_action_p99_ms": round(quantile(delays, 0.99), 1),
        "trigger_to_action_p50_ms": round(quantile(delays, 0.5), 1),
        "trigger_to_action_max_ms": round(max(delays), 1),
        "triggers": len(triggers.sent), "actions": len(delays), "missing": missing,
        "rate_per_s": round(len(triggers.sent) / took, 1), "seconds": round(took, 1),
        "score_triggers": sum(t.startswith("score:") for t in triggers.sent),
        "profile_triggers": sum(t.startswith("profile:") for t in triggers.sent),
        # the whole worker (every stage: scoring and delivery too), from the first trigger
        # until every action was read back
        "worker_cpu_ms_per_trigger": round(cpu * 1000 / max(1, len(triggers.sent)), 2),
        # arrival in the worker to durable (in_worker), its step and write, ClickHouse and
        # the publish; the rest of a trigger's time is the broker and the fetch
        "workflows_agent_ms": inside,
        "goal_p99_ms": 1000,
        # the machine is shared: a high load lengthens the tail
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="trigger records per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    settings = Settings()
    started = not kafka_local.status(settings).answering
    if started:
        kafka_local.up(settings)
    try:
        figures = run(args.rate, args.seconds)
    finally:
        if started:
            kafka_local.down(settings)
    if not args.no_save:
        merge(SLICE, figures)
    print(json.dumps({SLICE: figures}, indent=2))


if __name__ == "__main__":
    main()
