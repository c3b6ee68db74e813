from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from streams.ingest.server import GatewayConfig, GatewayStats, bound_port, serve
from streams.ingest.tokens import issue
from tests.ingest.conftest import MemorySink, dlq_headers, run

SECRET = "gateway-secret"


def token(role: Any = "widget", ttl: float = 60, secret: str = SECRET) -> str:
    return issue("test", role, ttl, secret, time.time())


def event(n: int, conversation: str = "conv-1", **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event_id": f"evt-{n}", "conversation_id": conversation, "event_type": "MESSAGE",
        "occurred_at": 1_741_946_412_350 + n, "channel": "WEB", "sender_role": "CUSTOMER",
        "text": f"message {n}", "customer": {"anonymous_id": "anon-1"},
    }
    value.update(changes)
    return value


@asynccontextmanager
async def gateway(sink: Any, **config: Any) -> AsyncIterator[tuple[str, GatewayStats]]:
    stats = GatewayStats()
    server = await serve(GatewayConfig(port=0, secret=SECRET, **config), sink, stats)
    try:
        yield f"ws://127.0.0.1:{bound_port(server)}/events", stats
    finally:
        server.close()
        await server.wait_closed()


def open_ws(url: str, **kwargs: Any) -> connect:
    kwargs.setdefault("additional_headers", {"Authorization": f"Bearer {token()}"})
    return connect(url, proxy=None, **kwargs)


async def replies(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    return [json.loads(await ws.recv()) for _ in range(n)]


def test_missing_bad_or_expired_token_gets_401() -> None:
    async def body() -> None:
        async with gateway(MemorySink()) as (url, _):
            for headers in ({}, {"Authorization": "Bearer nonsense"},
                            {"Authorization": f"Bearer {token(secret='other')}"},
                            {"Authorization": f"Bearer {token(ttl=-1)}"}):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(url, proxy=None, additional_headers=headers):
                        pass
                assert refused.value.response.status_code == 401

    run(body)


def test_token_in_query_is_accepted() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink) as (url, _), connect(f"{url}?token={token()}", proxy=None) as ws:
            await ws.send(json.dumps(event(1)))
            assert await replies(ws, 1) == [{"type": "ack", "event_id": "evt-1"}]

    run(body)


def test_foreign_origin_gets_403_and_allowed_origin_passes() -> None:
    async def body() -> None:
        async with gateway(MemorySink(), allowed_origins=("https://shop.example",)) as (url, _):
            with pytest.raises(InvalidStatus) as refused:
                async with open_ws(url, origin="https://evil.example"):
                    pass
            assert refused.value.response.status_code == 403
            async with open_ws(url, origin="https://shop.example") as ws:
                await ws.send(json.dumps(event(1)))
                assert (await replies(ws, 1))[0]["type"] == "ack"

    run(body)


def test_oversized_frame_closes_with_1009() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink, max_frame_bytes=2_000) as (url, _), open_ws(url) as ws:
            await ws.send(json.dumps(event(1, text="x" * 5_000)))
            with pytest.raises(ConnectionClosedError):
                await ws.recv()
            assert ws.close_code == 1009
        assert sink.dead_letters == []  # never read, so never dead-lettered

    run(body)


def test_bad_frames_get_error_frames_and_the_connection_stays_usable() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink) as (url, stats), open_ws(url) as ws:
            await ws.send("{not json")
            (bad_json,) = await replies(ws, 1)
            assert bad_json["type"] == "error" and bad_json["code"] == "bad_json"
            await ws.send("42")
            assert (await replies(ws, 1))[0]["code"] == "bad_frame"
            await ws.send(json.dumps(event(1, channel="FAX")))
            (invalid,) = await replies(ws, 1)
            assert invalid == {"type": "error", "code": "invalid_event", "ref": "evt-1",
                               "message": invalid["message"]}
            assert "field channel" in invalid["message"]
            # a list: bad ones are answered by position, good ones produced and acknowledged
            await ws.send(json.dumps([event(2), event(3, text=None), event(4)]))
            answers = await replies(ws, 3)
            errors = [a for a in answers if a["type"] == "error"]
            assert errors == [{"type": "error", "code": "invalid_event", "ref": "evt-3",
                               "index": 1, "message": errors[0]["message"]}]
            assert "field text" in errors[0]["message"]
            await ws.send(json.dumps([event(5, channel="FAX")]))
            assert [a["code"] for a in await replies(ws, 1)] == ["invalid_event"]
            assert sorted(a["event_id"] for a in answers if a["type"] == "ack") == [
                "evt-2", "evt-4"]
            assert [e["event_id"] for e in sink.events] == ["evt-2", "evt-4"]
            assert stats.invalid == 5 and stats.accepted == 2
            host, port = ws.local_address[:2]
        assert stats.dead_lettered == 5 and stats.dead_letters_over_budget == 0
        # each bad input is dead-lettered too, with its raw bytes, the reason and the sender
        not_json, not_events, fax, no_text, lone = sink.dead_letters
        assert (not_json.raw.value, not_json.error) == (b"{not json", "undecodable")
        assert (not_events.raw.value, not_events.error) == (b"42", "invalid_field")
        assert fax.raw.value == json.dumps(event(1, channel="FAX")).encode()  # the frame
        assert fax.raw.key == b"conv-1" and fax.reason.startswith("field channel: 'FAX'")
        assert no_text.raw.value == json.dumps(event(3, text=None)).encode()  # its list item
        assert lone.raw.value == json.dumps(event(5, channel="FAX")).encode()  # not the list
        assert no_text.reason == "field text: missing or empty, required for MESSAGE events"
        headers = dlq_headers(no_text)
        del headers["touchstream.dlq.failed_at"]
        assert headers == {
            "touchstream.ingest.mode": "gateway",
            "touchstream.ingest.source": f"sub=test role=widget from {host}:{port}",
            "touchstream.dlq.original_topic": "chat.events",
            "touchstream.dlq.original_partition": "-1",
            "touchstream.dlq.original_offset": "-1",
            "touchstream.dlq.error": "invalid_field",
            "touchstream.dlq.reason": no_text.reason,
            "touchstream.dlq.replays": "0",
        }
        assert {d.dlq_topic for d in sink.dead_letters} == {"chat.events.dlq"}

    run(body)


