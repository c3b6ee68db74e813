"""The customer stages' computation on one core: no Kafka, no ClickHouse.

Runs ``streams.kernel.stage.compute`` (decode, validate, step) of each customer stage over
simulated people (several devices and identifiers each, ``streams.simulators.customers``) in
steps of ``--step`` events, with each table change JSON-encoded as the worker's changelog
does, and reports events/s per stage (wall clock, and per second of the process's CPU):

- ``inputs_events_per_s``: validation, normalisation (phonenumbers) and re-keying;
- ``identity_events_per_s``: the single writer of the identity graph; whatever the number of
  workers, this is the identity throughput of the whole pipeline;
- ``profile_events_per_s``: profile fold and rule-based attribution (six models) per
  conversion; this stage scales with the partitions of ``customer.events``.

Encoding (the producers' work) is outside the timings; ``outputs`` gives, per topic the
stages write, the records per input event and the CPU of their Avro encoding per input event
(each record encoded once, timed apart). What a worker drains end to end is
lower: consuming, ClickHouse inserts and publishing take the rest. Merges slice
``customer_stages`` into benchmarks/results/latest.json.

``python -m benchmarks.customer_stages [--people 20000] [--step 500] [--no-write]``
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer import identity_stage, inputs_stage, profile_stage
from streams.kernel.records import OutputRecord, Raw
from streams.kernel.stage import Stage, Value, compute
from streams.settings import Settings
from streams.simulators.customers import customers

RESULTS = Path(__file__).parent / "results" / "latest.json"
PARTITIONS = 6


def _raws(codec: AvroCodec, records: list[OutputRecord], single: bool = False) -> list[Raw]:
    offsets: dict[int, int] = {}
    out = []
    for r in records:
        p = 0 if single else zlib.crc32(r.key.encode()) % PARTITIONS
        offsets[p] = offsets.get(p, -1) + 1
        out.append(Raw(r.topic, p, offsets[p], 0, r.key.encode(), codec.encode(r.topic, r.value)))
    return out


def run(codec: AvroCodec, stage: Stage, raws: list[Raw], step: int,
        tables: dict[str, dict[str, Value]]) -> tuple[float, float, list[OutputRecord]]:
    """Seconds (wall, CPU of this process) to compute ``raws`` in steps of ``step`` onto
    ``tables``; the outputs."""
    decoders = {i.topic: codec.decoder(i.topic) for i in stage.inputs}
    inputs = {i.topic: i for i in stage.inputs}
    lookup: Callable[[str, str], Value | None] = lambda t, k: tables.get(t, {}).get(k)  # noqa: E731
    outputs: list[OutputRecord] = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(raws), step):
        computed = compute(stage, raws[i:i + step], decoders, inputs, lookup, str, 0)
        outputs.extend(computed.outcome.result.outputs)
        for table, changed in computed.outcome.changes.items():
            held = tables.setdefault(table, {})
            for key, (partition, value) in changed.items():
                if value is None:
                    held.pop(key, None)
                else:
                    held[key] = {**value, "partition": partition}
                    orjson.dumps(value)
    return time.perf_counter() - started, time.process_time() - cpu, outputs


def encoding(codec: AvroCodec, outputs: list[OutputRecord], n_inputs: int
             ) -> dict[str, dict[str, float]]:
    """Per topic: records per input event, Avro encoding in CPU microseconds per input event."""
    by_topic: dict[str, list[OutputRecord]] = {}
    for o in outputs:
        by_topic.setdefault(o.topic, []).append(o)
    out = {}
    for topic, records in sorted(by_topic.items()):
        encode = codec.encode
        cpu = time.process_time()
        for r in records:
            encode(topic, r.value)
        cpu = time.process_time() - cpu
        out[topic] = {"records_per_input_event": round(len(records) / n_inputs, 2),
                      "encode_us_per_input_event": round(cpu / n_inputs * 1e6, 1)}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    codec = AvroCodec.from_settings(Settings())
    _, identity_phase, converted = customers(args.people, seed=1)
    records = identity_phase + converted
    gc.collect()
    gc.freeze()  # as the worker does (agents.app.tune_gc)
    gc.set_threshold(50_000, 20, 100)
    inputs = inputs_stage.stage(inputs_stage.InputsPolicy())
    t_in, c_in, observations = run(codec, inputs, _raws(codec, records), args.step, {})
    observations = [o for o in observations if o.topic == topics.IDENTITY_OBSERVATIONS]
    t_id, c_id, resolved = run(codec, identity_stage.stage(identity_stage.IdentityStagePolicy()),
                         _raws(codec, observations, single=True), args.step, {})
    events = [o for o in resolved if o.topic == topics.CUSTOMER_EVENTS]
    profiles = profile_stage.stage(profile_stage.ProfileStagePolicy())
    tables: dict[str, dict[str, Value]] = {}
    # merge notices first produce absorbed profiles, which go round once more
    t_pr, c_pr, again = run(codec, profiles, _raws(codec, events), args.step, tables)
    loop = [o for o in again if o.topic == topics.CUSTOMER_EVENTS]
    t_loop, c_loop, last = run(codec, profiles, _raws(codec, loop), args.step, tables)
    live = sum(1 for v in tables[profile_stage.PROFILES].values() if v["merged_into"] is None)
    assert live == args.people, (live, args.people)
    figures = {
        "people": args.people, "step": args.step, "input_events": len(records),
        "conversions": len(converted),
        "inputs_events_per_s": round(len(records) / t_in),
        "identity_events_per_s": round(len(observations) / t_id),
        "profile_events_per_s": round((len(events) + len(loop)) / (t_pr + t_loop)),
        # the same per second of this process's CPU: on a shared machine wall time also
        # counts the time other processes held the core
        "inputs_events_per_cpu_s": round(len(records) / c_in),
        "identity_events_per_cpu_s": round(len(observations) / c_id),
        "profile_events_per_cpu_s": round((len(events) + len(loop)) / (c_pr + c_loop)),
        "profile_stage_events": len(events) + len(loop),
        "outputs": encoding(codec, [*observations, *resolved, *again, *last], len(records)),
        "command": "python -m benchmarks.customer_stages "
                   f"--people {args.people} --step {args.step}",
    }
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("slices", {})["customer_stages"] = figures
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
