"""Property-based tests of the decode/validate boundary: whatever arrives on an input topic,
arbitrary bytes or arbitrary records that the Avro schema accepts, a stage's computation never
raises; every message ends either processed (its rows) or dead-lettered with a reason."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import topics
from streams.contract.codec import AvroCodec
from streams.conversation import stage as conversation
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import Raw
from streams.kernel.stage import Stage, Value, compute
from streams.marketing import stage as marketing
from streams.settings import Settings

CODEC = AvroCodec.from_settings(Settings())
POLICY = conversation.ConversationPolicy(source_topic=topics.CHAT_EVENTS, inactivity_ms=60_000,
                                         retain_ms=3_600_000, timer_interval=1.0)
STAGES: dict[str, Stage] = {topics.CHAT_EVENTS: conversation.stage(POLICY),
                            topics.AD_METRICS: marketing.stage()}
SCHEMAS = {topics.CHAT_EVENTS: "chat_event.v1.avsc", topics.AD_METRICS: "ad_metric.v1.avsc"}
LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=40)


def strategy(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the Avro ``schema`` accepts (the types the project's schemas use)."""
    if isinstance(schema, list):
        return st.one_of([strategy(s, named) for s in schema])
    if isinstance(schema, str):
        if schema in named:
            return strategy(named[schema], named)
        return {"null": st.none(), "string": TEXT, "long": LONGS, "int": st.integers(-(2**31), 2**31 - 1),
                "double": st.floats(allow_nan=True, allow_infinity=True),
                "boolean": st.booleans()}[schema]
    kind = schema["type"]
    if kind == "record":
        named[schema["name"]] = schema
        return st.fixed_dictionaries({f["name"]: strategy(f["type"], named)
                                      for f in schema["fields"]})
    if kind == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if kind == "map":
        return st.dictionaries(TEXT, strategy(schema["values"], named), max_size=3)
    if kind == "array":
        return st.lists(strategy(schema["items"], named), max_size=3)
    return strategy(kind, named)


def records(topic: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = json.loads((SCHEMAS_DIR / "avro" / SCHEMAS[topic]).read_text())
    return strategy(schema, {})  # type: ignore[return-value]


def run(topic: str, values: list[bytes | None], keys: list[bytes | None]) -> None:
    stage = STAGES[topic]
    raws = [Raw(topic, 0, i, 1_700_000_000_000, key, value)
            for i, (key, value) in enumerate(zip(keys, values, strict=True))]
    tables: dict[str, dict[str, Value]] = {}

    def lookup(table: str, key: str) -> Value | None:
        return tables.get(table, {}).get(key)

    computed = compute(stage, raws, {topic: CODEC.decoder(topic)}, {topic: stage.inputs[0]},
                       lookup, lambda t: t + ".dlq", 1_700_000_000_000)
    dead = {d.raw.offset for d in computed.dead}
    assert all(d.reason and d.error for d in computed.dead)
    # every message is accounted for once: processed or dead-lettered
    assert computed.outcome.result.processed + len(dead) == len(raws)
    assert computed.outcome.result.processed + len(computed.dead) == len(raws)
    for rows in computed.outcome.result.inserts.values():
        for column in rows.values():
            for value in column:
                assert not (isinstance(value, float) and not math.isfinite(value)), (
                    "a non-finite number reached a table")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(sorted(STAGES)),
       values=st.lists(st.one_of(st.none(), st.binary(max_size=64),
                                 st.binary(max_size=60).map(lambda b: b"\x00\x00\x00\x00\x01" + b)),
                       min_size=1, max_size=8))
def test_arbitrary_bytes_are_dead_lettered_never_raised(topic: str,
                                                        values: list[bytes | None]) -> None:
    run(topic, values, [b"k"] * len(values))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), topic=st.sampled_from(sorted(STAGES)))
def test_any_record_the_schema_accepts_ends_in_a_row_or_a_dead_letter(
        data: st.DataObject, topic: str) -> None:
    values = data.draw(st.lists(records(topic), min_size=1, max_size=6))
    keyed = [v.get("conversation_id") if topic == topics.CHAT_EVENTS
             else f"{v['platform']}:{v['campaign_id']}" for v in values]
    encoded: list[bytes | None] = [CODEC.encode(topic, v) for v in values]
    run(topic, encoded, [k.encode() if k is not None else None for k in keyed])
