"""Inactivity timeout and follow-up timers, across a worker restart (real broker, engine)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from streams import topics
from streams.admin import end_offsets
from streams.producer import produce_records
from streams.simulate import SimRecord
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration


def event(cid: str, kind: str, role: str, at: int, text: str | None = None,
          metadata: dict[str, str] | None = None) -> SimRecord:
    value: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "conversation_id": cid, "event_type": kind,
        "occurred_at": at, "channel": "WEB", "sender_role": role, "sender_id": None,
        "text": text, "language": "en",
        "customer": {"customer_id": "cus_1", "email": None, "phone": None, "anonymous_id": None},
        "metadata": metadata or {},
    }
    return SimRecord(topics.CHAT_EVENTS, cid, value)


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
    records = [
        event(ended, "STARTED", "SYSTEM", t0),
        event(ended, "MESSAGE", "CUSTOMER", t0 + 1000, "My blender arrived broken."),
        event(ended, "MESSAGE", "BOT", t0 + 2000, "Sorry to hear that, let me check."),
        event(ended, "ENDED", "SYSTEM", t0 + 3000, metadata={"resolution": "unresolved"}),
        event(silent, "STARTED", "SYSTEM", t0),
        event(silent, "MESSAGE", "CUSTOMER", t0 + 1000, "Where is my parcel?"),
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

    # restart: the pending follow-ups live in a changelog-backed table
    from streams.demo import stop_worker
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
