"""Errors where they belong, against the real broker and a worker process: an unavailable
schema registry pauses the worker (nothing dead-lettered, everything lands once it answers);
rows ClickHouse can never take stop it (naming table, column and a sample row, acknowledging
nothing); a stream of bad input trips the dead-letter limit, a few bad messages do not."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from streams import topics
from streams.contract.manifest import load_topics
from streams.io.clickhouse import ClickHouse
from streams.io.kafka_admin import end_offsets
from streams.io.migrate import migrate
from streams.io.producer import produce_records
from streams.simulators.chat import ad_metrics
from streams.simulators.run import bad_messages, produce_bad
from tests.integration import expected
from tests.integration.conftest import Pipeline, _free_port, eventually

pytestmark = pytest.mark.integration

AGENT = "ad_metrics"  # the marketing stage's name, the label of its latencies


class Registry:
    """A Confluent-compatible schema registry serving the ids of ``schemas/``, on loopback.

    Not listening until ``start``; then answering 503 while ``overloaded``."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.overloaded = False
        self.requests = 0
        self.refused_503 = 0
        self.schemas = {v.id: v.schema_str for s in load_topics().values() for v in s.versions}
        self._server: ThreadingHTTPServer | None = None

    def id_of(self, schema_str: str) -> int | None:
        wanted = json.loads(schema_str)
        return next((i for i, s in self.schemas.items() if json.loads(s) == wanted), None)

    def start(self) -> None:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                registry.requests += 1
                if registry.overloaded:
                    registry.refused_503 += 1
                    return self.answer(503, {"error_code": 50003, "message": "overloaded"})
                match = re.match(r"^/schemas/ids/(\d+)", self.path)
                schema = registry.schemas.get(int(match.group(1))) if match else None
                if schema is None:
                    return self.answer(404, {"error_code": 40403, "message": "not found"})
                return self.answer(200, {"schema": schema, "schemaType": "AVRO"})

            def do_POST(self) -> None:  # lookup and register of a subject
                registry.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if registry.overloaded:
                    registry.refused_503 += 1
                    return self.answer(503, {"error_code": 50003, "message": "overloaded"})
                subject = self.path.split("/")[2].split("?")[0]
                found = registry.id_of(body["schema"])
                if found is None:
                    return self.answer(404, {"error_code": 40401, "message": "not found"})
                return self.answer(200, {"subject": subject, "id": found, "version": 1,
                                         "schema": body["schema"]})

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def registry() -> Iterator[Registry]:
    stub = Registry()
    yield stub
    stub.stop()


def configure(p: Pipeline, **values: str) -> None:
    p.env.update({f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()})


def latency_count(p: Pipeline, label: str) -> int:
    snapshot: dict[str, dict[str, float]] = p.stats("latency_ms")  # type: ignore[assignment]
    return int(snapshot.get(label, {}).get("count", 0))


def kpi_target(p: Pipeline) -> dict[str, dict[int, int]]:
    return {topics.AD_METRICS: end_offsets(p.settings, topics.AD_METRICS)}


def committed(p: Pipeline, logical_topic: str) -> int:
    """Offsets the worker's consumer group has committed on a topic, summed (none: 0)."""
    topic = p.settings.topic(logical_topic)
    consumer = Consumer({"bootstrap.servers": p.settings.kafka_bootstrap_servers,
                         "group.id": p.settings.app_id, "enable.auto.commit": False})
    try:
        parts = [TopicPartition(topic, i) for i in range(p.settings.topic_partitions)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(parts, timeout=10))
    finally:
        consumer.close()


