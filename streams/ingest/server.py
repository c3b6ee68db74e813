"""Gateway mode: chat widgets, agent desks and the chat service push events over WebSocket.

Per connection: the token and Origin are checked before the upgrade (401 / 403); frames
larger than ``max_frame_bytes`` close the connection with 1009; every event costs a token
of a per-connection bucket (``rate_per_second``, ``burst``) and is refused with
``rate_limited`` when there is none. A frame holds one event or a JSON list of events. Bad
events are answered with an error frame and never produced; good ones go to the sink, and
each is acknowledged (``{"type":"ack","event_id":...}``) only once the sink has stored it.
Up to ``max_pending_batches`` frames per connection are in the sink at once; beyond that the
gateway stops reading the connection, which slows the sender down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

from streams.errors import InvalidMessage
from streams.ingest.auth import authenticator
from streams.ingest.ratelimit import RateLimiter
from streams.ingest.sink import DeliveryError, EventSink
from streams.ingest.validate import event_from_json

log = logging.getLogger(__name__)

ErrorCode = Literal["bad_json", "bad_frame", "invalid_event", "rate_limited", "unavailable"]

DEFAULT_PORT: Final = 8765


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port
    secret: str
    allowed_origins: tuple[str, ...] = ()
    max_frame_bytes: int = 1_048_576
    rate_per_second: float = 500.0
    burst: int = 1_000
    max_pending_batches: int = 8
    compression: bool = False  # permessage-deflate costs CPU per frame


@dataclass
class GatewayStats:
    connections: int = 0
    accepted: int = 0  # acknowledged: stored by the sink
    invalid: int = 0
    rate_limited: int = 0
    failed: int = 0  # refused by the sink


@dataclass
class _Frame:
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


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


def _items(message: str | bytes) -> list[object] | str:
    """The event objects of a frame, or the error frame answering it."""
    try:
        decoded = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        return error_frame("bad_json", f"frame is not JSON: {exc}")
    if isinstance(decoded, list):
        items: list[object] = decoded
    elif isinstance(decoded, dict):
        items = [decoded]
    else:
        return error_frame("bad_frame", "a frame holds an event object or a list of them")
    out: list[object] = []
    for item in items:
        # an event may also come in the event envelope the chat service uses
        if isinstance(item, dict) and "type" in item:
            if item.get("type") == "event" and "event" in item:
                item = item["event"]
            else:
                return error_frame("bad_frame", f"unsupported frame type {item.get('type')!r}")
        out.append(item)
    return out


class Gateway:
    def __init__(self, config: GatewayConfig, sink: EventSink,
                 stats: GatewayStats | None = None) -> None:
        self.config = config
        self.sink = sink
        self.stats = stats or GatewayStats()

    def _accept(self, message: str | bytes, limiter: RateLimiter) -> _Frame:
        frame = _Frame()
        items = _items(message)
        if isinstance(items, str):
            self.stats.invalid += 1
            frame.errors.append(items)
            return frame
        single = len(items) == 1
        for index, item in enumerate(items):
            if not limiter.try_take():
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
        return frame

    async def handle(self, connection: ServerConnection) -> None:
        self.stats.connections += 1
        limiter = RateLimiter(self.config.rate_per_second, self.config.burst)
        slots = asyncio.Semaphore(self.config.max_pending_batches)
        deliveries: set[asyncio.Task[None]] = set()
        try:
            async for message in connection:
                frame = self._accept(message, limiter)
                for error in frame.errors:
                    await connection.send(error)
                if frame.events:
                    await slots.acquire()  # too much in the sink: stop reading
                    task = asyncio.create_task(self._deliver(connection, frame.events, slots))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
        except ConnectionClosed:
            pass
        finally:
            if deliveries:
                await asyncio.gather(*deliveries, return_exceptions=True)

    async def _deliver(self, connection: ServerConnection, events: list[dict[str, Any]],
                       slots: asyncio.Semaphore) -> None:
        try:
            try:
                await self.sink.send(events)
            except DeliveryError as exc:
                self.stats.failed += len(events)
                log.warning("sink refused %d events: %s", len(events), exc)
                replies = [error_frame("unavailable", f"not stored, send it again: {exc}",
                                       e["event_id"]) for e in events]
            else:
                self.stats.accepted += len(events)
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
        process_request=authenticator(config.secret, allowed_origins=config.allowed_origins),
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
