"""The worker's and the gateway's Prometheus pages, parsed back with the official parser."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from agents.metrics import Partition, Snapshot, render
from agents.metrics import latency_buckets as buckets_of
from streams.ingest.metrics import render as render_gateway
from streams.ingest.server import GatewayConfig, GatewayStats, bound_port, serve
from streams.ingest.tokens import issue
from streams.kernel.metrics import Counters, Latencies
from tests.ingest.conftest import MemorySink

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: bytes) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


def test_counters_histograms_lag_and_models_render_with_conventional_names() -> None:
    counters = Counters()
    counters.incr("events.consumed", "chat.events", 120)
    counters.incr("events.dead_lettered", "chat.events", 3)
    counters.incr("dead_letters", "invalid_field", 2)
    counters.incr("dead_letters", "undecodable", 1)
    counters.incr("publish.retries", "t.chat.events.dlq", 1)
    counters.incr("rows.inserted", "chat_events", 117)
    counters.incr("timer.quarantined", "conversations", 1)
    latencies = Latencies()
    latencies.observe("conversation.in_worker", [2.0] * 90 + [800.0] * 10)  # ms
    latencies.observe_repeated("conversation.step_events", 200.0, 4)
    latencies.observe_repeated("gc.gen2", 30.0, 2)
    latencies.observe_repeated("conversation.produce_to_durable", 1500.0, 3)
    latencies.observe_repeated("conversation.something_new", 3.0, 1)  # a later label
    snapshot = Snapshot(
        app_id="ts", counters=counters.snapshot(), buckets=buckets_of(latencies),
        table_keys={"conversations": 42},
        partitions=(Partition("chat.events", 0, highwater=500, committed=380, position=450),
                    Partition("chat.events", 1, highwater=10, committed=None, position=4),
                    Partition("ad.metrics", 0, highwater=None, committed=None, position=None)))
    got = samples(render(snapshot))
    assert got["touchstream_events_consumed_total", (("topic", "chat.events"),)] == 120
    assert got["touchstream_events_dead_lettered_total", (("topic", "chat.events"),)] == 3
    assert got["touchstream_dead_letters_total", (("reason", "invalid_field"),)] == 2
    assert got["touchstream_dead_letters_total", (("reason", "undecodable"),)] == 1
    assert got["touchstream_publish_retries_total", (("topic", "t.chat.events.dlq"),)] == 1
    assert got["touchstream_rows_inserted_total", (("table", "chat_events"),)] == 117
    assert got["touchstream_timer_quarantined_total", (("table", "conversations"),)] == 1
    assert got["touchstream_table_keys", (("table", "conversations"),)] == 42
    # lag is highwater minus committed, else minus the read position
    assert got["touchstream_consumer_lag", (("partition", "0"), ("topic", "chat.events"))] == 120
    assert got["touchstream_consumer_lag", (("partition", "1"), ("topic", "chat.events"))] == 6
    assert ("touchstream_consumer_lag", (("partition", "0"), ("topic", "ad.metrics"))) not in got
    assert got["touchstream_consumer_assigned_partitions", ()] == 3
    # the 5 % buckets fold into seconds: 90 under 2.5 ms, all 100 under 1 s
    agent = ("agent", "conversation")
    h = "touchstream_message_in_worker_seconds"
    assert got[f"{h}_bucket", (agent, ("le", "0.0025"))] == 90
    assert got[f"{h}_bucket", (agent, ("le", "0.5"))] == 90
    assert got[f"{h}_bucket", (agent, ("le", "1.0"))] == 100
    assert got[f"{h}_bucket", (agent, ("le", "+Inf"))] == 100
    assert got[f"{h}_count", (agent,)] == 100
    # the sum is estimated from upper edges: within 5 % above the true 8.18 s
    assert 8.18 <= got[f"{h}_sum", (agent,)] <= 8.18 * 1.05
    # a fine bucket counts under the first bound at or above its upper edge: never early
    assert got["touchstream_step_events_bucket", (agent, ("le", "100.0"))] == 0
    assert got["touchstream_step_events_bucket", (agent, ("le", "500.0"))] == 4
    assert got["touchstream_gc_pause_seconds_count", (("generation", "2"),)] == 2
    assert ("touchstream_worker_info", (("app_id", "ts"),)) in got
    assert got["touchstream_produce_to_durable_seconds_bucket", (agent, ("le", "2.5"))] == 3
    assert got["touchstream_other_seconds_count", (agent, ("kind", "something_new"))] == 1


def test_model_info_names_the_files_the_worker_loads() -> None:
    from agents.metrics import loaded_models

    models = {m.name: m for m in loaded_models()}
    assert models["intent"].path.name.startswith("intent-") and len(models["intent"].sha256) == 12
    got = samples(render(Snapshot(app_id="ts", counters={}, buckets={},
                                  models=tuple(models.values()))))
    names = {dict(labels)["model"] for (name, labels) in got if name == "touchstream_model_info"}
    assert names == {"intent", "language"}


def test_gateway_metrics_page_counts_connections_frames_and_rejects() -> None:
    secret = "gateway-secret"

    def scrape(port: int) -> Samples:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return samples(r.read())

    async def body() -> tuple[Samples, Samples]:
        stats = GatewayStats()
        server = await serve(GatewayConfig(port=0, secret=secret), MemorySink(), stats)
        port = bound_port(server)
        try:
            loop = asyncio.get_running_loop()
            before = await loop.run_in_executor(None, scrape, port)
            token = issue("t", "widget", 60, secret, time.time())
            async with connect(f"ws://127.0.0.1:{port}/events", proxy=None,
                               additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                await ws.send("not json")
                await ws.recv()
                await ws.send(json.dumps({"event_id": "e1"}))  # invalid event
                await ws.recv()
                during = await loop.run_in_executor(None, scrape, port)
            return before, during
        finally:
            server.close()
            await server.wait_closed()

    before, during = asyncio.run(body())
    assert before["touchstream_gateway_connections_total", ()] == 0
    assert during["touchstream_gateway_connections_total", ()] == 1
    assert during["touchstream_gateway_open_connections", ()] == 1
    assert during["touchstream_gateway_frames_total", ()] == 2
    assert during["touchstream_gateway_events_invalid_total", ()] == 2
    assert ("process_resident_memory_bytes", ()) in during


def test_gateway_render_is_the_stats() -> None:
    stats: Any = GatewayStats(accepted=7, rate_limited=2)
    got = samples(render_gateway(stats))
    assert got["touchstream_gateway_events_accepted_total", ()] == 7
    assert got["touchstream_gateway_events_rate_limited_total", ()] == 2