def wait_exit(worker: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert worker.returncode is not None, f"the worker did not stop within {timeout}s"
    return worker.returncode


def test_an_unavailable_registry_pauses_the_worker_and_nothing_is_dead_lettered(
        pipeline: Pipeline, registry: Registry) -> None:
    configure(pipeline, schema_registry_url=registry.url,
              schema_registry_timeout_seconds="2")
    ads = list(ad_metrics(400, seed=808))
    pipeline.start_worker()
    # encoded with the ids of schemas/, which the registry serves once it is up
    produce_records(pipeline.settings, iter(ads), encode=pipeline.codec.encode)

    # down: connection refused; the worker pauses and retries, dead-letters nothing
    eventually(lambda: latency_count(pipeline, f"{AGENT}.unavailable") >= 3, timeout=30)
    q = pipeline.querier()
    assert q.sql("SELECT count() FROM dead_letters").rows[0][0] == 0
    assert q.sql("SELECT count() FROM campaign_kpis").rows[0][0] == 0

    # up but overloaded (503): still paused
    registry.overloaded = True
    registry.start()
    eventually(lambda: registry.refused_503 >= 2, timeout=20)
    assert q.sql("SELECT count() FROM dead_letters").rows[0][0] == 0

    # answering: everything lands, once, and nothing was dead-lettered
    registry.overloaded = False
    pipeline.wait_sunk(kpi_target(pipeline), timeout=40)
    assert q.sql("SELECT count() FROM campaign_kpis FINAL").rows[0][0] == len(
        expected.latest_metrics(ads))
    assert q.sql("SELECT count() FROM dead_letters").rows[0][0] == 0
    counters = pipeline.stats("counters")
    assert counters.get("events.dead_lettered{ad.metrics}", 0) == 0
    assert counters["events.processed{ad.metrics}"] == len(ads)
    # the outage is logged once, not once a retry
    logs = pipeline.worker_logs()
    assert logs.count("pausing and retrying until it answers") == 1, logs[-3000:]
    assert "available again after" in logs


def test_rows_clickhouse_can_never_take_stop_the_worker_and_nothing_is_acknowledged(
        pipeline: Pipeline) -> None:
    url = pipeline.settings.effective_clickhouse_url
    with ClickHouse(url) as store:  # released before the worker opens it
        migrate(store)
        store.command("ALTER TABLE campaign_kpis DROP COLUMN cpm")
    ads = list(ad_metrics(300, seed=909))
    produce_records(pipeline.settings, iter(ads), encode=pipeline.codec.encode)
    worker = pipeline.start_worker()
    wait_exit(worker, timeout=40)

    logs = pipeline.worker_logs()
    [line] = [ln for ln in logs.splitlines()
              if "refused; no retry can fix it" in ln and "campaign_kpis" in ln]
    assert "table campaign_kpis, column cpm" in line
    assert re.search(r"sample row: .*campaign_id='[^']+'", line), line
    assert committed(pipeline, topics.AD_METRICS) == 0  # nothing acknowledged

    with ClickHouse(url) as store:
        assert store.query("SELECT count() FROM campaign_kpis").rows == [(0,)]
        store.command("ALTER TABLE campaign_kpis ADD COLUMN cpm Nullable(Float64) AFTER roas")
    pipeline.start_worker()
    pipeline.wait_sunk(kpi_target(pipeline), timeout=40)
    q = pipeline.querier()
    assert q.sql("SELECT count() FROM campaign_kpis FINAL").rows[0][0] == len(
        expected.latest_metrics(ads))
    # exactly once: every message inserted one time by the worker that landed them
    assert pipeline.stats("counters")["rows.inserted{campaign_kpis}"] == len(ads)
    eventually(lambda: committed(pipeline, topics.AD_METRICS) == len(ads), timeout=20)


def test_a_stream_of_bad_input_trips_the_dead_letter_limit_and_a_few_bad_messages_do_not(
        pipeline: Pipeline) -> None:
    configure(pipeline, dlq_limit_consecutive="100", dlq_limit_window="500",
              dlq_limit_invalid_ratio="0.5")
    codec = pipeline.codec
    ads = list(ad_metrics(600, seed=1001))
    worker = pipeline.start_worker()
    # a few bad messages among good ones: dead-lettered, the stream goes on
    produce_records(pipeline.settings, iter(ads[:300]), encode=codec.encode)
    produce_bad(pipeline.settings, bad_messages(codec, topics.AD_METRICS, 6, seed=1))
    produce_records(pipeline.settings, iter(ads[300:]), encode=codec.encode)
    produce_bad(pipeline.settings, bad_messages(codec, topics.AD_METRICS, 6, seed=2))
    pipeline.wait_sunk(kpi_target(pipeline), timeout=40)
    q = pipeline.querier()
    eventually(lambda: q.sql("SELECT count() FROM dead_letters").rows[0][0] == 12, timeout=20)
    assert worker.poll() is None

    # a whole stream of bad input: the worker stops with a clear message
    produce_bad(pipeline.settings, bad_messages(codec, topics.AD_METRICS, 300, seed=3))
    wait_exit(worker, timeout=40)
    logs = pipeline.worker_logs()
    topic = pipeline.settings.topic(topics.AD_METRICS)
    assert re.search(rf"dead-letter limit exceeded on {re.escape(topic)}: 101 invalid "
                     r"messages in a row \(the limit is 100\)", logs), logs[-3000:]
    # the step that broke the limit was not acknowledged: the bad input stays to be read
    assert committed(pipeline, topics.AD_METRICS) < sum(
        end_offsets(pipeline.settings, topics.AD_METRICS).values())
