from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from streams.ingest.validate import event_from_json, event_to_json
from streams.kernel.errors import InvalidMessage
from streams.kernel.paths import PROJECT_ROOT

EXAMPLES = sorted((PROJECT_ROOT / "schemas" / "examples" / "chat.events").glob("*.json"))


def good() -> dict[str, Any]:
    return {
        "event_id": "evt-1",
        "conversation_id": "conv-1",
        "event_type": "MESSAGE",
        "occurred_at": 1_741_946_412_350,
        "channel": "WEB",
        "sender_role": "CUSTOMER",
        "sender_id": None,
        "text": "Where is my order?",
        "language": "en",
        "customer": {"customer_id": "cus_1", "email": None, "phone": None, "anonymous_id": None},
        "metadata": {"page": "/orders"},
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_contract_examples_are_valid_frames(path: Path) -> None:
    example = json.loads(path.read_text())
    assert event_from_json(example) == example
    assert event_to_json(event_from_json(example)) == example


def test_good_frame_is_avro_ready() -> None:
    assert event_from_json(good()) == good()


def test_iso_timestamps_lower_case_enums_and_defaults() -> None:
    frame = good()
    frame.update(occurred_at="2025-03-14T10:00:12.350Z", channel="web", sender_role="customer",
                 event_type="message")
    for optional in ("sender_id", "language", "metadata"):
        del frame[optional]
    frame["customer"] = {"email": "a@b.example"}
    frame["unknown_extra"] = 1
    record = event_from_json(frame)
    assert record["occurred_at"] == 1_741_946_412_350
    assert (record["channel"], record["sender_role"], record["event_type"]) == (
        "WEB", "CUSTOMER", "MESSAGE")
    assert record["metadata"] == {} and record["sender_id"] is None
    assert record["customer"] == {"customer_id": None, "email": "a@b.example", "phone": None,
                                  "anonymous_id": None}
    assert "unknown_extra" not in record


def test_iso_offset_is_honoured() -> None:
    frame = good()
    frame["occurred_at"] = "2025-03-14T11:00:12.350+01:00"
    assert event_from_json(frame)["occurred_at"] == 1_741_946_412_350


def _with(path: str, value: Any) -> dict[str, Any]:
    frame = copy.deepcopy(good())
    target = frame
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    if value is _MISSING:
        del target[leaf]
    else:
        target[leaf] = value
    return frame


_MISSING = object()

BAD = [
    ("event_id", _MISSING, "field event_id: missing"),
    ("event_id", "", "field event_id"),
    ("event_id", 42, "field event_id"),
    ("event_id", "x" * 300, "field event_id: 300 characters"),
    ("conversation_id", None, "field conversation_id: missing"),
    ("conversation_id", ["c"], "field conversation_id"),
    ("event_type", "TRANSFER", "field event_type"),
    ("event_type", _MISSING, "field event_type: missing"),
    ("occurred_at", _MISSING, "field occurred_at: missing"),
    ("occurred_at", 1_741_946_412, "seconds instead of milliseconds"),
    ("occurred_at", "yesterday", "not an ISO-8601"),
    ("occurred_at", "2025-03-14T10:00:12", "no UTC offset"),
    ("occurred_at", True, "field occurred_at"),
    ("occurred_at", 1.5e12 + 0.5, "field occurred_at"),
    ("channel", "FAX", "field channel"),
    ("channel", _MISSING, "field channel: missing"),
    ("sender_role", "ROBOT", "field sender_role"),
    ("sender_role", 1, "field sender_role"),
    ("sender_id", 7, "field sender_id"),
    ("text", None, "field text: missing or empty, required for MESSAGE"),
    ("text", "   ", "field text"),
    ("text", 5, "field text"),
    ("text", "x" * 100_001, "field text: 100001 characters"),
    ("language", {"tag": "en"}, "field language"),
    ("customer", _MISSING, "field customer: missing"),
    ("customer", "cus_1", "field customer"),
    ("customer.email", 5, "field customer.email"),
    ("metadata", ["a"], "field metadata"),
    ("metadata.page", 3, "field metadata.page"),
]


@pytest.mark.parametrize(("path", "value", "reason"), BAD,
                         ids=[f"{p}={v!r}"[:40] for p, v, _ in BAD])
def test_bad_field_is_named(path: str, value: Any, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        event_from_json(_with(path, value))
    assert caught.value.reason == "invalid_field"
    assert reason in str(caught.value)


def test_text_is_optional_for_lifecycle_events() -> None:
    frame = good()
    frame.update(event_type="STARTED", sender_role="SYSTEM", text=None)
    assert event_from_json(frame)["text"] is None


@pytest.mark.parametrize("obj", [None, [], "event", 3])
def test_non_object_is_refused(obj: object) -> None:
    with pytest.raises(InvalidMessage, match="expected an object"):
        event_from_json(obj)
