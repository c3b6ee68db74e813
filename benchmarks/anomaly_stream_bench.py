"""CPU cost of in-stream anomaly detection: the ``ad.metrics`` stage's step, on one core.

Runs ``streams.marketing.stage`` over the ad slice's simulated report rows (the pool that
``benchmarks.run --slices ad`` produces: ``streams.simulators.chat.ad_metrics``, seed 17) in
steps of ``--step`` events, with the tables kept in memory and every changed table value
encoded as the worker encodes its changelog (orjson), with anomaly detection off (KPIs
only) and on, alternating, ``--repeat`` times each. Prints the best µs an event of each and
the extra cost of detection; merges slice ``anomaly_stream`` into
benchmarks/results/latest.json. This is the step alone: the worker's end-to-end figures
(consuming, ClickHouse, publishing) come from ``benchmarks.run --slices ad``.

``python -m benchmarks.anomaly_stream_bench [--events 40000] [--step 200] [--repeat 3]
[--no-write]``
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

import orjson

from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Events, Stage, Value
from streams.marketing import contract as names
from streams.marketing import stage as marketing
from streams.marketing.anomaly_scoring import DEFAULT_POLICY
from streams.simulators.chat import ad_metrics

RESULTS = Path(__file__).parent / "results" / "latest.json"
PARTITIONS = 6


class Memory:
    """The stage's tables as the runtime keeps them, changelog encoding included."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}
        self.changelog_bytes = 0

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            held = self.tables.setdefault(table, {})
            for key, (partition, value) in changed.items():
                if value is None:
                    held.pop(key, None)
                    continue
                if value.get("partition") != partition:
                    value = {**value, "partition": partition}
                held[key] = value
                self.changelog_bytes += len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


def batches(events: int, step: int) -> list[Events]:
    values = [r.value for r in ad_metrics(events, seed=17)]
    keys = [f"{v['platform']}:{v['campaign_id']}" for v in values]
    offsets = [0] * PARTITIONS
    raws = []
    for key in keys:
        partition = sum(key.encode()) % PARTITIONS
        raws.append(Raw(names.AD_METRICS, partition, offsets[partition], 0, key.encode(), None))
        offsets[partition] += 1
    return [Events(raws[i:i + step], values[i:i + step]) for i in range(0, events, step)]


def run_once(stage: Stage, steps: list[Events]) -> tuple[float, int, int]:
    """Seconds of CPU for every step, alerts raised, changelog bytes."""
    memory = Memory()
    alerts = 0
    gc.collect()
    started = time.process_time()
    for events in steps:
        outcome = stage.step(events, memory.lookup, 0)
        memory.apply(outcome.changes)
        alerts += sum(r.topic == names.ANOMALIES for r in outcome.result.outputs)
    return time.process_time() - started, alerts, memory.changelog_bytes


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--step", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    steps = batches(args.events, args.step)
    off, on = marketing.stage(None), marketing.stage(DEFAULT_POLICY)
    runs: dict[str, list[tuple[float, int, int]]] = {"off": [], "on": []}
    for _ in range(args.repeat):
        runs["off"].append(run_once(off, steps))
        runs["on"].append(run_once(on, steps))
    best = {k: min(v) for k, v in runs.items()}
    us = {k: best[k][0] / args.events * 1e6 for k in best}
    figures: dict[str, Any] = {
        "events": args.events, "step_events": args.step,
        "off_us_per_event": round(us["off"], 2), "on_us_per_event": round(us["on"], 2),
        "detection_us_per_event": round(us["on"] - us["off"], 2),
        "on_over_off": round(us["on"] / us["off"], 3),
        "alerts": best["on"][1],
        "changelog_bytes_per_event": round(best["on"][2] / args.events, 1),
        "all_runs_us_per_event": {k: [round(r[0] / args.events * 1e6, 2) for r in v]
                                  for k, v in runs.items()},
        "reproduce": "python -m benchmarks.anomaly_stream_bench",
    }
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("slices", {})["anomaly_stream"] = figures
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
