"""`touchstream demo`: the whole pipeline on its embedded defaults, end to end.

Starts the local broker if needed, creates topics, migrates, starts a worker, produces
synthetic conversations and ad metrics (plus a few bad messages), waits until every event is
visible in ClickHouse, prints insights, and stops what it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

from streams import topics
from streams.conversation import contract as conversation
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, end_offsets
from streams.io.positions import sunk_next
from streams.io.query import Querier, worker_alive
from streams.marketing import contract as marketing
from streams.settings import Settings

#: Tables whose max(_offset) per partition shows how far a source topic has been sunk.
SINK_TABLES: Mapping[str, tuple[str, ...]] = {
    topics.CHAT_EVENTS: (conversation.CHAT_EVENTS_TABLE, conversation.CONVERSATIONS_TABLE),
    topics.AD_METRICS: (marketing.CAMPAIGN_KPIS_TABLE,),
}


def sunk_positions(querier: Querier, settings: Settings, logical_topic: str) -> dict[int, int]:
    """Next offset to be sunk per partition of a source topic (see ``streams.io.positions``)."""
    return sunk_next(querier.sql, settings.topic(logical_topic), SINK_TABLES[logical_topic])


def wait_until_sunk(
    querier: Querier,
    settings: Settings,
    targets: Mapping[str, Mapping[int, int]],
    *,
    timeout: float = 300.0,
    on_poll: Callable[[int, int], None] | None = None,
) -> bool:
    """Wait until every partition of every topic is sunk up to its target end offset."""
    deadline = time.monotonic() + timeout
    total = sum(sum(ends.values()) for ends in targets.values())
    while time.monotonic() < deadline:
        done = 0
        complete = True
        for topic, ends in targets.items():
            positions = sunk_positions(querier, settings, topic)
            for partition, end in ends.items():
                pos = min(positions.get(partition, 0), end)
                done += pos
                if pos < end:
                    complete = False
        if on_poll:
            on_poll(done, total)
        if complete:
            return True
        time.sleep(0.5)
    return False


def start_worker(settings: Settings, log_path: str, env: Mapping[str, str] | None = None
                 ) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}; see {log_path}")
        if worker_alive(settings):
            return proc
        time.sleep(0.5)
    stop_worker(proc)
    raise RuntimeError(f"the worker did not come up within 120 s; see {log_path}")


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def prepare(settings: Settings) -> bool:
    """Start the local broker if it is not answering; create topics. True if we started it."""
    started = False
    status = kafka_local.status(settings)
    if not status.answering:
        kafka_local.up(settings)
        started = True
    create_topics(settings)
    return started


def targets_now(settings: Settings) -> dict[str, dict[int, int]]:
    return {topic: end_offsets(settings, topic) for topic in SINK_TABLES}
