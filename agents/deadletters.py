"""chat.events.dlq -> the ``dead_letters`` table, for input refused at ingest.

The worker's agents put their own dead letters in the table as they make them. Input that the
WebSocket gateway or client refused never reached ``chat.events``: its dead letter goes
straight to ``chat.events.dlq``, and this agent reads it from there.
"""

from __future__ import annotations

from collections.abc import Sequence

import faust
from faust.types import Message

from agents.runtime.batching import BatchTopic, Durable, raw_of
from agents.runtime.core import Runtime, agent, durable_part
from streams import topics
from streams.ingest.deadletters import ingest_dead_letter_columns
from streams.kernel.records import BatchResult

NAME = "ingest_dead_letters"  # the agent


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    source = topics.dlq(topics.CHAT_EVENTS)

    def prepare(messages: Sequence[Message]) -> Durable:
        rows = ingest_dead_letter_columns([raw_of(message) for message in messages])
        result = BatchResult(inserts={"dead_letters": rows}, processed=len(rows["_topic"]))
        return durable_part(source, result, len(messages))

    return agent(app, runtime, NAME, settings.topic(source), prepare)
