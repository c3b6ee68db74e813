"""A stand-in for the AI chat service's event stream (``touchstream simulate chat-service``).

It serves realistic conversations from ``streams.simulators.chat.conversations`` over WebSocket the
way the chat service does: a client presents a token, sends
``{"type":"subscribe","after":<cursor or null>}`` and receives
``{"type":"event","cursor":N,"event":{...}}`` frames from cursor ``after + 1`` on, at
``rate`` events a second (0: as fast as the client reads). The cursor is the index of the
event in the service's log, which is kept whole in memory and is the same for the same
``(count, seed, start_ms)``, so a restarted service replays the same events with the same
cursors. Like many at-least-once services it can resend the last ``resend`` events before
the requested cursor. A connection whose first frame is a proactive message
(``{"type":"proactive","message_id":...,"person_id":...,"message":...}``, what the workflows'
delivery sends) is a proactive channel: every such frame is recorded once per message id
(``proactive``) and answered ``{"type":"proactive_ack","message_id":...,"duplicate":...}``.
With ``drop_probability`` > 0 it cuts connections at random after an event (seeded
by ``drop_seed``), without a closing handshake and losing whatever was still buffered, to
exercise reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from streams.ingest.auth import authenticator
from streams.ingest.validate import event_to_json
from streams.io.producer import MIN_SLEEP_S, TokenBucket
from streams.simulators.chat import conversations

log = logging.getLogger(__name__)

DEFAULT_PORT: Final = 8766
DAY_MS: Final = 86_400_000


@dataclass(frozen=True, kw_only=True)
class ChatServiceConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port
    secret: str
    count: int = 10_000
    seed: int = 7
    start_ms: int | None = None  # None: midnight UTC today (stable across restarts that day)
    rate: float = 0.0
    drop_probability: float = 0.0
    drop_seed: int = 1
    resend: int = 0  # on subscribe, also resend this many events before ``after`` (at-least-once)
    subscribe_timeout_s: float = 10.0


@dataclass
class ChatServiceStats:
    connections: int = 0
    sent: int = 0
    drops: int = 0
    acked_cursor: int | None = None
    proactive_frames: int = 0  # proactive frames received, repeats included


def event_log(count: int, seed: int, start_ms: int | None = None) -> list[dict[str, Any]]:
    """The service's deterministic log: JSON chat events, the cursor is the index."""
    start = start_ms if start_ms is not None else time.time_ns() // 1_000_000 // DAY_MS * DAY_MS
    return [event_to_json(rec.value) for rec in conversations(count, seed=seed, start_ms=start)]


class ChatService:
    def __init__(self, config: ChatServiceConfig, log_events: list[dict[str, Any]] | None = None
                 ) -> None:
        self.config = config
        self.events = log_events if log_events is not None else event_log(
            config.count, config.seed, config.start_ms)
        self._frames = [
            f'{{"type":"event","cursor":{cursor},"event":{json.dumps(event)}}}'
            for cursor, event in enumerate(self.events)
        ]
        self._drops = random.Random(config.drop_seed)
        self.stats = ChatServiceStats()
        #: proactive messages received, by message id (a repeat is acknowledged, not recorded)
        self.proactive: dict[str, dict[str, Any]] = {}
        self._server: Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the chat service is not started")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=authenticator(self.config.secret),
            compression=None,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _subscription(self, connection: ServerConnection) -> int | None:
        """The cursor to start from, or None after refusing the subscription."""
        try:
            async with asyncio.timeout(self.config.subscribe_timeout_s):
                raw = await connection.recv()
            frame = json.loads(raw)
        except (TimeoutError, ValueError):
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "proactive":
            await self._proactive(connection, frame)
            return None
        after = frame.get("after") if isinstance(frame, dict) else None
        if (not isinstance(frame, dict) or frame.get("type") != "subscribe"
                or not (after is None or (isinstance(after, int) and after >= -1))):
            await connection.send(json.dumps({
                "type": "error", "code": "bad_subscribe", "ref": None,
                "message": 'first frame must be {"type":"subscribe","after":<cursor or null>}',
            }))
            await connection.close(1008, "subscribe first")
            return None
        return 0 if after is None else max(0, after + 1 - self.config.resend)

    async def _proactive(self, connection: ServerConnection, first: dict[str, Any]) -> None:
        """Record proactive messages (the first and every later frame) until the peer
        closes."""
        frame: Any = first
        try:
            while True:
                message_id = frame.get("message_id") if isinstance(frame, dict) else None
                if (not isinstance(frame, dict) or frame.get("type") != "proactive"
                        or not isinstance(message_id, str) or not message_id
                        or not isinstance(frame.get("person_id"), str)):
                    await connection.send(json.dumps({
                        "type": "error", "code": "bad_proactive", "ref": message_id,
                        "message": "a proactive frame needs message_id and person_id"}))
                else:
                    self.stats.proactive_frames += 1
                    duplicate = message_id in self.proactive
                    self.proactive.setdefault(message_id, frame)
                    await connection.send(json.dumps({
                        "type": "proactive_ack", "message_id": message_id,
                        "duplicate": duplicate}))
                try:
                    frame = json.loads(await connection.recv())
                except ValueError:
                    frame = None
        except ConnectionClosed:
            pass

    async def _read_acks(self, connection: ServerConnection) -> None:
        async for raw in connection:
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if isinstance(frame, dict) and frame.get("type") == "ack":
                cursor = frame.get("cursor")
                if isinstance(cursor, int):
                    acked = self.stats.acked_cursor
                    self.stats.acked_cursor = cursor if acked is None else max(acked, cursor)

    async def _handle(self, connection: ServerConnection) -> None:
        self.stats.connections += 1
        start = await self._subscription(connection)
        if start is None:
            return
        acks = asyncio.create_task(self._read_acks(connection))
        bucket = TokenBucket(self.config.rate) if self.config.rate > 0 else None
        try:
            for cursor in range(start, len(self._frames)):
                if bucket is not None:
                    wait = bucket.take()
                    if wait >= MIN_SLEEP_S:
                        await asyncio.sleep(wait)
                await connection.send(self._frames[cursor])
                self.stats.sent += 1
                if self._drops.random() < self.config.drop_probability:
                    self.stats.drops += 1
                    log.info("dropping connection after cursor %d", cursor)
                    connection.transport.abort()
                    return
            await connection.wait_closed()  # the log is played out: wait for acks
        except ConnectionClosed:
            pass
        finally:
            acks.cancel()
            await asyncio.gather(acks, return_exceptions=True)


async def run_chat_service(config: ChatServiceConfig, stop: asyncio.Event) -> ChatServiceStats:
    """Serve until ``stop`` is set."""
    service = ChatService(config)
    await service.start()
    log.info("chat service on ws://%s:%d with %d events", config.host, service.port,
             len(service.events))
    try:
        await stop.wait()
    finally:
        await service.close()
    return service.stats
