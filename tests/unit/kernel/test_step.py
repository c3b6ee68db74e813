"""The processing steps of both slices, without Kafka: decoding, dead letters, poison messages."""

from __future__ import annotations

from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.conversation import rollup as chat
from streams.conversation.step import process_chat
from streams.kernel.records import Raw
from streams.marketing.step import process_ads
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raws_for(codec: AvroCodec, records: list[Any]) -> list[Raw]:
    return [
        Raw(r.topic, 0, i, 1_700_000_000_000 + i, r.key.encode(), codec.encode(r.topic, r.value))
        for i, r in enumerate(records)
    ]


def test_chat_batch_sinks_every_event_and_rolls_conversations_up(codec: AvroCodec) -> None:
    records = list(conversations(200, seed=3))
    batch = process_chat(codec.decoder(topics.CHAT_EVENTS), raws_for(codec, records),
                         lambda _: None, "dlq", 0)
    assert batch.result.processed == 200 and not batch.dead
    assert len(batch.result.inserts["chat_events"]["event_id"]) == 200
    per_conv: dict[str, int] = {}
    for r in records:
        per_conv[r.key] = per_conv.get(r.key, 0) + 1
    assert {k: s["events"] for k, s in batch.states.items()} == per_conv
    assert len(batch.result.outputs) == len(per_conv)


def test_a_redelivered_batch_changes_no_state(codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(100, seed=4)))
    first = process_chat(codec.decoder(topics.CHAT_EVENTS), raws, lambda _: None, "dlq", 0)
    again = process_chat(codec.decoder(topics.CHAT_EVENTS), raws, first.states.get, "dlq", 0)
    assert again.states == {}
    assert len(again.result.inserts["chat_events"]["event_id"]) == 100  # rows dedup in ClickHouse


def test_a_poison_message_is_dead_lettered_and_the_rest_go_through(
    codec: AvroCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(conversations(60, seed=5))
    poison = records[17].value["event_id"]
    real_fold = chat.fold

    def fold(state: Any, raw: Raw, event: Any, sentiment: Any) -> Any:
        if event["event_id"] == poison:
            raise ZeroDivisionError("boom")
        return real_fold(state, raw, event, sentiment)

    monkeypatch.setattr(chat, "fold", fold)
    batch = process_chat(codec.decoder(topics.CHAT_EVENTS), raws_for(codec, records),
                         lambda _: None, "dlq", 0)
    assert batch.result.processed == 59
    assert [d.raw.offset for d in batch.dead] == [17]
    assert batch.dead[0].error == "processing_failed"
    assert "ZeroDivisionError: boom" in batch.dead[0].reason
    assert batch.result.inserts["dead_letters"]["_offset"] == [17]
    assert len(batch.result.inserts["chat_events"]["event_id"]) == 59
    # state is carried across the one-by-one path: counts are those of the 59 good events
    expected: dict[str, int] = {}
    for r in records:
        if r.value["event_id"] != poison:
            expected[r.key] = expected.get(r.key, 0) + 1
    assert {k: s["events"] for k, s in batch.states.items()} == expected


def test_ad_batch_kpis_and_bad_messages(codec: AvroCodec) -> None:
    records = list(ad_metrics(50, seed=6))
    raws = raws_for(codec, records)
    raws.append(Raw(topics.AD_METRICS, 0, 50, 0, b"k", b"\x00\x00\x00\x00\x02garbage"))
    batch = process_ads(codec.decoder(topics.AD_METRICS), raws, "dlq", 0)
    assert batch.result.processed == 50
    assert [d.error for d in batch.dead] == ["undecodable"]
    kpis = batch.result.inserts["campaign_kpis"]
    for i, r in enumerate(records):
        v = r.value
        spend = v["cost_micros"] / 1_000_000
        assert kpis["spend"][i] == pytest.approx(spend)
        assert kpis["ctr"][i] == (v["clicks"] / v["impressions"] if v["impressions"] else None)
        assert kpis["_version"][i] == v["reported_at"]
    assert len(batch.result.outputs) == 50
