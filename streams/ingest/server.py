"""Gateway mode: chat widgets, agent desks and the chat service push events over WebSocket.

Per connection: the token and Origin are checked before the upgrade (401 / 403); frames
larger than ``max_frame_bytes`` close the connection with 1009; every event costs a token
of a per-connection bucket (``rate_per_second``, ``burst``) and is refused with
``rate_limited`` when there is none. A frame holds one event or a JSON list of events. Bad
input (``bad_json``, ``bad_frame``, ``invalid_event``) is answered with an error frame, so
the sender can fix it, and is also dead-lettered with its raw bytes and the reason
(``streams.ingest.deadletters``; one event of a list is dead-lettered on its own), so that
operators see it and can replay it. Dead letters have a per-connection budget of their own
(``dead_letter_rate_per_second``, ``dead_letter_burst``): beyond it bad input still gets its
error frame but is only counted and logged, so that one abusive sender cannot flood the
dead-letter topic. Oversized frames (closed with 1009) are never read, so never
dead-lettered; rate-limited events are not bad input (the sender resends them) and are not
dead-lettered either. Good events go to the sink, and each is acknowledged
(``{"type":"ack","event_id":...}``) only once the sink has stored it and the frame's dead
letters. Up to ``max_pending_batches`` frames per connection are in the sink at once; beyond
that the gateway stops reading the connection, which slows the sender down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

from streams.ingest.auth import authenticator, connection_claims
from streams.ingest.deadletters import MAX_VALUE_BYTES, conversation_key, rejected
from streams.ingest.metrics import with_metrics
from streams.ingest.ratelimit import RateLimiter
from streams.ingest.sink import EventSink
from streams.ingest.validate import event_from_json
from streams.kernel.deadletter import DeadLetter
from streams.kernel.errors import InvalidMessage

log = logging.getLogger(__name__)

ErrorCode = Literal["bad_json", "bad_frame", "invalid_event", "rate_limited", "unavailable"]

DEFAULT_PORT: Final = 8765


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port
    secret: str
    allowed_origins: tuple[str, ...] = ()
    max_frame_bytes: int = MAX_VALUE_BYTES  # an event must fit Kafka's 1 MB message default
    rate_per_second: float = 500.0
    burst: int = 1_000
    max_pending_batches: int = 8
    compression: bool = False  # permessage-deflate costs CPU per frame
    # bad input dead-lettered per connection; beyond that it is only answered and counted
    dead_letter_rate_per_second: float = 10.0
    dead_letter_burst: int = 100


@dataclass
class GatewayStats:
    connections: int = 0
    accepted: int = 0  # acknowledged: stored by the sink
    invalid: int = 0  # bad input answered with an error frame
    dead_lettered: int = 0  # bad input the sink stored on the dead-letter topic
    dead_letters_over_budget: int = 0  # bad input not dead-lettered: over the connection's budget
    dead_letters_failed: int = 0  # dead letters the sink refused
    rate_limited: int = 0
    failed: int = 0  # events refused by the sink
    frames: int = 0  # frames received
    open_connections: int = 0  # connections open now (a gauge)


@dataclass
class _Frame:
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


@dataclass
class _Sender:
    """One connection's limits and the ``touchstream.ingest.source`` of its dead letters."""

    events: RateLimiter
    dead_letters: RateLimiter
    source: str
    over_budget: bool = False  # warned that dead letters are over budget


def error_frame(code: ErrorCode, message: str, ref: str | None = None,
                index: int | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message, "ref": ref}
    if index is not None:
        frame["index"] = index
    return json.dumps(frame)


def _ref(item: object) -> str | None:
    if isinstance(item, Mapping):
        ref = item.get("event_id")
        if isinstance(ref, str):
            return ref
    return None


def _items(message: str | bytes) -> list[object] | tuple[ErrorCode, InvalidMessage]:
    """The event objects of a frame (a list when the frame is one), or the error code and
    reason refusing it whole."""
    try:
        decoded = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        return "bad_json", InvalidMessage("undecodable", f"frame is not JSON: {exc}")
    if isinstance(decoded, list):
        items: list[object] = decoded
    elif isinstance(decoded, dict):
        items = _Single([decoded])
    else:
        return "bad_frame", InvalidMessage(
            "invalid_field", "a frame holds an event object or a list of them")
    out: list[object] = []
    for item in items:
        # an event may also come in the event envelope the chat service uses
        if isinstance(item, dict) and "type" in item:
            if item.get("type") == "event" and "event" in item:
                item = item["event"]
            else:
                return "bad_frame", InvalidMessage(
                    "invalid_field", f"unsupported frame type {item.get('type')!r}")
        out.append(item)
    return _Single(out) if isinstance(items, _Single) else out


class _Single(list[object]):
    """The one event of a frame that is not a list."""


def _source(connection: ServerConnection) -> str:
    claims = connection_claims(connection)
    who = "unknown" if claims is None else f"sub={claims.sub} role={claims.role}"
    peer = connection.remote_address
    where = f" from {peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
    return who + where


