"""``attribution.credits`` v2: one record per conversion and step carrying its lines, which say
what the step's ``attribution_credits`` rows say."""

from __future__ import annotations

from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer.attribution_rules import RULE_MODELS
from streams.customer.credit_records import LINE_FIELDS, credit_records
from streams.customer.profile_stage import CREDIT_COLUMNS
from streams.kernel.records import Columns, empty_columns
from streams.settings import Settings
from tests.unit.customer.stage_chain import Chain
from tests.unit.customer.test_identity_changes import (
    ANON,
    EMAIL,
    HOUR,
    T0,
    change,
    joined,
    latest_credits,
)


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def _row(cols: Columns, person: str, conversion: str, model: str, touch: str,
         credit: float) -> None:
    row: dict[str, Any] = {
        "person_id": person, "conversion_id": conversion, "conversion_at": T0, "model": model,
        "model_version": "lb30d-hl7d", "touchpoint_id": touch, "channel": "email",
        "campaign_id": None, "occurred_at": T0 - HOUR, "credit": credit,
        "revenue_credit": credit * 10, "currency": "EUR", "_topic": "customer.events",
        "_partition": 0, "_offset": 1, "_version": 5}
    for name in CREDIT_COLUMNS:
        cols[name].append(row[name])


def test_one_record_per_conversion_and_person_with_the_last_line_per_key() -> None:
    cols = empty_columns(CREDIT_COLUMNS)
    _row(cols, "p1", "cv1", "linear", "t1", 1.0)
    _row(cols, "p1", "cv2", "linear", "t9", 1.0)
    _row(cols, "p1", "cv1", "linear", "t1", 0.5)  # attributed again in the same step
    _row(cols, "p1", "cv1", "linear", "t2", 0.5)
    _row(cols, "p2", "cv1", "linear", "t3", 0.0)  # a split's withdrawn line, its own person
    records = credit_records(cols)
    assert [(r.key, r.value["person_id"]) for r in records] == [
        ("cv1", "p1"), ("cv2", "p1"), ("cv1", "p2")]
    assert all(r.topic == topics.ATTRIBUTION_CREDITS for r in records)
    first = records[0].value
    assert [(x["touchpoint_id"], x["credit"]) for x in first["lines"]] == [("t1", 0.5),
                                                                          ("t2", 0.5)]
    assert set(first["lines"][0]) == set(LINE_FIELDS)
    assert first["model"] is None and first["credit"] is None  # v1 fields stay empty
    assert credit_records(empty_columns(CREDIT_COLUMNS)) == []


def test_applied_in_order_the_records_leave_what_the_rows_leave() -> None:
    cols = empty_columns(CREDIT_COLUMNS)
    _row(cols, "p1", "cv1", "linear", "t1", 1.0)
    _row(cols, "p2", "cv1", "linear", "t1", 0.0)  # the key passes to another person...
    _row(cols, "p1", "cv1", "linear", "t1", 0.25)  # ...and back, in one step
    _row(cols, "p1", "cv1", "linear", "t2", 0.75)
    records = credit_records(cols)
    assert [r.value["person_id"] for r in records] == ["p1", "p2", "p1"]
    held = {}
    for record in records:
        for line in record.value["lines"]:
            held[line["touchpoint_id"]] = (line["credit"], record.value["person_id"])
    assert held == {"t1": (0.25, "p1"), "t2": (0.75, "p1")}


def test_the_records_of_a_split_say_what_the_rows_say(codec: AvroCodec) -> None:
    chain: Chain = joined(codec)
    chain.produce([change("unlink", [("email", EMAIL), ("anonymous_id", ANON)],
                          T0 + 4 * HOUR, reason="shared laptop")])
    chain.drain()
    records = [r for r in chain.outputs if r.topic == topics.ATTRIBUTION_CREDITS]
    rows = chain.column_rows("attribution_credits")
    assert 0 < len(records) < len(rows) / 4
    held: dict[tuple[str, str, str], tuple[float, str]] = {}
    for record in records:  # through the wire format, as a consumer reads them
        value = codec.decode(record.topic, codec.encode(record.topic, record.value))
        assert value["conversion_id"] == record.key
        for line in value["lines"]:
            held[value["conversion_id"], line["model"], line["touchpoint_id"]] = (
                line["credit"], value["person_id"])
    assert {k: c for k, (c, _) in held.items()} == latest_credits(chain)
    last_person = {(r["conversion_id"], r["model"], r["touchpoint_id"]): r["person_id"]
                   for r in rows}
    assert {k: p for k, (_, p) in held.items()} == last_person
    for model in RULE_MODELS:  # the split's withdrawn lines reach the topic as zeros
        assert held["cv1", model, "tp1"][0] == 0.0
        assert held["cv1", model, "tp2"][0] == pytest.approx(1.0)
