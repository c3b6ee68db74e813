"""Failure behaviour against the real broker and engine: a killed worker, bad input, and
ClickHouse refusing inserts."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from confluent_kafka import Consumer, Message

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.kernel.deadletter import H_ERROR, H_OFFSET, H_REASON, H_REPLAYS, H_TOPIC
from streams.kernel.records import OutputRecord
from streams.ops.replay import replay
from streams.simulators.chat import ad_metrics, conversations
from streams.simulators.run import bad_messages, produce_bad
from tests.integration import expected
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration


def chat_target(p: Pipeline) -> dict[str, dict[int, int]]:
    return {topics.CHAT_EVENTS: end_offsets(p.settings, topics.CHAT_EVENTS)}


def assert_conversations_exact(p: Pipeline, chat: list[OutputRecord]) -> None:
    want = expected.conversations(chat)
    got = {
        r[0]: r for r in p.querier().sql(
            "SELECT conversation_id, events, messages, customer_messages, status "
            "FROM conversations FINAL"
        ).rows
    }
    assert set(got) == set(want)
    wrong = {
        cid: (got[cid][1:], w) for cid, w in want.items()
        if got[cid][1:] != (w["events"], w["messages"], w["customer_messages"], w["status"])
    }
    assert not wrong, f"{len(wrong)} conversations differ, e.g. {next(iter(wrong.items()))}"


def test_sigkill_mid_stream_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    chat = list(conversations(12_000, seed=303))
    worker = pipeline.start_worker()
    producer = threading.Thread(
        target=produce_records, args=(pipeline.settings, iter(chat)),
        kwargs={"encode": pipeline.codec.encode, "rate": 3000.0},
    )
    producer.start()
    # kill the worker once it is part-way through, with batches in flight
    eventually(lambda: pipeline.scalar("SELECT count() FROM chat_events") >= 3000, timeout=60)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    producer.join()
    # the replacement joins once the group has noticed the death (its session timed out), so
    # it takes over every partition in one assignment
    time.sleep(pipeline.settings.consumer_session_timeout_seconds + 1)
    pipeline.start_worker()
    pipeline.wait_sunk(chat_target(pipeline), timeout=180)

    q = pipeline.querier()
    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == len(chat)
    assert q.sql("SELECT uniqExact(event_id) FROM chat_events").rows[0][0] == len(chat)
    # the rollups continue from the table recovered from its changelog, and events
    # redelivered after the kill are not counted twice
    assert_conversations_exact(pipeline, chat)


def test_bad_input_is_dead_lettered_and_good_input_is_sunk(pipeline: Pipeline) -> None:
    codec = pipeline.codec
    chat = list(conversations(600, seed=404))
    ads = list(ad_metrics(300, seed=505))
    bad_chat = bad_messages(codec, topics.CHAT_EVENTS, 8)
    bad_ads = bad_messages(codec, topics.AD_METRICS, 4)
    pipeline.start_worker()
    # bad messages between good ones
    produce_records(pipeline.settings, iter(chat[:300]), encode=codec.encode)
    produce_bad(pipeline.settings, bad_chat[:4] + bad_ads)
    produce_records(pipeline.settings, iter(chat[300:] + ads), encode=codec.encode)
    produce_bad(pipeline.settings, bad_chat[4:])
    targets = {t: end_offsets(pipeline.settings, t) for t in (topics.CHAT_EVENTS,
                                                              topics.AD_METRICS)}
    pipeline.wait_sunk(targets)
    q = pipeline.querier()

    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == len(chat)
    assert_conversations_exact(pipeline, chat)
    assert q.sql("SELECT count() FROM campaign_kpis FINAL").rows[0][0] == len(
        expected.latest_metrics(ads))
    reasons = q.sql(
        "SELECT _topic, error, count() FROM dead_letters FINAL GROUP BY _topic, error "
        "ORDER BY _topic, error"
    ).rows
    chat_topic = pipeline.settings.topic(topics.CHAT_EVENTS)
    ads_topic = pipeline.settings.topic(topics.AD_METRICS)
    assert sorted(reasons) == sorted([
        (chat_topic, "invalid_field", 2), (chat_topic, "not_framed", 2),
        (chat_topic, "undecodable", 2), (chat_topic, "wrong_schema", 2),
        (ads_topic, "invalid_field", 1), (ads_topic, "not_framed", 1),
        (ads_topic, "undecodable", 1), (ads_topic, "wrong_schema", 1),
    ])
    # the raw bytes are kept exactly
    stored = sorted(r[0] for r in q.sql("SELECT hex(value) FROM dead_letters FINAL").rows)
    assert stored == sorted(b.value.hex().upper() for b in bad_chat + bad_ads)
    assert pipeline.stats("counters")["events.dead_lettered{chat.events}"] == 8

    # the dead-letter topic has the raw bytes and the headers
    dlq = pipeline.settings.topic(topics.dlq(topics.CHAT_EVENTS))
    consumer = Consumer({"bootstrap.servers": pipeline.settings.kafka_bootstrap_servers,
                         "group.id": "inspect", "auto.offset.reset": "earliest"})
    consumer.subscribe([dlq])
    seen: list[Message] = []
    deadline = time.monotonic() + 30
    while len(seen) < 8 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            seen.append(msg)
    consumer.close()
    assert sorted(m.value() or b"" for m in seen) == sorted(b.value or b"" for b in bad_chat)
    for m in seen:
        headers = m.headers()
        assert isinstance(headers, list)
        h = {k: v for k, v in headers if isinstance(v, bytes)}
        assert h[H_TOPIC].decode() == chat_topic
        assert int(h[H_OFFSET]) >= 0
        assert h[H_ERROR] in (b"not_framed", b"wrong_schema", b"undecodable", b"invalid_field")
        assert h[H_REASON]

    # replay: a dry run moves nothing; a real one sends them back (still bad: dead again)
    dry = replay(pipeline.settings, topics.CHAT_EVENTS, dry_run=True)
    assert len(dry.items) == 8
    assert len(replay(pipeline.settings, topics.CHAT_EVENTS, dry_run=True).items) == 8
    before = end_offsets(pipeline.settings, topics.CHAT_EVENTS)
    done = replay(pipeline.settings, topics.CHAT_EVENTS)
    assert len(done.items) == 8
    after = end_offsets(pipeline.settings, topics.CHAT_EVENTS)
    assert sum(after.values()) - sum(before.values()) == 8
    pipeline.wait_sunk({topics.CHAT_EVENTS: after})
    eventually(lambda: q.sql("SELECT count() FROM dead_letters FINAL WHERE "
                             f"headers['{H_REPLAYS}'] = '1'").rows[0][0] == 8)
    # the replayed ones were committed: what is left to replay is only the new dead letters
    first = {(i.dlq_partition, i.dlq_offset) for i in done.items}
    again = replay(pipeline.settings, topics.CHAT_EVENTS, dry_run=True).items
    assert len(again) == 8
    assert not first & {(i.dlq_partition, i.dlq_offset) for i in again}
    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == len(chat)


def test_clickhouse_unavailable_during_a_batch_is_retried(pipeline: Pipeline) -> None:
    chat = list(conversations(2000, seed=606))
    codec = pipeline.codec
    pipeline.start_worker()
    produce_records(pipeline.settings, iter(chat[:1000]), encode=codec.encode)
    pipeline.wait_sunk(chat_target(pipeline))
    q = pipeline.querier()
    # take the table away: every insert into it now fails in the engine
    pipeline.maintenance("DETACH TABLE chat_events")
    produce_records(pipeline.settings, iter(chat[1000:]), encode=codec.encode)
    eventually(lambda: pipeline.stats("counters").get("insert.retries{chat_events}", 0) >= 2, timeout=30)
    pipeline.maintenance("ATTACH TABLE chat_events")
    pipeline.wait_sunk(chat_target(pipeline))
    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == len(chat)
    assert q.sql("SELECT uniqExact(event_id) FROM chat_events").rows[0][0] == len(chat)
    assert_conversations_exact(pipeline, chat)
    assert pipeline.stats("counters")["rows.inserted{chat_events}"] >= len(chat)


def test_input_refused_at_ingest_reaches_the_dead_letters_table(pipeline: Pipeline) -> None:
    import asyncio

    from streams.ingest.deadletters import rejected
    from streams.ingest.kafka_sink import KafkaEventSink
    from streams.kernel.errors import InvalidMessage

    settings = pipeline.settings
    dlq = settings.topic(topics.dlq(topics.CHAT_EVENTS))
    frames = [json.dumps({"conversation_id": f"c{i}", "channel": "FAX"}) for i in range(3)]
    letters = [rejected(frame, InvalidMessage("invalid_field", "field channel: 'FAX'"),
                        mode="gateway", source="widget w1 at 127.0.0.1", now_ms=int(time.time() * 1000),
                        topic=settings.topic(topics.CHAT_EVENTS), dlq_topic=dlq)
               for frame in frames]
    pipeline.start_worker()
    # also a worker-made dead letter: its row comes from the chat agent, once
    bad = bad_messages(pipeline.codec, topics.CHAT_EVENTS, 1)

    async def send() -> None:  # the gateway's and the client's producer
        async with KafkaEventSink(settings, codec=pipeline.codec) as sink:
            await sink.send([], letters)

    asyncio.run(send())
    produce_bad(settings, bad)
    q = pipeline.querier()
    eventually(lambda: q.sql("SELECT count() FROM dead_letters FINAL").rows[0][0] == 4, timeout=60)
    rows = q.sql("SELECT _topic, dlq_topic, error, reason, value, headers['touchstream.ingest.mode'] "
                 "FROM dead_letters FINAL WHERE _topic = {t:String} ORDER BY value",
                 {"t": dlq}).rows
    assert [r[1:] for r in rows] == [(dlq, "invalid_field", "field channel: 'FAX'", f, "gateway")
                                     for f in sorted(frames)]
    time.sleep(2)  # read once: nothing more arrives
    assert q.sql("SELECT count() FROM dead_letters").rows[0][0] == 4
