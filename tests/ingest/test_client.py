from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from streams.ingest.client import (
    Backoff,
    ClientAuthError,
    ClientConfig,
    ClientStats,
    CursorStore,
    RecentIds,
    run_client,
)
from streams.ingest.tokens import issue
from streams.kernel.deadletter import origin
from streams.simulators.chat_service import ChatService, ChatServiceConfig, event_log
from tests.ingest.conftest import MemorySink, dlq_headers, run

SECRET = "chat-service-secret"
START_MS = 1_741_900_000_000


def client_config(port: int, state: Path, **changes: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "url": f"ws://127.0.0.1:{port}/v1/events",
        "token": issue("touchstream", "chat_service", 600, SECRET, time.time()),
        "state_path": state,
        "batch_max": 50,
        "batch_ms": 20,
        "backoff_initial": 0.01,
        "backoff_max": 0.1,
    }
    values.update(changes)
    return ClientConfig(**values)


def service_config(**changes: Any) -> ChatServiceConfig:
    values: dict[str, Any] = {"port": 0, "secret": SECRET, "count": 2_000, "seed": 5,
                              "start_ms": START_MS}
    values.update(changes)
    return ChatServiceConfig(**values)


async def wait_for(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def assert_exactly_once_in_order(delivered: list[dict[str, Any]], log: list[dict[str, Any]]
                                 ) -> None:
    ids = [e["event_id"] for e in delivered]
    assert len(ids) == len(set(ids)), "an event was produced twice"
    assert set(ids) == {e["event_id"] for e in log}, "an event is missing"
    expected: dict[str, list[str]] = defaultdict(list)
    for e in log:
        expected[e["conversation_id"]].append(e["event_id"])
    got: dict[str, list[str]] = defaultdict(list)
    for e in delivered:
        got[e["conversation_id"]].append(e["event_id"])
    assert got == expected, "per-conversation order differs"


def test_log_is_deterministic_for_a_seed() -> None:
    assert event_log(300, 5, START_MS) == event_log(300, 5, START_MS)
    assert event_log(300, 5, START_MS) != event_log(300, 6, START_MS)


def test_disconnects_resends_and_a_restart_deliver_every_event_once_in_order(
        tmp_path: Path) -> None:
    async def body() -> ClientStats:
        config = service_config(drop_probability=0.02, resend=5, rate=4_000)
        service = ChatService(config)
        await service.start()
        port = service.port
        sink = MemorySink(delay=0.002)
        stop = asyncio.Event()
        client = asyncio.create_task(run_client(client_config(port, tmp_path / "cursor.json"),
                                                sink, stop))
        await wait_for(lambda: len(sink.events) >= 700)
        await service.close()  # the service goes away mid-stream...
        await asyncio.sleep(0.3)
        restarted = ChatService(service_config(drop_probability=0.02, resend=5, rate=4_000,
                                               port=port, drop_seed=2))
        await restarted.start()  # ...and comes back with the same log
        try:
            await wait_for(lambda: len(sink.events) >= 2_000)
            await wait_for(lambda: restarted.stats.acked_cursor == 1_999)
            await asyncio.sleep(0.1)  # anything more would show up now
            stop.set()
            stats = await client
        finally:
            await restarted.close()
        assert_exactly_once_in_order(sink.events, service.events)
        assert stats.acked_cursor == 1_999
        assert CursorStore(tmp_path / "cursor.json").load() == 1_999
        assert stats.produced == 2_000
        assert stats.connections >= 3 and stats.duplicates > 0
        return stats

    run(body, timeout=90)


def test_restarted_client_resumes_from_the_saved_cursor(tmp_path: Path) -> None:
    async def body() -> None:
        service = ChatService(service_config(count=400, rate=1_000))
        await service.start()
        state = tmp_path / "cursor.json"
        try:
            first = MemorySink()
            stop = asyncio.Event()
            task = asyncio.create_task(run_client(client_config(service.port, state), first, stop))
            await wait_for(lambda: len(first.events) >= 150)
            stop.set()
            stats = await task
            saved = CursorStore(state).load()
            assert saved is not None and saved == stats.acked_cursor and saved < 399
            second = MemorySink()
            stop = asyncio.Event()
            task = asyncio.create_task(run_client(client_config(service.port, state), second,
                                                  stop))
            await wait_for(lambda: CursorStore(state).load() == 399)
            stop.set()
            await task
        finally:
            await service.close()
        assert_exactly_once_in_order(first.events + second.events, service.events)
        assert second.events[0]["event_id"] == service.events[saved + 1]["event_id"]

    run(body)


def test_failed_batch_is_replayed_and_later_batches_are_not_duplicated(tmp_path: Path) -> None:
    async def body() -> None:
        service = ChatService(service_config(count=600))
        await service.start()
        sink = MemorySink(delay=0.005)
        stop = asyncio.Event()
        calls_before_failure = 3
        original = sink.send

        async def flaky(events: Any, dead_letters: Any = ()) -> None:
            if sink.calls == calls_before_failure and not getattr(flaky, "done", False):
                flaky.done = True  # type: ignore[attr-defined]
                sink.fail_next = 1
            await original(events, dead_letters)

        sink.send = flaky  # type: ignore[method-assign]
        try:
            task = asyncio.create_task(run_client(
                client_config(service.port, tmp_path / "c.json", batch_max=20,
                              max_pending_batches=4), sink, stop))
            await wait_for(lambda: service.stats.acked_cursor == 599)
            stop.set()
            stats = await task
        finally:
            await service.close()
        assert_exactly_once_in_order(sorted(sink.events, key=lambda e: e["occurred_at"]),
                                     service.events)
        assert stats.connections >= 2 and stats.duplicates > 0

    run(body)


def test_invalid_input_from_the_service_is_dead_lettered_and_acknowledged(tmp_path: Path
                                                                         ) -> None:
    log = event_log(20, 5, START_MS)
    log[3] = {**log[3], "channel": "FAX"}
    log[7] = {**log[7], "event_id": log[6]["event_id"]}  # a duplicate id
    service = ChatService(service_config(count=20), log_events=log)
    frames = service._frames
    frames[10] = "{not json"
    frames[12] = json.dumps({"type": "event", "cursor": "12", "event": log[12]})
    frames[14] = json.dumps({"type": "heartbeat"})  # protocol, not input: ignored

    async def body() -> ClientStats:
        await service.start()
        url = f"ws://127.0.0.1:{service.port}/v1/events"  # the token stays out of the headers
        sink = MemorySink()
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_client(
                client_config(service.port, tmp_path / "c", token_in_query=True), sink, stop))
            await wait_for(lambda: service.stats.acked_cursor == 19)
            stop.set()
            stats = await task
        finally:
            await service.close()
        assert [e["event_id"] for e in sink.events] == [
            e["event_id"] for i, e in enumerate(log) if i not in (3, 7, 10, 12, 14)]
        fax, not_json, no_cursor = sink.dead_letters

        assert fax.raw.value == frames[3].encode()
        assert fax.raw.key == log[3]["conversation_id"].encode()
        assert fax.dlq_topic == "chat.events.dlq"
        headers = dlq_headers(fax)
        assert headers["touchstream.dlq.reason"].startswith("field channel: 'FAX'")
        assert datetime.fromisoformat(headers.pop("touchstream.dlq.failed_at")).tzinfo
        assert headers == {
            "touchstream.ingest.mode": "client",
            "touchstream.ingest.source": url,
            "touchstream.ingest.cursor": "3",
            "touchstream.dlq.original_topic": "chat.events",
            "touchstream.dlq.original_partition": "-1",
            "touchstream.dlq.original_offset": "-1",
            "touchstream.dlq.error": "invalid_field",
            "touchstream.dlq.reason": headers["touchstream.dlq.reason"],
            "touchstream.dlq.replays": "0",
        }
        # what ``dlq replay`` reads to send it back: the physical chat.events topic
        assert origin(dict(fax.headers())) == ("chat.events", -1, -1)

        assert (not_json.raw.value, not_json.raw.key) == (b"{not json", None)
        assert not_json.error == "undecodable" and "not JSON" in not_json.reason
        assert "touchstream.ingest.cursor" not in dlq_headers(not_json)
        assert dlq_headers(not_json)["touchstream.ingest.source"] == url

        assert no_cursor.raw.value == frames[12].encode()
        assert no_cursor.raw.key == log[12]["conversation_id"].encode()
        assert (no_cursor.error, no_cursor.reason) == (
            "invalid_field", "field cursor: '12', expected an integer")
        return stats

    stats = run(body)
    assert (stats.invalid, stats.dead_lettered, stats.duplicates, stats.produced) == (3, 3, 1, 15)


