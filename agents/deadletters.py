"""chat.events.dlq -> the ``dead_letters`` table, for input refused at ingest.

The worker's agents put their own dead letters in the table as they make them. Input that the
WebSocket gateway or client refused never reached ``chat.events``: its dead letter goes
straight to ``chat.events.dlq``, and this agent reads it from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import faust
from faust.types import Message

from agents.batching import BatchTopic, Durable, GroupCommit, batch_agent, raw_of
from agents.runtime import Runtime, writer
from streams import topics
from streams.ingest.deadletters import ingest_dead_letter_columns

NAME = "ingest_dead_letters"  # the agent


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    source = topics.dlq(topics.CHAT_EVENTS)

    def prepare(messages: Sequence[Message]) -> Durable:
        rows = ingest_dead_letter_columns([raw_of(message) for message in messages])
        return Durable(inserts={"dead_letters": rows}, counts=Counter({
            ("batches", source): 1,
            ("events.consumed", source): len(messages),
            ("events.processed", source): len(rows["_topic"]),
        }))

    commit = GroupCommit(writer(app, runtime, NAME), max_events=settings.batch_max_events,
                         interval=settings.write_interval_seconds,
                         name=NAME, latencies=runtime.latencies)
    return batch_agent(app, NAME, settings.topic(source), prepare,
                       step_events=settings.step_max_events, within=settings.batch_max_seconds,
                       latencies=runtime.latencies, commit=commit)