def test_dead_letters_have_a_budget_per_connection() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink, dead_letter_rate_per_second=0.001, dead_letter_burst=2) as (
                url, stats), open_ws(url) as ws:
            await ws.send(json.dumps([event(n, channel="FAX") for n in range(4)] + [event(9)]))
            answers = await replies(ws, 5)
            assert [a["code"] for a in answers if a["type"] == "error"] == ["invalid_event"] * 4
            assert [a["event_id"] for a in answers if a["type"] == "ack"] == ["evt-9"]
            assert stats.dead_letters_over_budget == 2
            async with open_ws(url) as other:  # the budget is the connection's
                await other.send(json.dumps(event(5, channel="FAX")))
                await replies(other, 1)
                await ws.send(json.dumps(event(6, channel="FAX")))
                await replies(ws, 1)
                await other.send(json.dumps(event(7)))
                assert await replies(other, 1) == [{"type": "ack", "event_id": "evt-7"}]
        assert [json.loads(d.raw.value or b"")["event_id"] for d in sink.dead_letters] == [
            "evt-0", "evt-1", "evt-5"]
        assert stats.invalid == 6 and stats.dead_lettered == 3
        assert stats.dead_letters_over_budget == 3

    run(body)


def test_envelope_and_avro_ready_records() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink) as (url, _), open_ws(url) as ws:
            await ws.send(json.dumps({"type": "event", "event": event(
                1, occurred_at="2025-03-14T10:00:12.351Z", channel="web")}))
            assert (await replies(ws, 1))[0] == {"type": "ack", "event_id": "evt-1"}
        (record,) = sink.events
        assert record["occurred_at"] == 1_741_946_412_351 and record["channel"] == "WEB"
        assert record["customer"]["customer_id"] is None and record["metadata"] == {}

    run(body)


def test_rate_limit_refuses_excess_events() -> None:
    async def body() -> None:
        sink = MemorySink()
        async with gateway(sink, rate_per_second=1, burst=3) as (url, stats), open_ws(url) as ws:
            await ws.send(json.dumps([event(n) for n in range(5)]))
            answers = await replies(ws, 5)
            limited = [a for a in answers if a["type"] == "error"]
            assert [a["code"] for a in limited] == ["rate_limited", "rate_limited"]
            assert [a["ref"] for a in limited] == ["evt-3", "evt-4"]
            assert [e["event_id"] for e in sink.events] == ["evt-0", "evt-1", "evt-2"]
            assert stats.rate_limited == 2
            assert sink.dead_letters == []  # not bad input: the sender sends it again

    run(body)


def test_acks_only_after_the_sink_has_the_events() -> None:
    async def body() -> None:
        gate = asyncio.Event()
        sink = MemorySink(gate=gate)
        async with gateway(sink) as (url, _), open_ws(url) as ws:
            await ws.send(json.dumps([event(1), event(2)]))
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await ws.recv()
            assert sink.events == []
            gate.set()
            assert await replies(ws, 2) == [{"type": "ack", "event_id": "evt-1"},
                                            {"type": "ack", "event_id": "evt-2"}]
            assert len(sink.events) == 2

    run(body)


def test_sink_failure_is_reported_per_event_and_nothing_is_acked() -> None:
    async def body() -> None:
        sink = MemorySink()
        sink.fail_next = 1
        async with gateway(sink) as (url, stats), open_ws(url) as ws:
            await ws.send(json.dumps([event(1), event(2)]))
            answers = await replies(ws, 2)
            assert [(a["code"], a["ref"]) for a in answers] == [
                ("unavailable", "evt-1"), ("unavailable", "evt-2")]
            await ws.send(json.dumps(event(1)))  # the resend goes through
            assert await replies(ws, 1) == [{"type": "ack", "event_id": "evt-1"}]
            assert stats.failed == 2 and stats.accepted == 1

    run(body)


def test_a_saturated_sink_stops_the_gateway_reading() -> None:
    async def body() -> None:
        gate = asyncio.Event()
        sink = MemorySink(gate=gate)
        async with gateway(sink, max_pending_batches=2) as (url, _), open_ws(url) as ws:
            for n in range(5):
                await ws.send(json.dumps(event(n)))
            await asyncio.sleep(0.2)
            assert sink.calls == 2  # the third frame waits unread
            gate.set()
            answers = await replies(ws, 5)
            assert sorted(a["event_id"] for a in answers) == [f"evt-{n}" for n in range(5)]
            assert [e["event_id"] for e in sink.events] == [f"evt-{n}" for n in range(5)]

    run(body)
