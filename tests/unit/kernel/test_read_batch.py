"""An input that reads its batch in one call (``Input.read_batch``): the same outcome as
message by message, and a bad record, a failing step or a mixed batch falls back to that path,
so a bad record is dead-lettered alone; an unavailable dependency is raised."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.conversation import stage as conversation
from streams.kernel.errors import InvalidMessage, Unavailable
from streams.kernel.records import Raw
from streams.kernel.stage import Events, Lookup, Outcome, Stage
from streams.kernel.step import Decode
from streams.settings import Settings
from streams.simulators.chat import conversations
from tests.unit.kernel.test_stage import POLICY, Memory, raws_for, run


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


class Reader:
    """Decodes and validates the whole batch in one call, counting calls and what it read."""

    def __init__(self, validate: Any, fail: Exception | None = None) -> None:
        self.validate, self.fail = validate, fail
        self.calls: list[int] = []

    def __call__(self, raws: Sequence[Raw], decode: Decode) -> list[dict[str, Any]]:
        self.calls.append(len(raws))
        if self.fail is not None:
            raise self.fail
        values = decode([r.value for r in raws])
        out: list[dict[str, Any]] = []
        for raw, value in zip(raws, values, strict=True):
            if isinstance(value, InvalidMessage):
                raise value
            self.validate(raw, value)
            out.append(value)
        return out


def batched(reader: Reader, seen: list[str]) -> Stage:
    """The conversation stage with its input read by ``reader``; its step takes either form."""
    plain = conversation.stage(POLICY)

    def step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
        seen.append("batch" if events.batch is not None else "values")
        if events.batch is not None:
            assert not events.values
            events = Events(events.raws, events.batch)
        return plain.step(events, lookup, now_ms)

    spec = plain.inputs[0]
    assert spec.validate is not None
    return dataclasses.replace(plain, step=step,
                               inputs=(dataclasses.replace(spec, read_batch=reader),))


def reader_for(fail: Exception | None = None) -> Reader:
    validate = conversation.stage(POLICY).inputs[0].validate
    return Reader(validate, fail)


def test_a_batch_read_in_one_call_gives_the_outcome_of_the_message_wise_path(
        codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(120, seed=21)))
    expected = run(conversation.stage(POLICY), codec, raws)
    reader, seen = reader_for(), list[str]()
    got = run(batched(reader, seen), codec, raws)
    assert reader.calls == [120] and seen == ["batch"]
    assert got.outcome.changes == expected.outcome.changes
    assert got.outcome.result.inserts == expected.outcome.result.inserts
    assert got.outcome.result.outputs == expected.outcome.result.outputs
    assert got.outcome.result.processed == expected.outcome.result.processed == 120
    assert got.counts == expected.counts and not got.dead


def test_a_bad_record_falls_back_and_is_dead_lettered_alone(codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(40, seed=22)))
    raws[9] = dataclasses.replace(raws[9], value=raws[9].value[:7])  # type: ignore[index]
    expected = run(conversation.stage(POLICY), codec, raws)
    reader, seen = reader_for(), list[str]()
    got = run(batched(reader, seen), codec, raws)
    assert reader.calls == [40] and seen == ["values"]  # refused whole, then message-wise
    assert [d.raw.offset for d in got.dead] == [d.raw.offset for d in expected.dead] == [9]
    assert got.dead[0].error == expected.dead[0].error
    assert got.outcome.result.processed == 39
    assert got.outcome.changes == expected.outcome.changes
    assert got.counts == expected.counts


def test_a_step_failing_on_the_read_batch_is_computed_message_by_message(
        codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(30, seed=23)))
    expected = run(conversation.stage(POLICY), codec, raws)
    seen: list[str] = []
    stage = batched(reader_for(), seen)
    inner = stage.step

    def step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
        if events.batch is not None:
            raise ValueError("columns not supported")
        return inner(events, lookup, now_ms)

    got = run(dataclasses.replace(stage, step=step), codec, raws)
    assert not got.dead and got.outcome.result.processed == 30
    assert got.outcome.changes == expected.outcome.changes
    assert got.counts == expected.counts


def test_tombstones_and_unavailable(codec: AvroCodec) -> None:
    raws = raws_for(codec, list(conversations(10, seed=24)))
    reader, seen = reader_for(), list[str]()
    stage = batched(reader, seen)
    spec = dataclasses.replace(stage.inputs[0], tombstones=True)
    stage = dataclasses.replace(stage, inputs=(spec,))
    tomb = [*raws, dataclasses.replace(raws[0], offset=10, value=None)]
    got = run(stage, codec, tomb)
    assert reader.calls == [] and not got.dead  # a tombstone: the message-wise path
    assert got.outcome.result.processed == 11
    down = batched(reader_for(Unavailable("schema_registry", "connection refused")), [])
    with pytest.raises(Unavailable):
        run(down, codec, raws, Memory())
