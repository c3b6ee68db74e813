"""Client mode: subscribe to the chat service's event stream and produce it to Kafka.

The client sends ``{"type":"subscribe","after":<cursor>}`` (``null`` the first time), reads
``{"type":"event","cursor":N,"event":{...}}`` frames, validates them and hands them to the
sink in batches (``batch_max`` events or ``batch_ms`` after a batch's first event). Batches
are acknowledged in order: once the sink has a batch and every batch before it, the client
sends ``{"type":"ack","cursor":<last cursor of the batch>}`` and saves the cursor in the state
file (written atomically), so a restart resumes where Kafka's data ends.

Input that is not a valid chat event (a frame that is not JSON, an event frame without an
integer cursor, an event breaking the contract) is dead-lettered with its raw frame and the
reason (``streams.ingest.deadletters``): the dead letter travels in its batch, so its cursor
is acknowledged only once the dead letter is on Kafka too. Dead letters are remembered by
cursor like events by id, so a replay after a reconnect does not dead-letter one twice (a
frame without a cursor has no identity: resent after a reconnect, it is dead-lettered again).
Frames of other types (``error`` and whatever the service adds) are protocol, not input:
they are logged, not dead-lettered.

On a lost connection it drains what is in the sink, then reconnects after an exponential
back-off with full jitter (``uniform(0, min(backoff_max, backoff_initial * 2**n))``) and
subscribes after the last acknowledged cursor. Event ids delivered recently are remembered
(a bounded LRU), so a replay after a reconnect, or a duplicate from the service, is produced
only once. At most ``max_pending_batches`` batches are in the sink at once: when the sink
waits (Kafka is slow), the client stops reading and the service's sends slow down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import tempfile
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from streams.ingest.deadletters import MAX_VALUE_BYTES, conversation_key, rejected, source_url
from streams.ingest.sink import EventSink
from streams.ingest.validate import event_from_json
from streams.kernel.deadletter import DeadLetter
from streams.kernel.errors import InvalidMessage

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

STATE_VERSION: Final = 1


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    url: str
    token: str
    state_path: Path
    batch_max: int = 500
    batch_ms: float = 50.0
    backoff_initial: float = 0.2
    backoff_max: float = 30.0
    token_in_query: bool = False  # default: Authorization: Bearer header
    dedupe_size: int = 100_000
    max_pending_batches: int = 4
    max_frame_bytes: int = MAX_VALUE_BYTES  # an event must fit Kafka's 1 MB message default
    open_timeout: float = 10.0


@dataclass
class ClientStats:
    received: int = 0  # event frames read, and frames that are not a JSON object with a type
    produced: int = 0  # events the sink acknowledged
    duplicates: int = 0  # skipped: event id or dead-lettered cursor already stored or in flight
    invalid: int = 0  # not a valid chat event: dead-lettered with the reason
    dead_lettered: int = 0  # dead letters the sink acknowledged
    connections: int = 0  # successful handshakes
    reconnects: int = 0  # back-off waits
    acked_cursor: int | None = None
    last_backoff_s: float = 0.0


class ClientAuthError(RuntimeError):
    """The service refused the token or origin: retrying will not help."""


class Backoff:
    """Exponential back-off with full jitter, capped."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError(f"need 0 < initial <= maximum, got {initial}, {maximum}")
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        return min(self.maximum, self.initial * 2.0 ** min(attempt, 64))

    def next(self) -> float:
        delay = self._rng.uniform(0, self.ceiling(self.attempt))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


