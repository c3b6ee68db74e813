"""Integration fixtures: the real local Kafka broker and the embedded ClickHouse engine.

The broker is started for the session if none answers (and stopped at the end if it was
started here). Every test gets its own topic prefix, Faust app id (consumer group and
changelogs), HTTP port and ClickHouse data directory, and runs workers as real processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, delete_topics_with_prefix
from streams.io.query import Querier, worker_url
from streams.ops.demo import start_worker, stop_worker, wait_until_sunk
from streams.settings import Settings

#: the shared test broker; a long run (the soak of ``make faults``) may take a broker of its
#: own on another loopback port so that other runs keep theirs
BOOTSTRAP = os.environ.get("TOUCHSTREAM_TEST_BOOTSTRAP", "127.0.0.1:9092")


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    settings = Settings(kafka_bootstrap_servers=BOOTSTRAP)
    started = False
    if not kafka_local.status(settings).answering:
        kafka_local.up(settings)
        started = True
    yield BOOTSTRAP
    if started:
        kafka_local.down(settings)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pipeline:
    """One isolated deployment: settings, env for worker processes, and helpers."""

    settings: Settings
    env: dict[str, str]
    log_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def codec(self) -> AvroCodec:
        return AvroCodec.from_settings(self.settings)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"worker-{len(self.workers)}.log"
        proc = start_worker(self.settings, str(log), env=self.env)
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            stop_worker(proc)

    def querier(self) -> Querier:
        return Querier(self.settings)

    def wait_sunk(self, targets: dict[str, dict[int, int]], timeout: float = 120) -> None:
        q = self.querier()
        assert wait_until_sunk(q, self.settings, targets, timeout=timeout), (
            f"not sunk within {timeout}s; logs in {self.log_dir}"
        )

    def scalar(self, sql: str) -> Any:
        return self.querier().sql(sql).rows[0][0]

    def stats(self, section: str) -> dict[str, int]:
        """One section of the worker's ``/stats``: ``counters`` or ``table_keys``."""
        with urllib.request.urlopen(worker_url(self.settings) + "/stats", timeout=10) as resp:
            values: dict[str, int] = json.loads(resp.read())[section]
        return values

    def maintenance(self, sql: str) -> None:
        """A statement on the worker's store through its operate-only ``/admin/sql``, as a
        local operator's client sends it (same origin, double-submit CSRF token)."""
        base = worker_url(self.settings)
        token = uuid.uuid4().hex
        request = urllib.request.Request(
            base + "/admin/sql", data=json.dumps({"sql": sql}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Origin": base,
                     "X-CSRF-Token": token, "Cookie": f"touchstream_csrf={token}"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert json.loads(resp.read()) == {"ok": True}

    def worker_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def pipeline(broker: str, tmp_path: Path) -> Iterator[Pipeline]:
    run = uuid.uuid4().hex[:8]
    values = {
        "kafka_bootstrap_servers": broker,
        "topic_prefix": f"t{run}.",
        "app_id": f"touchstream-test-{run}",
        "clickhouse_url": f"chdb://{tmp_path / 'clickhouse'}",
        "web_port": str(_free_port()),
        "batch_max_events": "2000",
        "batch_max_seconds": "0.2",
        "consumer_session_timeout_seconds": "6",
        "sink_retry_initial_seconds": "0.2",
        "sink_retry_max_seconds": "1",
        "log_level": "INFO",
    }
    env = {f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()}
    settings = Settings(**values)  # type: ignore[arg-type]
    create_topics(settings)
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    p = Pipeline(settings=settings, env=env, log_dir=log_dir)
    yield p
    p.stop_workers()
    if os.environ.get("TOUCHSTREAM_KEEP_TEST_LOGS"):
        print(p.worker_logs())
    # the test's topics and its workers' changelogs: a local broker whose data directory
    # keeps every test's partitions runs out of file descriptors after a few hundred runs
    delete_topics_with_prefix(settings, settings.topic_prefix, f"{settings.app_id}-")


def eventually(check: object, timeout: float = 30.0, interval: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            assert callable(check)
            if check():
                return
        except Exception as exc:  # keep polling until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last error: {last!r})")