def test_a_cursor_is_acknowledged_only_once_its_dead_letter_is_stored(tmp_path: Path) -> None:
    async def body() -> None:
        log = [{**e, "occurred_at": 12} for e in event_log(3, 5, START_MS)]  # seconds, not ms
        service = ChatService(service_config(count=3), log_events=log)
        await service.start()
        gate = asyncio.Event()
        sink = MemorySink(gate=gate)
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_client(client_config(service.port, tmp_path / "c"),
                                                  sink, stop))
            await wait_for(lambda: sink.calls == 1)
            await asyncio.sleep(0.2)
            assert service.stats.acked_cursor is None and sink.dead_letters == []
            assert CursorStore(tmp_path / "c").load() is None
            gate.set()
            await wait_for(lambda: service.stats.acked_cursor == 2)
            stop.set()
            await task
        finally:
            await service.close()
        assert sink.events == []
        assert [dlq_headers(d)["touchstream.ingest.cursor"] for d in sink.dead_letters] == [
            "0", "1", "2"]

    run(body)


def test_reconnects_and_a_failed_batch_neither_lose_nor_duplicate_dead_letters(tmp_path: Path
                                                                               ) -> None:
    log = event_log(600, 5, START_MS)
    bad = set(range(5, 600, 40))
    for i in bad:
        log[i] = {**log[i], "sender_role": "ROBOT"}
    good = [e for i, e in enumerate(log) if i not in bad]

    async def body() -> ClientStats:
        service = ChatService(service_config(count=600, drop_probability=0.02, resend=5,
                                             drop_seed=3), log_events=log)
        await service.start()
        sink = MemorySink(delay=0.002)
        original = sink.send

        async def flaky(events: Any, dead_letters: Any = ()) -> None:
            if sink.calls == 4 and not getattr(flaky, "done", False):
                flaky.done = True  # type: ignore[attr-defined]
                sink.fail_next = 1
            await original(events, dead_letters)

        sink.send = flaky  # type: ignore[method-assign]
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_client(
                client_config(service.port, tmp_path / "c", batch_max=10, max_pending_batches=4),
                sink, stop))
            await wait_for(lambda: service.stats.acked_cursor == 599)
            stop.set()
            stats = await task
        finally:
            await service.close()
        assert_exactly_once_in_order(sorted(sink.events, key=lambda e: e["occurred_at"]), good)
        cursors = [int(dlq_headers(d)["touchstream.ingest.cursor"]) for d in sink.dead_letters]
        assert sorted(cursors) == sorted(bad)
        assert all(d.error == "invalid_field" and "sender_role" in d.reason
                   for d in sink.dead_letters)
        return stats

    stats = run(body, timeout=90)
    assert stats.connections >= 3 and stats.duplicates > 0
    assert stats.dead_lettered == len(bad)