class RecentIds:
    """The ``size`` most recently added ids."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add_all(self, event_ids: Sequence[str]) -> None:
        ids = self._ids
        for event_id in event_ids:
            ids[event_id] = None
            ids.move_to_end(event_id)
        while len(ids) > self.size:
            ids.popitem(last=False)


class CursorStore:
    """The last acknowledged cursor in a small JSON file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise ValueError(f"{self.path} is not a cursor state file: {exc}") from exc
        cursor = data.get("cursor") if isinstance(data, dict) else None
        if cursor is not None and not isinstance(cursor, int):
            raise ValueError(f"{self.path}: cursor {cursor!r} is not an integer")
        return cursor

    def save(self, cursor: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump({"version": STATE_VERSION, "cursor": cursor}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


@dataclass
class _Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    dead_cursors: list[str] = field(default_factory=list)  # of dead letters that have one
    last_cursor: int | None = None

    def __len__(self) -> int:
        return len(self.events) + len(self.dead)


def subscribe_url(config: ClientConfig) -> str:
    if not config.token_in_query:
        return config.url
    parts = urlsplit(config.url)
    query = "&".join(q for q in (parts.query, urlencode({"token": config.token})) if q)
    return urlunsplit(parts._replace(query=query))


class _Client:
    def __init__(self, config: ClientConfig, sink: EventSink, stats: ClientStats) -> None:
        self.config = config
        self.sink = sink
        self.stats = stats
        self.store = CursorStore(config.state_path)
        self.cursor: int | None = self.store.load()
        stats.acked_cursor = self.cursor
        self.recent = RecentIds(config.dedupe_size)
        self.in_flight: set[str] = set()
        # dead letters by cursor (as text), stored or in the sink
        self.recent_dead = RecentIds(config.dedupe_size)
        self.dead_in_flight: set[str] = set()
        self.source = source_url(config.url)

    async def session(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        """Subscribe and ingest until the connection ends or ``stop`` is set."""
        await ws.send(json.dumps({"type": "subscribe", "after": self.cursor}))
        queue: asyncio.Queue[tuple[asyncio.Task[None], _Batch] | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self.config.max_pending_batches)
        sink_failed = asyncio.Event()
        acker = asyncio.create_task(self._ack_in_order(ws, queue, slots, sink_failed))
        reader = asyncio.create_task(self._read(ws, queue, slots))
        stopping = asyncio.create_task(stop.wait())
        failing = asyncio.create_task(sink_failed.wait())
        try:
            await asyncio.wait({reader, stopping, acker, failing},
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            failing.cancel()
            reader.cancel()
            (ended,) = await asyncio.gather(reader, return_exceptions=True)
            queue.put_nowait(None)  # drain: every queued batch ends acknowledged or failed
            await acker
            # ids of a batch read but never queued must not count as in flight on a replay
            self.in_flight.clear()
            self.dead_in_flight.clear()
        if isinstance(ended, BaseException) and not isinstance(
            ended, asyncio.CancelledError | ConnectionClosed
        ):
            raise ended

    async def _read(self, ws: ClientConnection,
                    queue: asyncio.Queue[tuple[asyncio.Task[None], _Batch] | None],
                    slots: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        batch = _Batch()
        deadline: float | None = None
        batch_s = self.config.batch_ms / 1000

        async def flush() -> None:
            nonlocal batch, deadline
            if batch.last_cursor is None and not batch.dead:
                return
            await slots.acquire()  # the sink is saturated: stop reading
            queue.put_nowait((asyncio.create_task(self._send(batch)), batch))
            batch, deadline = _Batch(), None

        while True:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                async with asyncio.timeout(timeout):
                    raw = await ws.recv()
            except TimeoutError:
                await flush()
                continue
            except ConnectionClosed:
                await flush()  # what arrived before the drop is good: store it
                raise
            frame = _parse(raw)
            if isinstance(frame, dict) and frame.get("type") != "event":
                if frame.get("type") == "error":
                    log.warning("chat service error: %s", frame)
                continue
            self.stats.received += 1
            if deadline is None:
                deadline = loop.time() + batch_s
            if isinstance(frame, InvalidMessage):
                self._reject(batch, raw, frame, None, None)
            elif isinstance(cursor := frame.get("cursor"), int) and not isinstance(cursor, bool):
                batch.last_cursor = cursor
                self._event(batch, raw, cursor, frame.get("event"))
            else:
                self._reject(batch, raw, InvalidMessage(
                    "invalid_field", f"field cursor: {cursor!r}, expected an integer"),
                    None, frame.get("event"))
            if len(batch) >= self.config.batch_max:
                await flush()

    def _event(self, batch: _Batch, raw: str | bytes, cursor: int, item: object) -> None:
        try:
            event = event_from_json(item)
        except InvalidMessage as exc:
            self._reject(batch, raw, exc, cursor, item)
            return
        event_id = event["event_id"]
        if event_id in self.recent or event_id in self.in_flight:
            self.stats.duplicates += 1
        else:
            self.in_flight.add(event_id)
            batch.events.append(event)
            batch.ids.append(event_id)

    def _reject(self, batch: _Batch, raw: str | bytes, exc: InvalidMessage, cursor: int | None,
                item: object) -> None:
        """Add the dead letter of a frame to ``batch``, unless its cursor has one already."""
        if cursor is not None:
            seen = str(cursor)
            # at or before the acknowledged cursor everything is on Kafka (a resend)
            acked = self.cursor is not None and cursor <= self.cursor
            if acked or seen in self.recent_dead or seen in self.dead_in_flight:
                self.stats.duplicates += 1
                return
            self.dead_in_flight.add(seen)
            batch.dead_cursors.append(seen)
        self.stats.invalid += 1
        log.warning("dead-lettering invalid input at cursor %s: %s", cursor, exc)
        batch.dead.append(rejected(
            raw, exc, mode="client", source=self.source, topic=self.sink.topic,
            dlq_topic=self.sink.dlq_topic, now_ms=time.time_ns() // 1_000_000,
            key=conversation_key(item), cursor=cursor,
        ))

    async def _send(self, batch: _Batch) -> None:
        if batch.events or batch.dead:
            await self.sink.send(batch.events, batch.dead)

    async def _ack_in_order(self, ws: ClientConnection,
                            queue: asyncio.Queue[tuple[asyncio.Task[None], _Batch] | None],
                            slots: asyncio.Semaphore, sink_failed: asyncio.Event) -> None:
        failed: BaseException | None = None
        while (item := await queue.get()) is not None:
            task, batch = item
            try:
                await task
            except Exception as exc:  # DeliveryError, or any other fault of the sink
                self.in_flight.difference_update(batch.ids)
                self.dead_in_flight.difference_update(batch.dead_cursors)
                if failed is None:
                    failed = exc
                    log.warning("sink failed a batch of %d events and %d dead letters: %s",
                                len(batch.ids), len(batch.dead), exc)
                    # stop reading; later batches still finish, the cursor stays before this one
                    sink_failed.set()
                continue
            finally:
                slots.release()
            self.in_flight.difference_update(batch.ids)
            self.recent.add_all(batch.ids)
            self.dead_in_flight.difference_update(batch.dead_cursors)
            self.recent_dead.add_all(batch.dead_cursors)
            self.stats.produced += len(batch.ids)
            self.stats.dead_lettered += len(batch.dead)
            if failed is not None or batch.last_cursor is None:
                continue
            self.cursor = batch.last_cursor
            self.stats.acked_cursor = self.cursor
            await asyncio.to_thread(self.store.save, self.cursor)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(f'{{"type":"ack","cursor":{self.cursor}}}')


def _parse(raw: str | bytes) -> dict[str, Any] | InvalidMessage:
    """The frame's JSON object, or why it is not one."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return InvalidMessage("undecodable", f"frame is not JSON: {exc}")
    if not isinstance(frame, dict):
        return InvalidMessage("invalid_field", f"frame is a JSON {type(frame).__name__}, "
                              "expected an object")
    if not isinstance(frame.get("type"), str):
        return InvalidMessage("invalid_field", "frame has no type")
    return frame


async def _close(ws: ClientConnection) -> None:
    """Close, reading and dropping what still arrives: frames queued unread would hold back
    the service's close frame (reading is paused while the receive queue is full)."""

    async def discard() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()

    draining = asyncio.create_task(discard())
    try:
        await ws.close()
    finally:
        draining.cancel()
        await asyncio.gather(draining, return_exceptions=True)


async def _sleep_unless_stopped(sleep: Sleep, delay: float, stop: asyncio.Event) -> None:
    napping = asyncio.ensure_future(sleep(delay))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({napping, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (napping, stopping):
            task.cancel()


async def run_client(
    config: ClientConfig,
    sink: EventSink,
    stop: asyncio.Event,
    *,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> ClientStats:
    """Ingest the chat service's stream until ``stop`` is set; returns what happened.

    Raises ``ClientAuthError`` when the service answers the handshake with 401 or 403.
    """
    stats = ClientStats()
    client = _Client(config, sink, stats)
    backoff = Backoff(config.backoff_initial, config.backoff_max, rng)
    headers = None if config.token_in_query else {"Authorization": f"Bearer {config.token}"}
    url = subscribe_url(config)
    while not stop.is_set():
        received_before = stats.received
        try:
            ws = await connect(url, additional_headers=headers, proxy=None,
                               open_timeout=config.open_timeout,
                               max_size=config.max_frame_bytes)
            stats.connections += 1
            try:
                await client.session(ws, stop)
            finally:
                await _close(ws)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                raise ClientAuthError(f"{config.url} refused the handshake with HTTP {status}: "
                                      f"{exc.response.body!r}") from exc
            log.warning("handshake failed: %s", exc)
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
            log.warning("connection to %s lost: %s", config.url, exc)
        if stop.is_set():
            break
        if stats.received > received_before:
            backoff.reset()  # the connection made progress: start over from the short waits
        delay = backoff.next()
        stats.reconnects += 1
        stats.last_backoff_s = delay
        log.info("reconnecting in %.2f s from cursor %s", delay, client.cursor)
        await _sleep_unless_stopped(sleep, delay, stop)
    return stats
