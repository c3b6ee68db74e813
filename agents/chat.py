"""chat.events -> message sentiment -> ClickHouse, plus the per-conversation rollup table."""

from __future__ import annotations

from typing import Any

import faust
from faust.serializers import codecs

from agents.runtime import Runtime, finish_batch, now_ms, raw_of
from streams import topics
from streams.chat import ConversationState
from streams.pipeline import process_chat

TABLE_NAME = "conversations"


def register(app: faust.App, runtime: Runtime) -> faust.types.AgentT[Any]:
    settings = runtime.settings
    source = app.topic(
        settings.topic(topics.CHAT_EVENTS),
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
    )
    # bytes keys (the conversation id as produced), JSON values (ConversationState)
    table = app.Table(TABLE_NAME, key_type=bytes, partitions=settings.topic_partitions)
    dlq_topic = settings.topic(topics.dlq(topics.CHAT_EVENTS))

    def load_state(key: str) -> ConversationState | None:
        value: ConversationState | None = table.data.get(key.encode())
        return value

    async def chat_events(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]
            settings.batch_max_events, within=settings.batch_max_seconds
        ):
            raws = [raw_of(event) for event in events]
            batch = process_chat(runtime.codec, raws, load_state, dlq_topic, now_ms())
            await finish_batch(runtime, topics.CHAT_EVENTS, batch.result, batch.dead,
                               len(raws))
            # The table changes last: a crash before this point replays the batch against
            # the old state and reproduces the same rows, which ClickHouse deduplicates.
            # Changelog records go straight to the producer (one per changed conversation);
            # Faust's send-soon buffer drains one record at a time and, while it is full,
            # holds back the delivery of new input. Offsets commit after a producer flush.
            changelog = table.changelog_topic.get_topic_name()
            send = app.producer.send
            for key, state in batch.states.items():
                kb = key.encode()
                table.data[kb] = state
                await send(changelog, kb, codecs.dumps("json", state), state["partition"],
                           None, None)

    return app.agent(source, name="chat_events")(chat_events)