def test_slow_sink_slows_reading(tmp_path: Path) -> None:
    async def body() -> None:
        # 4,000 events of 5 kB: more than loopback socket buffers hold
        log = [{**e, "metadata": {"pad": "x" * 5_000}} for e in event_log(4_000, 5, START_MS)]
        service = ChatService(service_config(count=4_000), log_events=log)
        await service.start()
        gate = asyncio.Event()
        sink = MemorySink(gate=gate)
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_client(
                client_config(service.port, tmp_path / "c", batch_max=10, max_pending_batches=2),
                sink, stop))
            await asyncio.sleep(0.5)
            # two batches in the sink, one being filled, a few frames in buffers: no more
            assert sink.calls == 2
            assert service.stats.sent < 4_000
            gate.set()
            await wait_for(lambda: service.stats.acked_cursor == 3_999)
            stop.set()
            await task
        finally:
            await service.close()
        assert len(sink.events) == 4_000

    run(body)


def test_bad_token_is_fatal(tmp_path: Path) -> None:
    async def body() -> None:
        service = ChatService(service_config(count=10))
        await service.start()
        try:
            config = client_config(service.port, tmp_path / "c", token="bad.token",
                                   token_in_query=True)
            with pytest.raises(ClientAuthError, match="401"):
                await run_client(config, MemorySink(), asyncio.Event())
        finally:
            await service.close()

    run(body)


class _MaxRandom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    top = Backoff(0.1, 1.0, _MaxRandom())
    assert [round(top.next(), 6) for _ in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    top.reset()
    assert top.next() == pytest.approx(0.1)
    rng, jitter = random.Random(3), Backoff(0.1, 1.0, random.Random(3))
    for attempt in range(8):
        assert jitter.next() == rng.uniform(0, min(1.0, 0.1 * 2**attempt))


def test_reconnect_waits_follow_the_backoff(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def body() -> list[float]:
        stop = asyncio.Event()
        slept: list[float] = []

        async def fake_sleep(delay: float) -> None:
            slept.append(delay)
            if len(slept) == 6:
                stop.set()

        stats = await run_client(
            client_config(port, tmp_path / "c", backoff_initial=0.5, backoff_max=4.0),
            MemorySink(), stop, sleep=fake_sleep, rng=random.Random(11))
        assert stats.reconnects == 6 and stats.connections == 0
        return slept

    started = time.monotonic()
    slept = run(body)
    assert time.monotonic() - started < 5  # nothing really slept
    rng = random.Random(11)
    assert slept == [rng.uniform(0, min(4.0, 0.5 * 2**n)) for n in range(6)]


def test_recent_ids_forget_the_oldest() -> None:
    recent = RecentIds(3)
    recent.add_all(["a", "b", "c"])
    recent.add_all(["a", "d"])  # "a" refreshed, "b" evicted
    assert "b" not in recent and all(x in recent for x in "acd") and len(recent) == 3


def test_cursor_store_is_atomic_and_validated(tmp_path: Path) -> None:
    store = CursorStore(tmp_path / "deep" / "cursor.json")
    assert store.load() is None
    store.save(41)
    store.save(42)
    assert store.load() == 42
    assert json.loads(store.path.read_text())["cursor"] == 42
    assert [p.name for p in store.path.parent.iterdir()] == ["cursor.json"]
    store.path.write_text('{"cursor": "x"}')
    with pytest.raises(ValueError, match="not an integer"):
        store.load()
