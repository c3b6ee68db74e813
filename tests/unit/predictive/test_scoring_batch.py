"""The scoring stage with its input read per batch into columns (``streams.io.avro_profiles``,
``features_columns``) against message by message: the same rows, records and state on the
golden profiles under both model sets and on profiles of every shape, a bad record in a batch
dead-lettered alone with the rest scored as before, and damaged bytes never read
differently."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.io import avro_profiles_kernel as kernel
from streams.io.avro_fast import specialise
from streams.io.avro_profiles import ProfileReader, available
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.kernel.stage import Computed, Value, compute
from streams.kernel.step import Decode
from streams.predictive import contract as names
from streams.predictive.features_columns import ProfileColumns
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy, stage
from streams.settings import Settings
from tests.unit.predictive.test_profile_decoding import varied
from tests.unit.predictive.test_scoring_golden import (
    GOLDEN,
    golden_profiles,
    model_sets,
    next_versions,
)

STEP = 45


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return specialise(AvroCodec.from_settings(Settings()), names.CUSTOMER_PROFILES)


@pytest.fixture(scope="module")
def models() -> dict[str, Models]:
    return model_sets(GOLDEN)


class Frames:
    """The batch reader, counting the batches it read."""

    def __init__(self, codec: AvroCodec) -> None:
        self.reader, self.read = ProfileReader(codec), 0

    def __call__(self, raws: Sequence[Raw], decode: Decode) -> ProfileColumns:
        columns = self.reader.read(raws, decode)
        self.read += 1
        return columns


def encoded(codec: AvroCodec, values: Sequence[dict[str, Any]], offset: int = 0) -> list[Raw]:
    return [Raw(names.CUSTOMER_PROFILES, 0, offset + i, int(v["updated_at"]),
                str(v["person_id"]).encode(), codec.encode(names.CUSTOMER_PROFILES, v))
            for i, v in enumerate(values)]


def run(codec: AvroCodec, policy: ScoringPolicy, batches: Sequence[Sequence[Raw]]
        ) -> list[Computed]:
    """``compute`` over each batch in turn, the state carried as the runtime's tables do."""
    spec = stage(policy)
    decoders = {names.CUSTOMER_PROFILES: codec.decoder(names.CUSTOMER_PROFILES)}
    inputs = {i.topic: i for i in spec.inputs}
    table: dict[str, Value] = {}
    out = []
    for raws in batches:
        done = compute(spec, raws, decoders, inputs, lambda _, key: table.get(key),
                       lambda t: t + ".dlq", 7)
        for key, (_, value) in done.outcome.changes.get(names.SCORE_STATES, {}).items():
            assert value is not None
            table[key] = value
        out.append(done)
    return out


def same(a: Computed, b: Computed) -> None:
    assert a.outcome.result.inserts == b.outcome.result.inserts
    assert a.outcome.result.outputs == b.outcome.result.outputs
    assert a.outcome.changes == b.outcome.changes
    assert a.counts == b.counts
    assert [(d.raw, d.error) for d in a.dead] == [(d.raw, d.error) for d in b.dead]


def both(codec: AvroCodec, models: Models, batches: Sequence[Sequence[Raw]]
         ) -> tuple[list[Computed], list[Computed], Frames]:
    frames = Frames(codec)
    by_message = run(codec, ScoringPolicy(lambda: models), batches)
    by_batch = run(codec, ScoringPolicy(lambda: models, read_batch=frames), batches)
    return by_message, by_batch, frames


@pytest.mark.parametrize("kind", ["rules", "models"])
def test_the_same_outcome_on_the_golden_profiles(codec: AvroCodec, models: dict[str, Models],
                                                  kind: str) -> None:
    first = golden_profiles()
    raws = encoded(codec, first) + encoded(codec, next_versions(first), len(first))
    batches = [raws[i:i + STEP] for i in range(0, len(raws), STEP)]
    by_message, by_batch, frames = both(codec, models[kind], batches)
    assert frames.read == len(batches)  # every batch was read as columns
    for a, b in zip(by_message, by_batch, strict=True):
        same(a, b)
    rows = sum(len(c.outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]["person_id"])
               for c in by_batch)
    assert rows == 4 * len(raws)  # every profile changed, four scores each


