"""The chat slice's computation alone, on one core: no Kafka, no ClickHouse.

Runs the conversation stage's computation (``streams.kernel.stage.compute``: decode,
validate, sentiment, emotions, intent, language, the conversation-record fold, columns and
output records) over simulated events in
steps of the given sizes, with the tables' changelog JSON encoded as the worker does, and
prints microseconds an event and the events/s that one core could compute. What a worker
drains end to end (``benchmarks.run``) is lower: consuming, ClickHouse inserts and publishing
take the rest.

``python -m benchmarks.compute_bench [--events 60000] [--steps 200,4000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from typing import Any

import orjson

from benchmarks.run import calibration_seconds
from streams import topics
from streams.contract.codec import AvroCodec
from streams.conversation import stage as conversation
from streams.kernel.records import Raw
from streams.kernel.stage import Value, compute
from streams.settings import Settings
from streams.simulators.chat import conversations


def encoded(codec: AvroCodec, count: int, partitions: int = 6) -> list[Raw]:
    records = list(conversations(count, seed=7, start_ms=1_767_225_600_000))[:count]
    return [Raw(topics.CHAT_EVENTS, sum(r.key.encode()) % partitions, i, 1_767_225_600_000 + i,
                r.key.encode(), codec.encode(r.topic, r.value))
            for i, r in enumerate(records)]


def run_once(codec: AvroCodec, raws: list[Raw], step: int) -> float:
    """Seconds to compute every event in steps of ``step``, from empty tables."""
    stage = conversation.stage(conversation.ConversationPolicy(
        source_topic=topics.CHAT_EVENTS, inactivity_ms=60_000, retain_ms=3_600_000,
        timer_interval=1.0))
    tables: dict[str, dict[str, Value]] = {}
    decoders = {topics.CHAT_EVENTS: codec.decoder(topics.CHAT_EVENTS)}
    inputs = {i.topic: i for i in stage.inputs}

    def lookup(table: str, key: str) -> Value | None:
        return tables.get(table, {}).get(key)

    started = time.perf_counter()
    for i in range(0, len(raws), step):
        computed = compute(stage, raws[i:i + step], decoders, inputs, lookup, str, 0)
        for table, changed in computed.outcome.changes.items():
            held = tables.setdefault(table, {})
            for key, (_, value) in changed.items():
                if value is None:
                    held.pop(key, None)
                else:
                    held[key] = value
                    orjson.dumps(value)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--steps", default="200,4000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    codec = AvroCodec.from_settings(Settings())
    raws = encoded(codec, args.events)
    run_once(codec, raws[:2000], 200)  # load the models, warm the caches
    gc.collect()
    gc.freeze()  # as the worker does (agents.app.tune_gc)
    gc.set_threshold(50_000, 20, 100)
    out: dict[str, Any] = {"events": len(raws), "calibration_loop_s": calibration_seconds(),
                           "steps": {}}
    for step in (int(s) for s in args.steps.split(",")):
        best = min(run_once(codec, raws, step) for _ in range(args.repeat))
        out["steps"][str(step)] = {"us_per_event": round(best / len(raws) * 1e6, 1),
                                   "events_per_s": round(len(raws) / best)}
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
