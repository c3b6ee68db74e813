"""Erasure: request validation, whole-word matching, ClickHouse rows on the real embedded
engine with the project's tables, compacted-topic keys, worker state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agents.web.erasure import (
    AUDIT_TABLE,
    ErasureError,
    ErasureReport,
    ErasureRequest,
    audit,
    conversations_of,
    drop_worker_keys,
    erase_rows,
    keys_holding,
    matcher,
    text_columns,
)
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate

EMAIL = "ann.smith@example.com"


def test_requests_name_someone_precisely() -> None:
    assert ErasureRequest.from_json({"email": f" {EMAIL} "}).identifiers() == {"email": EMAIL}
    for bad in [{}, {"email": ""}, {"customer_id": "ab"}, {"name": "Ann"}, ["x"],
                {"phone": 15551234567}]:
        with pytest.raises(ErasureError):
            ErasureRequest.from_json(bad)


def test_whole_word_matching() -> None:
    needle = matcher(["cust-1", EMAIL])
    assert needle is not None
    assert needle.search(b'{"customer_id":"cust-1"}')
    assert needle.search(b"cust-1")
    assert not needle.search(b'{"customer_id":"cust-12"}')
    assert needle.search(f"write to {EMAIL.upper()}.".encode())
    assert not needle.search(b"xann.smith@example.com")
    assert matcher([]) is None


@pytest.fixture
def ch(tmp_path: Any) -> Iterator[ClickHouse]:
    clickhouse = ClickHouse(f"chdb://{tmp_path / 'clickhouse'}")
    try:
        migrate(clickhouse)
        yield clickhouse
    finally:
        clickhouse.close()


def _events(ch: ClickHouse, rows: list[tuple[str, str, str]]) -> None:
    ch.insert("chat_events", {
        "event_id": [f"e{i}" for i in range(len(rows))],
        "conversation_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
        "text": [r[2] for r in rows], "event_type": ["MESSAGE"] * len(rows),
        "_offset": list(range(len(rows))),
    })


def _mentions(ch: ClickHouse, tables: dict[str, list[str]], needle: str) -> int:
    total = 0
    for table, columns in tables.items():
        where = " OR ".join(f"positionCaseInsensitive(toString(`{c}`), {{n:String}}) > 0"
                            for c in columns)
        total += int(ch.query(f"SELECT count() FROM `{table}` WHERE {where}", {"n": needle}
                              ).rows[0][0])
    return total


def test_erase_rows_leaves_no_trace_and_spares_others(ch: ClickHouse) -> None:
    _events(ch, [("conv-a", "cust-1", "hi, I am Ann"),
                 ("conv-a", "cust-1", f"mail me at {EMAIL}"),
                 ("conv-b", "cust-12", "I am someone else"),
                 ("conv-c", "cust-3", f"my friend's address is {EMAIL.upper()}!")])
    ch.insert("escalations", {"escalation_id": ["conv-a:e1", "conv-b:e1"],
                              "conversation_id": ["conv-a", "conv-b"],
                              "customer_id": ["cust-1", "cust-12"],
                              "context": [json.dumps({"recent": [EMAIL]}), "{}"]})
    ch.insert("dead_letters", {"_topic": ["chat.events"], "_offset": [7],
                               "value": [f'{{"email": "{EMAIL}"}}'], "reason": ["bad"]})
    tables = text_columns(ch)
    assert "chat_events" in tables and "text" in tables["chat_events"]
    conversations = sorted(conversations_of(ch, tables, ["cust-1"]))
    assert conversations == ["conv-a"]
    deleted = erase_rows(ch, tables, [EMAIL, "cust-1"], ["cust-1"], conversations)
    assert deleted == {"chat_events": 3, "dead_letters": 1, "escalations": 1}
    assert _mentions(ch, tables, EMAIL) == 0
    # not only masked: the parts were rewritten without them
    assert ch.query("SELECT count() FROM chat_events WHERE positionCaseInsensitive(text, "
                    "{e:String}) > 0 SETTINGS apply_deleted_mask = 0", {"e": EMAIL}).rows == [(0,)]
    assert _mentions(ch, tables, "cust-1") == ch.query(  # only cust-12's rows remain
        "SELECT count() FROM chat_events WHERE customer_id = 'cust-12'").rows[0][0] + 1
    assert ch.query("SELECT conversation_id FROM chat_events ORDER BY conversation_id").rows == [
        ("conv-b",)]
    report = ErasureReport("e-1", customers=1, conversations=1, rows_deleted=deleted)
    audit(ch, report, ErasureRequest(email=EMAIL, customer_id="cust-1"), "tester", "secret")
    assert _mentions(ch, {AUDIT_TABLE: ["erasure_id", "requested_by", "identifier_kinds",
                                        "identifier_digests", "report"]}, EMAIL) == 0
    kinds, by = ch.query(f"SELECT identifier_kinds, requested_by FROM {AUDIT_TABLE}").rows[0]
    assert list(kinds) == ["customer_id", "email"] and by == "tester"


def test_keys_holding_skips_tombstones() -> None:
    needle = matcher(["cust-1"])
    assert needle is not None
    latest: dict[tuple[int, bytes], bytes | None] = {
        (0, b"cust-1"): b"profile", (1, b"cust-2"): b'{"friend":"cust-1"}',
        (2, b"cust-12"): b"other", (0, b"gone"): None}
    assert sorted(keys_holding(latest, needle)) == [(0, b"cust-1"), (1, b"cust-2")]


class FakeTable:
    def __init__(self, data: dict[bytes, Any]) -> None:
        self.data = data


def test_drop_worker_keys() -> None:
    needle = matcher(["conv-a", "cust-1"])
    assert needle is not None
    tables = {"conversations": FakeTable({b"conv-a": {"customer_id": "cust-1"},
                                          b"conv-b": {"customer_id": "cust-12"},
                                          b"conv-c": {"customer_id": "cust-1"}})}
    assert drop_worker_keys(tables, needle) == {"conversations": 2}
    assert list(tables["conversations"].data) == [b"conv-b"]
