"""The customer domain's three stages run in memory, without Kafka: records go through the
Avro codec and ``compute`` as the runtime would hand them over, outputs are routed to the
stage that consumes their topic (partition: a hash of the key), until nothing is left."""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer import identity_stage, inputs_stage, profile_stage
from streams.kernel.records import Columns, OutputRecord, Raw
from streams.kernel.stage import Changes, Computed, Stage, Value, compute

PARTITIONS = 6


class Memory:
    """Table state as the runtime keeps it, in a dict."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (partition, value) in changed.items():
                if value is None:
                    self.tables.get(table, {}).pop(key, None)
                else:
                    self.tables.setdefault(table, {})[key] = {**value, "partition": partition}


def partition_of(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


class Chain:
    def __init__(self, codec: AvroCodec, inputs: inputs_stage.InputsPolicy | None = None,
                 profiles: profile_stage.ProfileStagePolicy | None = None,
                 batch: int = 64) -> None:
        self.codec = codec
        self.stages: dict[str, Stage] = {}
        for s in (inputs_stage.stage(inputs or inputs_stage.InputsPolicy()),
                  identity_stage.stage(identity_stage.IdentityStagePolicy()),
                  profile_stage.stage(profiles or profile_stage.ProfileStagePolicy())):
            for i in s.inputs:
                self.stages[i.topic] = s
        self.memory: dict[str, Memory] = defaultdict(Memory)
        self.offsets: dict[tuple[str, int], int] = defaultdict(int)
        self.pending: list[Raw] = []
        self.rows: dict[str, Columns] = {}
        self.outputs: list[OutputRecord] = []
        self.dead: list[Any] = []
        self.batch = batch

    def raw(self, record: OutputRecord) -> Raw:
        p = partition_of(record.key)
        offset = self.offsets[record.topic, p]
        self.offsets[record.topic, p] += 1
        return Raw(record.topic, p, offset, 1_767_225_600_000, record.key.encode(),
                   self.codec.encode(record.topic, record.value))

    def produce(self, records: Iterable[OutputRecord]) -> None:
        self.pending.extend(self.raw(r) for r in records)

    def run_batch(self, stage: Stage, raws: list[Raw]) -> Computed:
        decoders = {i.topic: self.codec.decoder(i.topic) for i in stage.inputs}
        inputs = {i.topic: i for i in stage.inputs}
        memory = self.memory[stage.name]
        computed = compute(stage, raws, decoders, inputs, memory.lookup,
                           lambda t: t + ".dlq", 0)
        memory.apply(computed.outcome.changes)
        for table, cols in computed.outcome.result.inserts.items():
            into = self.rows.setdefault(table, {name: [] for name in cols})
            for name, values in cols.items():
                into[name].extend(values)
        self.dead.extend(computed.dead)
        return computed

    def drain(self) -> None:
        """Run batches (of one topic at a time, in arrival order) until nothing is pending."""
        while self.pending:
            topic = self.pending[0].topic
            raws = [r for r in self.pending if r.topic == topic][: self.batch]
            taken = {id(r) for r in raws}
            self.pending = [r for r in self.pending if id(r) not in taken]
            computed = self.run_batch(self.stages[topic], raws)
            outputs = computed.outcome.result.outputs
            self.outputs.extend(outputs)
            self.produce(o for o in outputs if o.topic in self.stages)

    def table(self, stage: str, name: str) -> dict[str, Value]:
        return self.memory[stage].tables.get(name, {})

    def profiles(self) -> dict[str, Value]:
        """The live profiles (persons not merged away)."""
        return {k: json.loads(v["profile"])
                for k, v in self.table(profile_stage.NAME, profile_stage.PROFILES).items()
                if v["merged_into"] is None}

    def column_rows(self, table: str) -> list[dict[str, Any]]:
        cols = self.rows.get(table, {})
        names = list(cols)
        return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]


__all__ = ["Chain", "Memory", "topics"]