def test_varied_profiles_and_a_repeated_person(codec: AvroCodec, models: dict[str, Models]
                                               ) -> None:
    """Every shape a field takes (nulls, empty maps, non-ASCII text, merged persons) and the
    same person twice in one batch (the later version wins, its purchases fold on)."""
    values = [{**v, "updated_at": max(1, int(v["updated_at"]))} for v in varied(120)]
    again = [{**v, "version": int(v["version"]) + 1, "updated_at": int(v["updated_at"]) + 5}
             for v in values[:30]]
    raws = encoded(codec, values + again)
    batches = [raws[i:i + 50] for i in range(0, len(raws), 50)]
    by_message, by_batch, frames = both(codec, models["models"], batches)
    assert frames.read == len(batches)
    for a, b in zip(by_message, by_batch, strict=True):
        same(a, b)


Damage = Callable[[bytes], bytes]
DAMAGES: dict[str, Damage] = {
    "truncated": lambda good: good[:-3],
    "trailing": lambda good: good + b"\x00",
    "bad_utf8": lambda good: good[:6] + b"\xff" + good[7:],
    "empty": lambda good: good[:5],
    "another_schema": lambda good: good[:1] + (999).to_bytes(4, "big") + good[5:],
}


@pytest.mark.parametrize("damage", [*DAMAGES, "wrong_key"])
def test_a_bad_record_is_dead_lettered_alone(codec: AvroCodec, models: dict[str, Models],
                                             damage: str) -> None:
    raws = encoded(codec, golden_profiles()[:40])
    bad = raws[17]
    if damage == "wrong_key":
        raws[17] = dataclasses.replace(bad, key=b"somebody else")
    else:
        raws[17] = dataclasses.replace(bad, value=DAMAGES[damage](bad.value or b""))
    by_message, by_batch, frames = both(codec, models["models"], [raws])
    same(by_message[0], by_batch[0])
    assert frames.read == 0  # the reader refused the batch: it went message by message
    assert [d.raw for d in by_batch[0].dead] == [raws[17]]
    scored = set(by_batch[0].outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]["person_id"])
    assert len(scored) == 39 and bad.key_str not in scored


def test_randomly_damaged_bytes_read_as_message_by_message(codec: AvroCodec,
                                                            models: dict[str, Models]) -> None:
    """Bytes changed, dropped or inserted in one message of each batch: the batch path's
    outcome is the message-wise one (the damaged message decoded as the same record, or
    dead-lettered alone)."""
    rng = random.Random(3)
    goods = encoded(codec, golden_profiles()[:20])
    batches = []
    for _ in range(60):
        raws = list(goods)
        k = rng.randrange(len(raws))
        data = bytearray(raws[k].value or b"")
        for _ in range(rng.randint(1, 3)):
            i, what = rng.randrange(5, len(data)), rng.random()
            if what < 0.5:
                data[i] = rng.randrange(256)
            elif what < 0.75:
                del data[i]
            else:
                data.insert(i, rng.randrange(256))
        raws[k] = dataclasses.replace(raws[k], value=bytes(data))
        batches.append(raws)
    for raws in batches:  # each batch on its own: a fresh state
        by_message, by_batch, _ = both(codec, models["rules"], [raws])
        same(by_message[0], by_batch[0])


def test_the_compiled_reader_serves_the_latest_schema(codec: AvroCodec) -> None:
    assert available(codec) == kernel.COMPILED


def test_another_schema_under_the_writer_id_is_not_read(codec: AvroCodec,
                                                        models: dict[str, Models]) -> None:
    """A registry whose schema under the topic's writer id is not the contract's latest: the
    reader reads no batch, the message-wise decoder reads them all."""
    source = codec.source
    raws = encoded(codec, golden_profiles()[:20])
    other = AvroCodec(source, codec.topics)
    original = source.schema

    def schema(schema_id: int) -> dict[str, Any] | None:
        found = original(schema_id)
        return None if found is None else {**found, "doc": "a newer version"}

    setattr(source, "schema", schema)  # noqa: B010 - this source's lookups only, undone below
    try:
        with pytest.raises(InvalidMessage):
            ProfileReader(other).read(raws, other.decoder(names.CUSTOMER_PROFILES))
        by_message, by_batch, frames = both(other, models["rules"], [raws])
    finally:
        delattr(source, "schema")
    assert frames.read == 0
    same(by_message[0], by_batch[0])
    assert len(by_batch[0].outcome.result.outputs) == 4 * len(raws)
