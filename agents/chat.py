"""chat.events -> message sentiment -> ClickHouse, plus the per-conversation rollup table."""

from __future__ import annotations

from typing import Any

import faust
from faust.serializers import codecs

from agents.runtime import Runtime, finish_batch, new_guard, now_ms, raw_of, rewind, where
from streams import topics
from streams.chat import ConversationState
from streams.conversation.state import ConversationRecord
from streams.pipeline import process_chat

TABLE_NAME = "conversations"
RECORDS_TABLE = "conversation_states"


def register(app: faust.App, runtime: Runtime) -> faust.types.AgentT[Any]:
    settings = runtime.settings
    source = app.topic(
        settings.topic(topics.CHAT_EVENTS),
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
    )
    # bytes keys (the conversation id as produced), JSON values (ConversationState)
    table = app.Table(TABLE_NAME, key_type=bytes, partitions=settings.topic_partitions)
    # the conversation-intelligence record (lifecycle, journey, escalation episodes)
    records = app.Table(RECORDS_TABLE, key_type=bytes, partitions=settings.topic_partitions)
    dlq_topic = settings.topic(topics.dlq(topics.CHAT_EVENTS))

    def load_state(key: str) -> ConversationState | None:
        value: ConversationState | None = table.data.get(key.encode())
        return value

    def load_record(key: str) -> ConversationRecord | None:
        value: ConversationRecord | None = records.data.get(key.encode())
        return value

    def state_next(topic: str, partitions: list[int]) -> dict[int, int]:
        # the tables are written after the sink: where they stand bounds the replay too
        rollups: dict[int, int] = {}
        for state in table.data.values():
            p = state["partition"]
            if state["topic"] == topic and p in partitions:
                rollups[p] = max(rollups.get(p, 0), state["offset"] + 1)
        rich: dict[int, int] = {}
        for record in records.data.values():
            p = record["partition"]
            if p in partitions:
                rich[p] = max(rich.get(p, 0), record["offset"] + 1)
        return {p: min(rollups.get(p, 0), rich.get(p, 0)) for p in partitions}

    guard = new_guard(app, runtime, ("chat_events", "conversations", "conversation_states"),
                      also=state_next)

    async def write_changelog(target: Any, changed: dict[str, Any]) -> None:
        # In offset order: a partition's changelog then always holds a prefix of its
        # events, which is what the position guard replays from after a crash.
        changelog = target.changelog_topic.get_topic_name()
        send = app.producer.send
        for key, value in sorted(changed.items(), key=lambda kv: kv[1]["offset"]):
            kb = key.encode()
            target.data[kb] = value
            await send(changelog, kb, codecs.dumps("json", value), value["partition"],
                       None, None)

    async def chat_events(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]
            settings.batch_max_events, within=settings.batch_max_seconds
        ):
            admission = guard.admit(list(events), where)
            raws = [raw_of(event) for event in admission.admitted]
            batch = process_chat(runtime.codec, raws, load_state, dlq_topic, now_ms(),
                                 load_record, settings.topic)
            await finish_batch(runtime, topics.CHAT_EVENTS, batch.result, batch.dead,
                               len(raws))
            await rewind(app, admission)
            # The table changes last: a crash before this point replays the batch against
            # the old state and reproduces the same rows, which ClickHouse deduplicates.
            # Changelog records go straight to the producer (one per changed conversation);
            # Faust's send-soon buffer drains one record at a time and, while it is full,
            # holds back the delivery of new input. Offsets commit after a producer flush.
            await write_changelog(table, dict(batch.states))
            await write_changelog(records, dict(batch.records))

    return app.agent(source, name="chat_events")(chat_events)
