"""A real Prometheus (Debian's ``prometheus``) scrapes a running worker and gateway, loads the
alert rules, and answers every PromQL expression of the dashboards and alerts.

Prometheus listens on 127.0.0.1 with a temporary config and storage and is stopped by its
PID. Expressions whose metrics a worker under traffic always exports must return series; the
others (retries, quarantines, ...) must at least run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from websockets.sync.client import connect

from streams import topics
from streams.ingest.tokens import issue
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.simulators.chat import ad_metrics, conversations
from streams.simulators.run import interleave
from tests.deploy.panels import ALERTS, PROMETHEUS_UID, metric_names, promql, queries
from tests.deploy.tools import tool
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration

#: metrics a worker and gateway export as soon as they have consumed (and scraped) traffic
ALWAYS = {
    "touchstream_events_consumed_total", "touchstream_events_processed_total",
    "touchstream_rows_inserted_total", "touchstream_inserts_total",
    "touchstream_outputs_produced_total", "touchstream_steps_total",
    "touchstream_consumer_lag", "touchstream_consumer_highwater_offset",
    "touchstream_consumer_assigned_partitions", "touchstream_message_in_worker_seconds",
    "touchstream_step_wait_seconds", "touchstream_write_sink_seconds",
    "touchstream_write_publish_seconds", "touchstream_table_keys", "touchstream_model_info",
    "touchstream_worker_info",
    *(f"touchstream_gateway_{n}" for n in (
        "connections_total", "open_connections", "frames_total", "events_accepted_total",
        "events_invalid_total", "events_rate_limited_total", "events_failed_total",
        "dead_lettered_total")),
}
SECRET = "prometheus-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:  # a bad query answers 400 with the error as JSON
        return json.loads(exc.read())


@pytest.fixture
def gateway(pipeline: Pipeline, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, **pipeline.env, "TOUCHSTREAM_INGEST_SECRET": SECRET,
           "TOUCHSTREAM_INGEST_PORT": str(port)}
    with open(tmp_path / "gateway.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "ingest", "server"],
                                stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        def answers() -> bool:
            assert proc.poll() is None, (tmp_path / "gateway.log").read_text()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                return bool(r.status == 200)
        eventually(answers, timeout=60)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def prometheus(pipeline: Pipeline, gateway: int, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": "touchstream-worker",
             "static_configs": [{"targets": [f"127.0.0.1:{pipeline.settings.web_port}"]}]},
            {"job_name": "touchstream-gateway",
             "static_configs": [{"targets": [f"127.0.0.1:{gateway}"]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    with open(tmp_path / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [tool("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        def ready() -> bool:
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        eventually(ready, timeout=60)
        yield port
    finally:
        proc.terminate()  # by its PID, never by name
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def expressions() -> list[tuple[str, str]]:
    return [(f"{q.dashboard}: {q.panel}", promql(q.text, "30s"))
            for q in queries() if q.uid == PROMETHEUS_UID]


def alert_expressions() -> list[tuple[str, str]]:
    return [(f"alert {rule['alert']}", str(rule["expr"]))
            for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_prometheus_scrapes_the_worker_and_every_expression_runs(
        pipeline: Pipeline, gateway: int, prometheus: int) -> None:
    pipeline.start_worker()
    chat = list(conversations(300, seed=7))
    ads = list(ad_metrics(200, seed=8))
    produce_records(pipeline.settings, interleave(iter(chat), iter(ads)),
                    encode=pipeline.codec.encode)
    pipeline.wait_sunk({t: end_offsets(pipeline.settings, t)
                        for t in (topics.CHAT_EVENTS, topics.AD_METRICS)})
    token = issue("test", "widget", 60, SECRET, time.time())
    with connect(f"ws://127.0.0.1:{gateway}/events", proxy=None,
                 additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        ws.send("not json")
        assert json.loads(ws.recv())["code"] == "bad_json"

    def scraped() -> bool:
        got = api(prometheus, "query", query="sum(touchstream_events_consumed_total)")["data"]
        up = api(prometheus, "query", query="min(up)")["data"]["result"]
        frames = api(prometheus, "query",
                     query="max_over_time(touchstream_gateway_frames_total[1m])")["data"]
        # rates need a few samples of the newest series (counted once traffic came)
        samples = api(prometheus, "query", query="min(count_over_time("
                      "touchstream_message_in_worker_seconds_count[1m]))")["data"]["result"]
        return (bool(got["result"]) and float(got["result"][0]["value"][1]) >= len(chat)
                and up and up[0]["value"][1] == "1" and bool(frames["result"])
                and float(frames["result"][0]["value"][1]) == 1
                and bool(samples) and float(samples[0]["value"][1]) >= 5)

    eventually(scraped, timeout=90, interval=1.0)
    # counted by the worker as by Prometheus: every chat event consumed once
    consumed = api(prometheus, "query", query='sum(touchstream_events_consumed_total{topic="'
                   + pipeline.settings.topic(topics.CHAT_EVENTS) + '"}) or '
                   'sum(touchstream_events_consumed_total{topic="' + topics.CHAT_EVENTS + '"})')
    assert float(consumed["data"]["result"][0]["value"][1]) == len(chat)

    failures, empty = [], []
    checked = 0
    dashboard = expressions()
    for where, expr in dashboard + alert_expressions():
        answer = api(prometheus, "query", query=expr)
        checked += 1
        if answer.get("status") != "success":
            failures.append(f"{where}: {answer.get('error')} [{expr}]")
            continue
        names = metric_names(expr)
        # an alert that does not fire is empty; a dashboard panel on live metrics is not
        if (where, expr) in dashboard and names and names <= ALWAYS and not answer["data"]["result"]:
            empty.append(f"{where} [{expr}]")
    assert checked >= 30
    assert not failures, "\n".join(failures)
    assert not empty, "expressions without data:\n" + "\n".join(empty)

    # every alert rule evaluated without error on the real series
    def evaluated() -> bool:
        rules = [r for g in api(prometheus, "rules")["data"]["groups"] for r in g["rules"]]
        return len(rules) >= 15 and all(r["health"] == "ok" for r in rules)

    eventually(evaluated, timeout=30, interval=1.0)