class Gateway:
    def __init__(self, config: GatewayConfig, sink: EventSink,
                 stats: GatewayStats | None = None) -> None:
        self.config = config
        self.sink = sink
        self.stats = stats or GatewayStats()

    def _accept(self, message: str | bytes, sender: _Sender) -> _Frame:
        frame = _Frame()
        items = _items(message)
        if isinstance(items, tuple):
            code, exc = items
            self.stats.invalid += 1
            frame.errors.append(error_frame(code, exc.detail))
            self._reject(frame, sender, message, exc, None)
            return frame
        single = len(items) == 1
        for index, item in enumerate(items):
            if not sender.events.try_take():
                self.stats.rate_limited += 1
                frame.errors.append(error_frame(
                    "rate_limited", f"over {self.config.rate_per_second:g} events/s; "
                    "send it again later", _ref(item), None if single else index))
                continue
            try:
                frame.events.append(event_from_json(item))
            except InvalidMessage as exc:
                self.stats.invalid += 1
                frame.errors.append(error_frame("invalid_event", exc.detail, _ref(item),
                                                None if single else index))
                # the frame's own bytes when it is this event alone
                self._reject(frame, sender, message if isinstance(items, _Single) else None,
                             exc, item)
        return frame

    def _reject(self, frame: _Frame, sender: _Sender, value: str | bytes | None,
                exc: InvalidMessage, item: object) -> None:
        """Dead-letter bad input within the sender's budget; ``value`` None: the event
        ``item`` as JSON (serialised only when it is dead-lettered)."""
        if not sender.dead_letters.try_take():
            self.stats.dead_letters_over_budget += 1
            if not sender.over_budget:  # once per connection: the sender may be flooding
                sender.over_budget = True
                log.warning("%s sends bad input faster than %g dead letters/s; the excess is "
                            "answered but not dead-lettered", sender.source,
                            self.config.dead_letter_rate_per_second)
            return
        frame.dead.append(rejected(
            json.dumps(item) if value is None else value, exc, mode="gateway",
            source=sender.source, topic=self.sink.topic,
            dlq_topic=self.sink.dlq_topic, now_ms=time.time_ns() // 1_000_000,
            key=conversation_key(item),
        ))

    async def handle(self, connection: ServerConnection) -> None:
        self.stats.connections += 1
        self.stats.open_connections += 1
        sender = _Sender(
            events=RateLimiter(self.config.rate_per_second, self.config.burst),
            dead_letters=RateLimiter(self.config.dead_letter_rate_per_second,
                                     self.config.dead_letter_burst),
            source=_source(connection),
        )
        slots = asyncio.Semaphore(self.config.max_pending_batches)
        deliveries: set[asyncio.Task[None]] = set()
        try:
            async for message in connection:
                self.stats.frames += 1
                frame = self._accept(message, sender)
                for error in frame.errors:
                    await connection.send(error)
                if frame.events or frame.dead:
                    await slots.acquire()  # too much in the sink: stop reading
                    task = asyncio.create_task(
                        self._deliver(connection, frame.events, frame.dead, slots))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
        except ConnectionClosed:
            pass
        finally:
            self.stats.open_connections -= 1
            if deliveries:
                await asyncio.gather(*deliveries, return_exceptions=True)

    async def _deliver(self, connection: ServerConnection, events: list[dict[str, Any]],
                       dead: list[DeadLetter], slots: asyncio.Semaphore) -> None:
        try:
            try:
                await self.sink.send(events, dead)
            except Exception as exc:  # DeliveryError, or the producer refusing a record
                self.stats.failed += len(events)
                self.stats.dead_letters_failed += len(dead)
                # the senders of bad input had their error frames; only the copy is lost
                log.warning("sink refused %d events and %d dead letters: %s", len(events),
                            len(dead), exc)
                replies = [error_frame("unavailable", f"not stored, send it again: {exc}",
                                       e["event_id"]) for e in events]
            else:
                self.stats.accepted += len(events)
                self.stats.dead_lettered += len(dead)
                replies = [f'{{"type":"ack","event_id":{json.dumps(e["event_id"])}}}'
                           for e in events]
            for reply in replies:
                await connection.send(reply)
        except ConnectionClosed:
            pass  # the sender resends what it saw no ack for
        finally:
            slots.release()


async def serve(config: GatewayConfig, sink: EventSink,
                stats: GatewayStats | None = None) -> Server:
    """Start the gateway; stop it with ``server.close(); await server.wait_closed()``."""
    gateway = Gateway(config, sink, stats)
    return await ws_serve(
        gateway.handle,
        config.host,
        config.port,
        # GET /metrics is answered before the handshake checks (streams.ingest.metrics)
        process_request=with_metrics(
            authenticator(config.secret, allowed_origins=config.allowed_origins), gateway.stats),
        max_size=config.max_frame_bytes,
        compression="deflate" if config.compression else None,
    )


def bound_port(server: Server) -> int:
    """The port a server listens on (useful with ``port=0``)."""
    return int(next(iter(server.sockets)).getsockname()[1])


async def run_gateway(config: GatewayConfig, sink: EventSink, stop: asyncio.Event) -> GatewayStats:
    """Serve until ``stop`` is set, then close connections (pending acks go out first)."""
    stats = GatewayStats()
    server = await serve(config, sink, stats)
    log.info("ingest gateway on ws://%s:%d", config.host, bound_port(server))
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
    return stats
