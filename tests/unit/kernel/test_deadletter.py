"""Contract rules beyond Avro, and the shape of a dead letter."""

from __future__ import annotations

from typing import Any

import pytest

from streams.conversation import rollup as chat
from streams.kernel.deadletter import (
    H_ERROR,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_REPLAYS,
    H_TOPIC,
    dead_letter,
    dead_letter_columns,
    origin,
)
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.marketing import kpis as ads
from streams.simulators.chat import ad_metrics, conversations


def raw(key: str | None, headers: tuple[tuple[str, bytes], ...] = ()) -> Raw:
    return Raw("chat.events", 3, 42, 1000, None if key is None else key.encode(), b"v", headers)


def message_event() -> dict[str, Any]:
    return next(e.value for e in conversations(10, seed=1) if e.value["event_type"] == "MESSAGE")


@pytest.mark.parametrize(("change", "reason"), [
    ({"event_id": ""}, "event_id is empty"),
    ({"conversation_id": ""}, "conversation_id is empty"),
    ({"text": "  "}, "non-empty text"),
    ({"event_type": "UNKNOWN"}, "UNKNOWN"),
    ({"occurred_at": 0}, "not a time"),
    ({"occurred_at": 1_000_000}, "before 2000-01-01"),
    ({"occurred_at": 7_258_118_400_000}, "in the future"),  # the year 2200
])
def test_chat_rules(change: dict[str, Any], reason: str) -> None:
    event = {**message_event(), **change}
    with pytest.raises(InvalidMessage, match=reason) as info:
        chat.validate(raw(None), event)
    assert info.value.reason == "invalid_field"


def test_chat_events_may_be_dated_up_to_the_clock_skew_tolerance_ahead() -> None:
    event = message_event()
    now = event["occurred_at"]
    chat.validate(raw(None), event, now_ms=now - 299_000, max_future_ms=300_000)
    with pytest.raises(InvalidMessage, match="301 s in the future"):
        chat.validate(raw(None), event, now_ms=now - 301_000, max_future_ms=300_000)


def test_chat_key_must_be_the_conversation() -> None:
    event = message_event()
    chat.validate(raw(event["conversation_id"]), event)
    with pytest.raises(InvalidMessage, match="keyed by conversation"):
        chat.validate(raw("other"), event)


@pytest.mark.parametrize(("change", "reason"), [
    ({"campaign_id": ""}, "campaign_id is empty"),
    ({"impressions": -1}, "impressions is negative"),
    ({"currency": "usd"}, "ISO 4217"),
    ({"interval_end": 0}, "not after interval_start"),
    ({"level": "AD", "ad_group_id": "g", "ad_id": None}, "needs ad_id"),
])
def test_ad_rules(change: dict[str, Any], reason: str) -> None:
    metric = {**next(ad_metrics(1, seed=2)).value, **change}
    with pytest.raises(InvalidMessage, match=reason):
        ads.validate(raw(None), metric)


def test_dead_letter_keeps_bytes_and_says_where_from_and_why() -> None:
    r = raw("k", headers=(("trace", b"abc"), (H_REPLAYS, b"2")))
    letter = dead_letter(r, InvalidMessage("undecodable", "EOF"), "chat.events.dlq", 1_700_000_000_000)
    headers = dict(letter.headers())
    assert headers["trace"] == b"abc"
    assert headers[H_TOPIC] == b"chat.events"
    assert (headers[H_PARTITION], headers[H_OFFSET]) == (b"3", b"42")
    assert (headers[H_ERROR], headers[H_REASON]) == (b"undecodable", b"EOF")
    assert headers[H_REPLAYS] == b"2"
    assert origin(headers) == ("chat.events", 3, 42)
    cols = dead_letter_columns([letter])
    assert cols["value"] == [b"v"] and cols["_offset"] == [42] and cols["error"] == ["undecodable"]
