"""Profile changes scored per second by the scoring stage's step, on one core.

``--profiles`` decoded ``customer.profiles`` values of distinct people (10 to 50 recent
interactions each: touchpoints on six channels, chat sessions, purchases; generated, seed 7),
every one a change the stage scores (the worst case: none is skipped as unchanged), run through
``streams.predictive.stage.step`` in steps of ``--step`` events (the runtime's
step_max_events) with a lead model trained on generated history (path contributions, the
default setting) and the explained churn rules, CLV and next best action: four rows and four
records per profile. State is looked up in and written back to a dict, as the runtime's
tables do, with the worker's garbage-collector tuning (``agents.app.tune_gc``).
``events_per_s``: best of ``--repeat`` passes (``events_per_cpu_s``: per second of the
process's CPU time, which a busy shared machine disturbs less); ``p99_ms``: the 99th
percentile of a step's computation time (how long a profile waits for its step), over all
passes. Decoding is left out (``events_per_s_with_decode`` and
``events_per_cpu_s_with_decode``, best of ``--repeat`` passes too, add the Avro decoding of the
runtime's ``compute``).
Merged into ``slices.scoring`` of benchmarks/results/latest.json.

``python -m benchmarks.scoring_stage_bench [--profiles 20000] [--step 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.app import tune_gc
from benchmarks.scoring_bench import merge_slice
from streams.contract.codec import AvroCodec
from streams.kernel.records import Raw
from streams.kernel.stage import Events, Lookup, Value, compute
from streams.predictive import contract as names
from streams.predictive.history import DAY_MS, HistoryPolicy, train_lead_model
from streams.predictive.history_synthetic import histories
from streams.predictive.models import LEAD_MODEL, ModelSlot, publish
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy, stage, step
from streams.settings import Settings

T0 = 1_767_225_600_000
CHANNELS = ("paid_search", "display", "social", "organic_search", "email", "direct", "chat")


def profiles(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for p in range(n):
        start = T0 + rng.randrange(200) * DAY_MS
        recent = []
        at = start
        for i in range(rng.randint(10, 50)):
            at += rng.randrange(3 * DAY_MS)
            channel = rng.choice(CHANNELS)
            if rng.random() < 0.08:
                recent.append({"event_id": f"cv_{p}_{i}", "kind": "conversion", "occurred_at": at,
                               "type": "purchase", "channel": None, "campaign_id": None,
                               "value": round(rng.uniform(5, 300), 2), "currency": "USD"})
            else:
                recent.append({"event_id": f"tp_{p}_{i}", "kind": "touchpoint", "occurred_at": at,
                               "type": "chat_session" if channel == "chat" else "click",
                               "channel": channel, "campaign_id": None, "value": None,
                               "currency": None})
        ids = [f"anonymous_id:a{p}"] + ([f"email:p{p}@x.net"] if rng.random() < 0.7 else [])
        out.append({"person_id": f"p_{p:07d}", "version": 1 + rng.randrange(40),
                    "updated_at": at, "first_seen": start, "last_seen": at, "identifiers": ids,
                    "attributes": {"country": "US"}, "tags": [], "lifecycle_stage": "known",
                    "channels": [], "touchpoints": len(recent) + rng.randrange(50),
                    "conversions": sum(r["kind"] == "conversion" for r in recent),
                    "revenue": {}, "scores": {}, "recent": recent, "merged_into": None})
    return out


def lead_models(directory: Path) -> Models:
    rows = histories(persons=1500, days=240, seed=3)
    artefact = train_lead_model(rows, HistoryPolicy(horizon_ms=14 * DAY_MS)).artefact
    publish(artefact, directory)
    slot = ModelSlot(directory / LEAD_MODEL, contributions="path")
    slot.refresh()
    return Models(lead=slot.scorer)


def lookup_in(table: dict[str, Value]) -> Lookup:
    return lambda _, key: table.get(key)


def measure(n: int, step_size: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        models = lead_models(Path(tmp))
    policy = ScoringPolicy(lambda: models)
    values = profiles(n)
    tune_gc()  # as the worker does: long-lived objects frozen, a larger young generation
    raws = [Raw(names.CUSTOMER_PROFILES, 0, i, v["updated_at"], v["person_id"].encode(), None)
            for i, v in enumerate(values)]
    best, best_cpu, steps_ms = 0.0, 0.0, []
    for _ in range(repeat):
        table: dict[str, Value] = {}
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, step_size):
            t = time.perf_counter()
            out = step(policy, Events(raws[i:i + step_size], values[i:i + step_size]),
                       lookup_in(table), 0)
            for key, (_, value) in out.changes[names.SCORE_STATES].items():
                if value is not None:
                    table[key] = value
            steps_ms.append((time.perf_counter() - t) * 1000.0)
        best = max(best, n / (time.perf_counter() - started))
        best_cpu = max(best_cpu, n / (time.process_time() - cpu))
    # the same through the runtime's compute: Avro decoding and validation included
    codec = AvroCodec.from_settings(Settings())
    encoded = [Raw(r.topic, r.partition, r.offset, r.timestamp_ms, r.key,
                   codec.encode(names.CUSTOMER_PROFILES, v)) for r, v in zip(raws, values, strict=True)]
    spec = stage(policy)
    decoders = {names.CUSTOMER_PROFILES: codec.decoder(names.CUSTOMER_PROFILES)}
    inputs = {i.topic: i for i in spec.inputs}
    with_decode, with_decode_cpu = 0.0, 0.0
    for _ in range(repeat):
        table = {}
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, step_size):
            computed = compute(spec, encoded[i:i + step_size], decoders, inputs,
                               lookup_in(table), lambda t: t + ".dlq", 0)
            for key, (_, value) in computed.outcome.changes[names.SCORE_STATES].items():
                if value is not None:
                    table[key] = value
        with_decode = max(with_decode, n / (time.perf_counter() - started))
        with_decode_cpu = max(with_decode_cpu, n / (time.process_time() - cpu))
    assert models.lead is not None
    return {"events_per_s": round(best), "events_per_cpu_s": round(best_cpu),
            "cpu_us_per_event": round(1e6 / best_cpu, 1),
            "events_per_cpu_s_with_decode": round(with_decode_cpu),
            "cpu_us_per_event_with_decode": round(1e6 / with_decode_cpu, 1),
            "p99_ms": round(float(np.percentile(steps_ms, 99)), 2),
            "p50_ms": round(float(np.percentile(steps_ms, 50)), 2),
            "events_per_s_with_decode": round(with_decode), "profiles": n, "step": step_size,
            "rows_per_profile": 4, "lead_model": f"{LEAD_MODEL}-{models.lead.version}",
            "features": len(models.lead.feature_names), "contributions": "path",
            "threads": 1, "load_avg_1m": round(os.getloadavg()[0], 2)}


def before_after(runs: dict[str, list[dict[str, Any]]], before: str) -> dict[str, Any]:
    """The figures of alternating runs of two trees side by side (``--before-after``)."""
    keys = ("events_per_cpu_s", "cpu_us_per_event", "events_per_cpu_s_with_decode",
            "cpu_us_per_event_with_decode", "events_per_s", "events_per_s_with_decode", "p50_ms",
            "p99_ms", "load_avg_1m")
    return {"before_commit": before, "runs": "alternating before, after, ... under the bench "
            "lock, the same benchmark module on each tree's code",
            **{k: {side: [r[k] for r in rs] for side, rs in runs.items()} for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--step", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.profiles, args.step, args.repeat)
    figures["command"] = (f"python -m benchmarks.scoring_stage_bench --profiles {args.profiles} "
                          f"--step {args.step} --repeat {args.repeat}")
    merge_slice("scoring", figures)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
