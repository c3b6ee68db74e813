"""A thousand chat widgets on the WebSocket gateway, each cut off once within a minute and
resuming: every event lands once, none is lost or folded twice.

The gateway runs as its own process (``touchstream ingest server``) in front of the broker and
a worker. Each client is one widget holding a few conversations; it sends their events in
order, one frame each, paced so that the run lasts about ``SECONDS``; once, at a random moment,
its connection is cut without a closing handshake (the transport aborted, whatever was in
flight lost), and after a short pause it reconnects and resends every event it has no ack for,
as the gateway's protocol asks. An event the gateway had already produced before the cut is
produced again: the pipeline's event-id deduplication must keep it to one row and one fold.

``TOUCHSTREAM_FAULT_WS_CLIENTS`` (default 1000) and ``TOUCHSTREAM_FAULT_WS_SECONDS`` (60)
size the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from streams import topics
from streams.ingest.tokens import issue
from streams.ingest.validate import event_to_json
from streams.io.kafka_admin import end_offsets
from streams.kernel.records import OutputRecord
from streams.simulators.chat import conversations
from tests.faults import harness
from tests.faults.test_faults import report
from tests.integration.conftest import Pipeline, _free_port

pytestmark = pytest.mark.faults

CLIENTS = int(os.environ.get("TOUCHSTREAM_FAULT_WS_CLIENTS", "1000"))
SECONDS = float(os.environ.get("TOUCHSTREAM_FAULT_WS_SECONDS", "60"))
EVENTS_PER_CLIENT = 12
SECRET = "fault-gateway-secret"


@dataclass
class Widget:
    """One client: its events in order, what the gateway acknowledged, what it resent."""

    index: int
    events: list[dict[str, Any]]
    acked: set[str] = field(default_factory=set)
    resent: int = 0
    cut_at: float = 0.0
    resumed_s: float | None = None  # from reconnecting until everything sent is acked


async def _reader(ws: ClientConnection, widget: Widget, progress: asyncio.Event) -> None:
    try:
        async for message in ws:
            frame = json.loads(message)
            if frame.get("type") == "ack":
                widget.acked.add(frame["event_id"])
                progress.set()
    except ConnectionClosed:
        pass


async def _open(url: str) -> ClientConnection:
    token = issue(f"widget-{random.random()}", "widget", 3600, SECRET, time.time())
    for attempt in range(30):
        try:
            return await connect(url, proxy=None, open_timeout=30,
                                 additional_headers={"Authorization": f"Bearer {token}"})
        except (OSError, TimeoutError):
            await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
    raise AssertionError(f"could not connect to {url}")


async def _widget(url: str, widget: Widget, rng: random.Random, t0: float) -> None:
    gap = SECONDS * 0.8 / len(widget.events)
    cut_after = rng.randrange(1, len(widget.events))  # a cut mid-stream, never before the first
    ws = await _open(url)
    progress = asyncio.Event()
    reader = asyncio.create_task(_reader(ws, widget, progress))
    await asyncio.sleep(rng.uniform(0, gap))
    sent = 0  # events handed to a connection so far
    for i, event in enumerate(widget.events):
        if i < sent:
            continue
        if i == cut_after:
            # a burst goes out and the connection is cut before its acks can come back: the
            # gateway may have produced some of it, and the widget cannot know which
            burst = widget.events[i:i + 3]
            for e in burst:
                await ws.send(json.dumps(e))
            sent = i + len(burst)
            widget.cut_at = time.monotonic() - t0
            ws.transport.abort()  # no closing handshake: frames in flight are lost
            reader.cancel()
            await asyncio.sleep(rng.uniform(0.1, 2.0))
            ws = await _open(url)
            reconnected = time.monotonic()
            reader = asyncio.create_task(_reader(ws, widget, progress))
            missing = [e for e in widget.events[:sent] if e["event_id"] not in widget.acked]
            widget.resent += len(missing)
            for e in missing:
                await ws.send(json.dumps(e))
            while any(e["event_id"] not in widget.acked for e in widget.events[:sent]):
                progress.clear()
                await asyncio.wait_for(progress.wait(), timeout=60)
            widget.resumed_s = time.monotonic() - reconnected
            await asyncio.sleep(gap)
            continue
        await ws.send(json.dumps(event))
        sent = i + 1
        await asyncio.sleep(gap)
    deadline = time.monotonic() + 120
    while len(widget.acked) < len(widget.events) and time.monotonic() < deadline:
        progress.clear()
        try:
            await asyncio.wait_for(progress.wait(), timeout=5)
        except TimeoutError:  # a frame lost without a cut: resend what has no ack
            for e in widget.events:
                if e["event_id"] not in widget.acked:
                    widget.resent += 1
                    await ws.send(json.dumps(e))
    await ws.close()
    reader.cancel()


def _widgets(records: list[OutputRecord]) -> list[Widget]:
    """Whole conversations to each client, their events in order."""
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_conversation[r.value["conversation_id"]].append(event_to_json(r.value))
    widgets = [Widget(i, []) for i in range(CLIENTS)]
    for i, events in enumerate(by_conversation.values()):
        widgets[i % CLIENTS].events.extend(events)
    return [w for w in widgets if len(w.events) >= 2]


@pytest.mark.timeout(1200)
def test_a_thousand_websocket_clients_cut_off_and_resuming(pipeline: Pipeline,
                                                           tmp_path: Path) -> None:
    port = _free_port()
    env = {**pipeline.env, "TOUCHSTREAM_INGEST_PORT": str(port),
           "TOUCHSTREAM_INGEST_SECRET": SECRET}
    gateway_log = (pipeline.log_dir / "gateway.log").open("ab")
    gateway = subprocess.Popen([sys.executable, "-m", "streams.cli", "ingest", "server"],
                               env=env, stdout=gateway_log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        pipeline.start_worker()
        records = list(conversations(CLIENTS * EVENTS_PER_CLIENT, seed=1000))
        widgets = _widgets(records)
        ids = {e["event_id"] for w in widgets for e in w.events}
        sent = [r for r in records if r.value["event_id"] in ids]
        url = f"ws://127.0.0.1:{port}"

        async def run() -> float:
            t0 = time.monotonic()
            rng = random.Random(7)
            await asyncio.gather(*(_widget(url, w, random.Random(rng.random()), t0)
                                   for w in widgets))
            return time.monotonic() - t0

        took = asyncio.run(run())
        acked = sum(len(w.acked) for w in widgets)
        total = sum(len(w.events) for w in widgets)
        assert acked == total, f"{total - acked} events never acknowledged"
        # a resent event is produced again but leaves no second row, so the store's positions
        # need not reach the topic's end: wait for every event id instead
        physical = pipeline.settings.topic(topics.CHAT_EVENTS)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and int(pipeline.querier().sql(
                "SELECT uniqExact(event_id) FROM chat_events WHERE _topic = {t:String}",
                {"t": physical}).rows[0][0]) < len(ids):
            time.sleep(1)
        time.sleep(5)  # a second row or fold of a duplicate would land now
        count = harness.count(pipeline.querier(), pipeline.settings, sent)
        resumed = sorted(w.resumed_s for w in widgets if w.resumed_s is not None)
        report("websocket_clients_1000", count, resumed[-1] if resumed else None,
               clients=len(widgets), cuts=sum(1 for w in widgets if w.cut_at),
               resent=sum(w.resent for w in widgets),
               kafka_duplicates=sum(end_offsets(pipeline.settings, topics.CHAT_EVENTS).values())
               - count.produced, seconds=round(took, 1),
               resume_p50_s=round(resumed[len(resumed) // 2], 2) if resumed else None,
               note="recovery_s: the longest time from a client reconnecting until the gateway "
                    "had acknowledged everything it sent before the cut; kafka_duplicates: "
                    "events produced twice (resent after a cut) that deduplication kept to one")
        assert count.lost == 0 and count.duplicated == 0, count
        assert count.rollup_exact, count
    finally:
        gateway.terminate()
        try:
            gateway.wait(30)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
        gateway_log.close()
