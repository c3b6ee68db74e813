"""Historical import: original timestamps, bad rows reported, a second import adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration


def run_import(p: Pipeline, path: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "streams.cli", "import", "conversations", str(path)],
        env={**os.environ, **p.env, "COLUMNS": "200"}, capture_output=True, text=True,
        timeout=120, check=True,
    )
    return out.stdout


def test_import_twice_adds_nothing(pipeline: Pipeline, tmp_path: Path) -> None:
    jsonl = tmp_path / "history.jsonl"
    rows = [
        {"conversation_id": "h1", "event_type": "STARTED", "occurred_at": "2025-03-01T09:00:00Z",
         "channel": "email", "customer_id": "cus_9"},
        {"conversation_id": "h1", "occurred_at": "2025-03-01T09:00:05Z", "text":
         "I was charged twice for my March invoice.", "channel": "email", "customer_id": "cus_9"},
        {"conversation_id": "h1", "occurred_at": 1740819610000, "sender_role": "bot",
         "text": "I'm sorry, let me look into the double charge.", "channel": "email"},
        {"conversation_id": "h1", "event_type": "ENDED", "occurred_at": 1740819700000,
         "channel": "email", "metadata": {"resolution": "resolved"}},
        {"conversation_id": "h2", "occurred_at": "2025-03-02T10:00:00Z", "text": "",
         "channel": "web"},  # bad: a message needs text
    ]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    csv = tmp_path / "history.csv"
    csv.write_text(
        "conversation_id,event_type,occurred_at,channel,sender_role,text,customer_id\n"
        "h3,STARTED,2025-03-03T08:00:00Z,web,,,cus_7\n"
        "h3,MESSAGE,2025-03-03T08:00:09Z,web,CUSTOMER,Can I upgrade to the annual plan?,cus_7\n"
    )
    pipeline.start_worker()
    first = run_import(pipeline, jsonl) + run_import(pipeline, csv)
    assert "4 new, 2 rejected" in first and "2 new, 0 rejected" in first
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()
    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == 6
    times = q.sql("SELECT toUnixTimestamp64Milli(occurred_at) FROM chat_events FINAL "
                  "WHERE conversation_id = 'h1' ORDER BY occurred_at").rows
    assert [t[0] for t in times] == [1740819600000, 1740819605000, 1740819610000, 1740819700000]

    again = run_import(pipeline, jsonl) + run_import(pipeline, csv)
    assert "4 already imported, 0 new" in again and "2 already imported, 0 new" in again
    before = sum(end_offsets(pipeline.settings, topics.CHAT_EVENTS).values())
    assert before == 6
    assert q.sql("SELECT count() FROM chat_events").rows[0][0] == 6
