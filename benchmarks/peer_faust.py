"""The peer of the `chat` and `runtime` benchmark slices: what a Faust user would write.

``python -m benchmarks.peer_faust --slice chat|runtime`` runs a plain ``faust.App`` (Faust's
own consumer, streams and tables; none of ``agents.runtime``) with one agent written the way
Faust's documentation shows it: ``@app.agent(topic)`` and ``async for event in
stream.events()``, a topic with ``value_serializer="raw"``, each event decoded with the
project's codec (``AvroCodec.decode``) and an ``app.Table`` updated per event:

- ``runtime`` (``ad.metrics``): decode the event; ``counts[key] += 1`` (Faust's word-count
  example): nothing else, like the no-op stage;
- ``chat`` (``chat.events``): the conversation stage's step on one event at a time through
  ``streams.kernel.stage.compute`` (decode, validate, sentiment, intent, language, the
  conversation fold), state read from and written to two Faust tables (the conversation
  records and the follow-ups, as the stage declares them), one table write per changed key.

What the peer does not do, on purpose or for want of it in an idiomatic agent: no ClickHouse
(the rows the step builds are dropped), no output records, dead letters counted but not
published, no timers, no position guard; Faust acknowledges and commits offsets on its own.
It runs with Faust's defaults (settings, garbage collector) except the broker, loopback
web server and ``store="memory://"``.

Progress: ``GET /count`` gives ``{"events", "first", "last"}``: events handled so far and
the wall-clock time (epoch seconds) of the first and of the latest; ``GET /health`` gives
the app id, as the product worker's does. Settings (topic prefix, app id, web port,
partitions) come from the ``TOUCHSTREAM_*`` environment like the product worker's.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Final

import faust
from faust.web import Request, Response, View

from streams.contract.codec import AvroCodec
from streams.conversation import contract as chat_contract
from streams.conversation import stage as chat_stage
from streams.conversation.escalation import DEFAULT_POLICY
from streams.kernel.records import Raw
from streams.kernel.stage import Stage, Value, compute
from streams.kernel.topics import dlq
from streams.marketing import contract as ad_contract
from streams.settings import Settings

SLICE_TOPICS: Final = {"chat": chat_contract.CHAT_EVENTS, "runtime": ad_contract.AD_METRICS}


@dataclass(frozen=True, slots=True)
class PeerProgress:
    """What ``GET /count`` answers: events handled, and the wall-clock times of the first
    and of the latest."""

    events: int
    first: float | None
    last: float | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> PeerProgress:
        events = int(body["events"])
        if events < 0:
            raise ValueError(f"negative event count: {events}")
        first, last = body.get("first"), body.get("last")
        return cls(events, None if first is None else float(first),
                   None if last is None else float(last))

    def rate(self) -> float:
        """Events/s between the first and the latest event (the first one opens the span, as
        the first insert does for the worker's rate); NaN before two events."""
        if self.events < 2 or self.first is None or self.last is None or self.last <= self.first:
            return float("nan")
        return (self.events - 1) / (self.last - self.first)


class Progress:
    def __init__(self) -> None:
        self.events = 0
        self.first: float | None = None
        self.last: float | None = None

    def tick(self) -> None:
        now = time.time()
        if self.first is None:
            self.first = now
        self.last = now
        self.events += 1

    def json(self) -> dict[str, Any]:
        return {"events": self.events, "first": self.first, "last": self.last}


def conversation_stage(settings: Settings) -> Stage:
    """The conversation stage as the product worker builds it (``agents.conversation``)."""
    policy = chat_stage.ConversationPolicy(
        source_topic=settings.topic(chat_contract.CHAT_EVENTS),
        inactivity_ms=int(settings.conversation_inactivity_seconds * 1000),
        retain_ms=int(settings.conversation_retention_seconds * 1000),
        timer_interval=settings.timer_interval_seconds,
        escalation=replace(DEFAULT_POLICY,
                           follow_up_delay_ms=int(settings.follow_up_delay_seconds * 1000)),
    )
    return chat_stage.stage(policy)


def build(settings: Settings, slice_name: str, progress: Progress) -> faust.App:
    logical = SLICE_TOPICS[slice_name]
    physical = settings.topic(logical)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{s.strip()}" for s in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        web_bind="127.0.0.1",
        web_host="127.0.0.1",
        web_port=settings.web_port,
    )
    codec = AvroCodec.from_settings(settings)
    topic = app.topic(physical, key_type=bytes, value_type=bytes, key_serializer="raw",
                      value_serializer="raw")

    if slice_name == "runtime":
        counts = app.Table("counts", default=int, partitions=settings.topic_partitions)

        @app.agent(topic)
        async def noop(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                codec.decode(logical, event.value)
                counts[event.key.decode()] += 1
                progress.tick()
    else:
        stage = conversation_stage(settings)
        tables: dict[str, Any] = {
            spec.name: app.Table(spec.name, partitions=settings.topic_partitions)
            for spec in stage.tables}
        decoders = {physical: codec.decoder(logical)}
        inputs = {physical: stage.inputs[0]}
        dead_letters = settings.topic(dlq(logical))

        def lookup(table: str, key: str) -> Value | None:
            value: Value | None = tables[table].get(key)
            return value

        @app.agent(topic)
        async def conversations(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                message = event.message
                raw = Raw(topic=message.topic, partition=message.partition,
                          offset=message.offset, timestamp_ms=int(message.timestamp * 1000),
                          key=event.key, value=event.value)
                computed = compute(stage, [raw], decoders, inputs, lookup,
                                   lambda _: dead_letters, int(time.time() * 1000))
                for name, changed in computed.outcome.changes.items():
                    table = tables[name]
                    for key, (partition, value) in changed.items():
                        if value is None:
                            table.pop(key, None)
                        else:
                            table[key] = {**value, "partition": partition}
                progress.tick()

    @app.page("/count")
    class Count(View):
        async def get(self, request: Request) -> Response:
            return self.json(progress.json())

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok", "app_id": settings.app_id})

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slice", choices=sorted(SLICE_TOPICS), required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper())
    app = build(settings, args.slice, Progress())
    faust.Worker(app, loglevel=settings.log_level).execute_from_commandline()


if __name__ == "__main__":
    main()
