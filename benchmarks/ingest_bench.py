"""Gateway throughput into Kafka (``python -m benchmarks.ingest_bench``).

The gateway runs with a KafkaEventSink on the local broker (started if it is not running,
and stopped again afterwards) on fresh topics. A separate process opens ``--clients``
loopback WebSocket connections; each sends frames of ``--batch`` events, keeps ``--window``
frames unacknowledged at most, and waits for every event's ack (which the gateway sends only
once Kafka has the event). The figure is acknowledged events per second, from the first
frame sent to the last ack received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
import uuid
import zlib
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.run import update_latest
from streams.ingest.kafka_sink import KafkaEventSink
from streams.ingest.server import GatewayConfig, GatewayStats, bound_port, serve
from streams.ingest.tokens import issue
from streams.ingest.validate import event_to_json
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, delete_topics_with_prefix
from streams.settings import Settings, get_settings
from streams.simulators.chat import conversations

SECRET = "bench-secret"
TARGET_EVENTS_PER_S = 5_000


def _frames(count: int, clients: int, batch: int) -> list[list[str]]:
    events = [event_to_json(r.value) for r in conversations(count, seed=3,
                                                            start_ms=1_741_900_000_000)]
    # a conversation stays on one connection, as it would from one widget or desk
    per_client: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for event in events:
        per_client[zlib.crc32(event["conversation_id"].encode()) % clients].append(event)
    return [[json.dumps(chunk[i:i + batch]) for i in range(0, len(chunk), batch)]
            for chunk in per_client]


async def _client(url: str, token: str, frames: list[str], window: int) -> int:
    acked = 0
    async with connect(url, proxy=None, compression=None,
                       additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        expected = sum(len(json.loads(f)) for f in frames)
        room = asyncio.Semaphore(window)
        per_frame = [len(json.loads(f)) for f in frames]

        async def send_all() -> None:
            for frame in frames:
                await room.acquire()
                await ws.send(frame)

        sender = asyncio.create_task(send_all())
        pending = list(reversed(per_frame))  # acks of a frame arrive together, in order
        in_frame = 0
        while acked < expected:
            reply = json.loads(await ws.recv())
            if reply.get("type") != "ack":
                raise RuntimeError(f"gateway refused an event: {reply}")
            acked += 1
            in_frame += 1
            if in_frame == pending[-1]:
                pending.pop()
                in_frame = 0
                room.release()
        await sender
    return acked


def _client_process(url: str, count: int, clients: int, batch: int, window: int,
                    results: Any) -> None:
    frames = _frames(count, clients, batch)
    token = issue("bench", "chat_service", 3_600, SECRET, time.time())

    async def main() -> tuple[int, float]:
        started = time.perf_counter()
        counts = await asyncio.gather(*(_client(url, token, f, window) for f in frames))
        return sum(counts), time.perf_counter() - started

    results.put(asyncio.run(main()))


async def _bench(settings: Settings, count: int, clients: int, batch: int, window: int
                 ) -> dict[str, Any]:
    sink = KafkaEventSink(settings)
    stats = GatewayStats()
    server = await serve(GatewayConfig(port=0, secret=SECRET, rate_per_second=1e9,
                                       burst=1_000_000, max_frame_bytes=4 * 1_048_576),
                         sink, stats)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    url = f"ws://127.0.0.1:{bound_port(server)}/events"
    proc = ctx.Process(target=_client_process, args=(url, count, clients, batch, window, results))
    proc.start()
    try:
        acked, seconds = await asyncio.to_thread(results.get, True, 600)
    finally:
        await asyncio.to_thread(proc.join, 30)
        server.close()
        await server.wait_closed()
        await sink.close()
    rate = acked / seconds
    return {
        "events": acked, "seconds": round(seconds, 3), "events_per_s": round(rate),
        "clients": clients, "batch": batch, "window": window,
        "kafka_acknowledged": sink.delivered, "gateway_accepted": stats.accepted,
        "target_events_per_s": TARGET_EVENTS_PER_S, "meets_target": rate >= TARGET_EVENTS_PER_S,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="events per frame")
    parser.add_argument("--window", type=int, default=4, help="unacknowledged frames per client")
    args = parser.parse_args(argv)
    base = get_settings()
    started_kafka = not kafka_local.status(base).answering
    if started_kafka:
        kafka_local.up(base)
    settings = Settings(kafka_bootstrap_servers=base.kafka_bootstrap_servers,
                        topic_prefix=f"bench{uuid.uuid4().hex[:8]}.")
    try:
        create_topics(settings)
        result = asyncio.run(_bench(settings, args.events, args.clients, args.batch,
                                    args.window))
    finally:
        delete_topics_with_prefix(settings, settings.topic_prefix)
        if started_kafka:
            kafka_local.down(base)
    print(json.dumps(result, indent=2))
    ingest = {k: result[k] for k in ("events", "events_per_s", "clients", "batch") if k in result}
    update_latest(lambda previous: {**previous, "ingest": ingest})
    return result


if __name__ == "__main__":
    main()
