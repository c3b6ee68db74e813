"""A batch computed by the stages, without Kafka: decoding, dead letters, state carried in a
batch and across batches, poison messages, the unavailable dependency that is not one."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.conversation import stage as conversation
from streams.conversation import state as cstate
from streams.kernel.errors import Unavailable
from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Computed, Stage, Value, compute
from streams.marketing import stage as marketing
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations

POLICY = conversation.ConversationPolicy(source_topic=topics.CHAT_EVENTS, inactivity_ms=60_000,
                                         retain_ms=3_600_000, timer_interval=1.0)


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raws_for(codec: AvroCodec, records: list[Any]) -> list[Raw]:
    return [
        Raw(r.topic, 0, i, 1_700_000_000_000 + i, r.key.encode(), codec.encode(r.topic, r.value))
        for i, r in enumerate(records)
    ]


class Memory:
    """Table state as the runtime keeps it, in a dict."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (_, value) in changed.items():
                if value is None:
                    self.tables.get(table, {}).pop(key, None)
                else:
                    self.tables.setdefault(table, {})[key] = value


def run(stage: Stage, codec: AvroCodec, raws: list[Raw], memory: Memory | None = None
        ) -> Computed:
    memory = memory or Memory()
    decoders = {i.topic: codec.decoder(i.topic) for i in stage.inputs}
    inputs = {i.topic: i for i in stage.inputs}
    computed = compute(stage, raws, decoders, inputs, memory.lookup, lambda t: t + ".dlq", 0)
    memory.apply(computed.outcome.changes)
    return computed


def test_a_chat_batch_sinks_every_event_and_keeps_one_record_per_conversation(
        codec: AvroCodec) -> None:
    records = list(conversations(200, seed=3))
    computed = run(conversation.stage(POLICY), codec, raws_for(codec, records))
    result = computed.outcome.result
    assert result.processed == 200 and not computed.dead
    assert len(result.inserts["chat_events"]["event_id"]) == 200
    per_conv: dict[str, int] = {}
    for r in records:
        per_conv[r.key] = per_conv.get(r.key, 0) + 1
    changed = computed.outcome.changes[conversation.RECORDS]
    assert {k: v["events"] for k, (_, v) in changed.items() if v} == per_conv
    # one row of `conversations` and one insight per conversation, from the same record
    assert sorted(result.inserts["conversations"]["conversation_id"]) == sorted(per_conv)
    insights = [o for o in result.outputs if o.topic == topics.CONVERSATION_INSIGHTS]
    assert {o.key: o.value["events"] for o in insights} == per_conv
    assert computed.counts["events.consumed", topics.CHAT_EVENTS] == 200


def test_a_redelivered_batch_changes_no_state(codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(100, seed=4)))
    memory = Memory()
    run(conversation.stage(POLICY), codec, raws, memory)
    again = run(conversation.stage(POLICY), codec, raws, memory)
    assert not again.outcome.changes[conversation.RECORDS]
    assert len(again.outcome.result.inserts["chat_events"]["event_id"]) == 100  # deduped in CH


def test_a_poison_message_is_dead_lettered_and_the_rest_go_through(
    codec: AvroCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(conversations(60, seed=5))
    poison = records[17].value["event_id"]
    real_fold = cstate.fold

    def fold(record: Any, event: Any, *args: Any) -> Any:
        if event["event_id"] == poison:
            raise ZeroDivisionError("boom")
        return real_fold(record, event, *args)

    monkeypatch.setattr(cstate, "fold", fold)
    computed = run(conversation.stage(POLICY), codec, raws_for(codec, records))
    result = computed.outcome.result
    assert result.processed == 59
    assert [d.raw.offset for d in computed.dead] == [17]
    assert computed.dead[0].error == "processing_failed"
    assert "ZeroDivisionError: boom" in computed.dead[0].reason
    assert result.inserts["dead_letters"]["_offset"] == [17]
    assert len(result.inserts["chat_events"]["event_id"]) == 59
    # state is carried across the one-by-one path: counts are those of the 59 good events
    expected: dict[str, int] = {}
    for r in records:
        if r.value["event_id"] != poison:
            expected[r.key] = expected.get(r.key, 0) + 1
    changed = computed.outcome.changes[conversation.RECORDS]
    assert {k: v["events"] for k, (_, v) in changed.items() if v} == expected


def test_an_unavailable_dependency_is_raised_not_dead_lettered(
    codec: AvroCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fold(*args: Any) -> Any:
        raise Unavailable("schema_registry", "connection refused")

    monkeypatch.setattr(cstate, "fold", fold)
    with pytest.raises(Unavailable):
        run(conversation.stage(POLICY), codec, raws_for(codec, list(conversations(10, seed=5))))


def test_ad_batch_kpis_and_bad_messages(codec: AvroCodec) -> None:
    records = list(ad_metrics(50, seed=6))
    raws = raws_for(codec, records)
    raws.append(Raw(topics.AD_METRICS, 0, 50, 0, b"k", b"\x00\x00\x00\x00\x02garbage"))
    computed = run(marketing.stage(), codec, raws)
    result = computed.outcome.result
    assert result.processed == 50
    assert [d.error for d in computed.dead] == ["undecodable"]
    assert computed.counts["events.dead_lettered", topics.AD_METRICS] == 1
    kpis = result.inserts["campaign_kpis"]
    for i, r in enumerate(records):
        v = r.value
        spend = v["cost_micros"] / 1_000_000
        assert kpis["spend"][i] == pytest.approx(spend)
        assert kpis["ctr"][i] == (v["clicks"] / v["impressions"] if v["impressions"] else None)
        assert kpis["_version"][i] == v["reported_at"]
    assert len(result.outputs) == 50


def test_a_tombstone_on_a_compacted_input_is_passed_over_not_dead_lettered(
        codec: AvroCodec) -> None:
    plain = conversation.stage(POLICY)
    compacted = dataclasses.replace(
        plain, inputs=(dataclasses.replace(plain.inputs[0], tombstones=True),))
    records = list(conversations(20, seed=8))
    raws = raws_for(codec, records)
    raws.insert(5, Raw(topics.CHAT_EVENTS, 0, 99, 0, b"erased", None))
    kept = run(compacted, codec, raws)
    assert not kept.dead
    assert kept.outcome.result.processed == 21
    assert kept.counts["events.processed", topics.CHAT_EVENTS] == 21
    assert len(kept.outcome.result.inserts["chat_events"]["event_id"]) == 20
    # on a topic that is not compacted, a message without a value is bad input
    refused = run(plain, codec, raws)
    assert [(d.raw.offset, d.error) for d in refused.dead] == [(99, "not_framed")]
