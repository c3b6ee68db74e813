"""Inactivity timeout, follow-up timers and retention, across a worker restart (real broker,
engine)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration


def event(cid: str, kind: str, role: str, at: int, text: str | None = None,
          metadata: dict[str, str] | None = None) -> OutputRecord:
    value: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "conversation_id": cid, "event_type": kind,
        "occurred_at": at, "channel": "WEB", "sender_role": role, "sender_id": None,
        "text": text, "language": "en",
        "customer": {"customer_id": "cus_1", "email": None, "phone": None, "anonymous_id": None},
        "metadata": metadata or {},
    }
    return OutputRecord(topics.CHAT_EVENTS, cid, value)


def test_follow_ups_fall_due_after_a_restart_and_silent_conversations_time_out(
    pipeline: Pipeline,
) -> None:
    delay = 30.0
    pipeline.env.update({
        "TOUCHSTREAM_FOLLOW_UP_DELAY_SECONDS": str(delay),
        "TOUCHSTREAM_CONVERSATION_INACTIVITY_SECONDS": "4",
        "TOUCHSTREAM_TIMER_INTERVAL_SECONDS": "0.5",
    })
    now = int(time.time() * 1000)
    t0 = now - 10_000
    ended, silent = f"ended-{uuid.uuid4().hex[:6]}", f"silent-{uuid.uuid4().hex[:6]}"
    quiet = f"quiet-{uuid.uuid4().hex[:6]}"
    records = [
        event(ended, "STARTED", "SYSTEM", t0),
        event(ended, "MESSAGE", "CUSTOMER", t0 + 1000, "My blender arrived broken."),
        event(ended, "MESSAGE", "BOT", t0 + 2000, "Sorry to hear that, let me check."),
        event(ended, "ENDED", "SYSTEM", t0 + 3000, metadata={"resolution": "unresolved"}),
        event(silent, "STARTED", "SYSTEM", t0),
        event(silent, "MESSAGE", "CUSTOMER", t0 + 1000, "Where is my parcel?"),
        # still open when the worker stops: the restarted worker must time it out
        event(quiet, "STARTED", "SYSTEM", now + 25_000),
        event(quiet, "MESSAGE", "CUSTOMER", now + 25_000, "Can I change my delivery address?"),
    ]
    worker = pipeline.start_worker()
    produce_records(pipeline.settings, iter(records), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()
    # the silent one times out; both now wait for their follow-up, due `delay` after the end
    eventually(lambda: q.sql(
        "SELECT status FROM conversation_states FINAL WHERE conversation_id = {c:String}",
        {"c": silent}).rows == [("timed_out",)], timeout=30)
    assert q.sql("SELECT count() FROM crm_tasks WHERE task_type = 'follow_up'").rows[0][0] == 0
    status = "SELECT status FROM conversation_states FINAL WHERE conversation_id = {c:String}"
    assert q.sql(status, {"c": quiet}).rows == [("open",)]

    # restart: the pending follow-ups live in a changelog-backed table
    from streams.ops.demo import stop_worker
    stop_worker(worker)
    pipeline.start_worker()
    q = pipeline.querier()
    eventually(lambda: q.sql(
        "SELECT count() FROM crm_tasks FINAL WHERE task_type = 'follow_up'").rows[0][0] == 2,
        timeout=delay + 30)
    tasks = q.sql("SELECT conversation_id, toUnixTimestamp64Milli(due_at), reasons "
                  "FROM crm_tasks FINAL WHERE task_type = 'follow_up' ORDER BY conversation_id"
                  ).rows
    assert {t[0] for t in tasks} == {ended, silent}
    due = {t[0]: t[1] for t in tasks}
    assert due[ended] == t0 + 3000 + int(delay * 1000)
    assert due[silent] == t0 + 1000 + int(delay * 1000)
    # emitted once: nothing more after a few more timer ticks
    time.sleep(2)
    assert q.sql("SELECT count() FROM crm_tasks WHERE task_type = 'follow_up'").rows[0][0] == 2
    # the conversation that was open across the restart times out in the new worker
    eventually(lambda: q.sql(status, {"c": quiet}).rows == [("timed_out",)], timeout=60)


def test_closed_conversations_leave_the_worker_tables_after_the_retention_period(
    pipeline: Pipeline,
) -> None:
    pipeline.env.update({
        "TOUCHSTREAM_CONVERSATION_INACTIVITY_SECONDS": "2",
        "TOUCHSTREAM_CONVERSATION_RETENTION_SECONDS": "3",
        "TOUCHSTREAM_TIMER_INTERVAL_SECONDS": "0.5",
    })
    now = int(time.time() * 1000)
    t0 = now - 60_000
    closed = [f"closed-{i}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    records = [e for cid in closed for e in (
        event(cid, "STARTED", "SYSTEM", t0),
        event(cid, "MESSAGE", "CUSTOMER", t0 + 1000, "Got it, thanks, that's all."),
        event(cid, "ENDED", "SYSTEM", t0 + 2000, metadata={"resolution": "resolved"}),
    )]
    live = f"live-{uuid.uuid4().hex[:6]}"  # open and recent: stays
    records += [event(live, "STARTED", "SYSTEM", now),
                event(live, "MESSAGE", "CUSTOMER", now + 1, "Where is my parcel?")]
    worker = pipeline.start_worker()
    produce_records(pipeline.settings, iter(records), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    partitions = pipeline.settings.topic_partitions
    # each partition keeps the entry holding its highest offset (where its state stands)
    eventually(lambda: pipeline.stats("table_keys")["conversation_states"] <= partitions, timeout=30)
    def conversation_keys() -> dict[str, int]:  # the other domains' tables move on their own
        keys = pipeline.stats("table_keys")
        return {name: keys[name] for name in ("conversation_states", "follow_ups")}

    kept = conversation_keys()
    assert kept["conversation_states"] >= 1
    q = pipeline.querier()
    assert q.sql("SELECT count() FROM conversation_states FINAL").rows[0][0] == len(closed) + 1

    # a restarted worker recovers the tables from their changelogs: the tombstones hold
    from streams.ops.demo import stop_worker
    stop_worker(worker)
    pipeline.start_worker()
    eventually(lambda: conversation_keys() == kept, timeout=60)
    # nothing was read again into them: still the same after a few timer ticks
    time.sleep(2)
    assert conversation_keys() == kept


def test_a_follow_up_falls_due_after_its_conversation_has_left_the_tables(
    pipeline: Pipeline,
) -> None:
    # the default follow-up delay (a day) outlasts the default retention (six hours)
    pipeline.env.update({
        "TOUCHSTREAM_CONVERSATION_INACTIVITY_SECONDS": "2",
        "TOUCHSTREAM_CONVERSATION_RETENTION_SECONDS": "3",
        "TOUCHSTREAM_FOLLOW_UP_DELAY_SECONDS": "20",
        "TOUCHSTREAM_TIMER_INTERVAL_SECONDS": "0.5",
    })
    now = int(time.time() * 1000)
    ended_at = now - 6_000  # closed for longer than the retention: forgotten at once
    unresolved = [f"unresolved-{i}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    records = [e for cid in unresolved for e in (
        event(cid, "STARTED", "SYSTEM", ended_at - 2000),
        event(cid, "MESSAGE", "CUSTOMER", ended_at - 1000, "My blender arrived broken."),
        event(cid, "ENDED", "SYSTEM", ended_at, metadata={"resolution": "unresolved"}),
    )]
    pipeline.start_worker()
    produce_records(pipeline.settings, iter(records), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()
    follow_ups = "SELECT count() FROM crm_tasks FINAL WHERE task_type = 'follow_up'"
    partitions = pipeline.settings.topic_partitions
    # the records leave (each partition keeps its highest-offset entry) before any falls due
    eventually(lambda: pipeline.stats("table_keys")["conversation_states"] <= partitions,
               timeout=30)
    assert q.sql(follow_ups).rows[0][0] == 0
    assert pipeline.stats("table_keys")["conversation_states"] < len(unresolved)
    # each follow-up still falls due, once, from its own table entry
    eventually(lambda: q.sql(follow_ups).rows[0][0] == len(unresolved), timeout=60)
    time.sleep(2)
    assert q.sql("SELECT count() FROM crm_tasks WHERE task_type = 'follow_up'"
                 ).rows[0][0] == len(unresolved)


def test_entries_the_timers_fail_on_are_skipped_and_the_worker_keeps_going(
    pipeline: Pipeline,
) -> None:
    from confluent_kafka import Producer

    from streams.ops.demo import stop_worker

    pipeline.env.update({
        "TOUCHSTREAM_FOLLOW_UP_DELAY_SECONDS": "1",
        "TOUCHSTREAM_CONVERSATION_INACTIVITY_SECONDS": "2",
        "TOUCHSTREAM_CONVERSATION_RETENTION_SECONDS": "8",  # the sweep runs every 2 s
        "TOUCHSTREAM_TIMER_INTERVAL_SECONDS": "0.5",
    })
    now = int(time.time() * 1000)
    first = f"first-{uuid.uuid4().hex[:6]}"
    worker = pipeline.start_worker()  # creates the tables' changelog topics
    produce_records(pipeline.settings, iter([
        event(first, "STARTED", "SYSTEM", now),
        event(first, "MESSAGE", "CUSTOMER", now + 1, "Hello, a quick question."),
    ]), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    stop_worker(worker)

    # entries the timers cannot read, as a changelog written by something else would hold
    app_id = pipeline.settings.app_id
    producer = Producer(pipeline.settings.kafka_client_config())
    producer.produce(f"{app_id}-follow_ups-changelog", key=b"broken-follow-up", partition=0,
                     value=json.dumps({"partition": 0, "conversation_id": "x"}).encode())
    producer.produce(f"{app_id}-conversation_states-changelog", key=b"broken-record",
                     partition=0,
                     value=json.dumps({"status": "open", "partition": 0, "offset": 0}).encode())
    assert producer.flush(10) == 0

    pipeline.start_worker()
    silent = f"silent-{uuid.uuid4().hex[:6]}"
    produce_records(pipeline.settings, iter([
        event(silent, "STARTED", "SYSTEM", now),
        event(silent, "MESSAGE", "CUSTOMER", now + 1, "Where is my parcel?"),
    ]), encode=pipeline.codec.encode)
    q = pipeline.querier()
    # the timers go on for everything else: both conversations time out, and the follow-up
    # of each (unresolved) falls due
    eventually(lambda: q.sql(
        "SELECT count() FROM crm_tasks FINAL WHERE task_type = 'follow_up'").rows[0][0] == 2,
        timeout=60)
    assert q.sql("SELECT conversation_id, status FROM conversation_states FINAL "
                 "ORDER BY conversation_id").rows == [(first, "timed_out"),
                                                      (silent, "timed_out")]
    # each bad entry was quarantined once (the timer and the sweep both skip it), kept
    seen = pipeline.stats("counters")
    assert seen["timer.quarantined{follow_ups}"] == 1
    assert seen["timer.quarantined{conversation_states}"] == 1
    assert "timer.errors{chat_timeouts}" not in seen
    assert "broken-follow-up" in pipeline.worker_logs()
    keys = pipeline.stats("table_keys")
    assert keys["follow_ups"] == 1 and keys["conversation_states"] >= 1
