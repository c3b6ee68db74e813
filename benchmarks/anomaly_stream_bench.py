"""CPU cost of in-stream anomaly detection: the ``ad.metrics`` stage's step, on one core.

Runs ``streams.marketing.stage`` over the ad slice's simulated report rows (the pool that
``benchmarks.run --slices ad`` produces: ``streams.simulators.chat.ad_metrics``, seed 17) in
steps of ``--step`` events, with the tables kept in memory and every changed table value
encoded as the worker encodes its changelog (orjson), with anomaly detection off (KPIs
only) and on, alternating, ``--repeat`` times each. Prints the best µs an event of each and
the extra cost of detection; merges slice ``anomaly_stream`` into
benchmarks/results/latest.json. This is the step alone: the worker's end-to-end figures
(consuming, ClickHouse, publishing) come from ``benchmarks.run --slices ad``.

That pool is a replay: 17 campaigns and 1,690 hours, so a step of 200 rows holds about eight
hours of each campaign. ``--live-campaigns N`` (default 500; 0: skip) also measures the shape
of a live stream: N simulated campaigns (``streams.simulators.anomalies``, seed 17) whose
tables hold five weeks of history, then their next ``--live-hours`` hours in report order
(every campaign's hour, then the next hour), in steps of ``--step`` rows: a step holds one
hour of 200 campaigns. Reported under ``live``.

The 1-minute load average before and after is reported: the figures are process CPU, which
the machine's load inflates less than wall time, but not not at all.

``python -m benchmarks.anomaly_stream_bench [--events 40000] [--step 200] [--repeat 3]
[--live-campaigns 500] [--live-hours 6] [--no-write]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from pathlib import Path
from typing import Any

import orjson

from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Events, Stage, Value
from streams.marketing import contract as names
from streams.marketing import stage as marketing
from streams.marketing.anomaly_scoring import DEFAULT_POLICY
from streams.simulators.anomalies import HOUR_MS, simulate
from streams.simulators.anomalies import rows as simulated_rows
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


def live_batches(campaigns: int, hours: int, step: int) -> tuple[list[Events], list[Events]]:
    """Daily batches of the history (untimed) and the last ``hours`` hours in steps."""
    sim = simulate(campaigns=campaigns, weeks=6, seed=17, late_share=0.0)
    defaults: dict[str, Any] = {"campaign_name": None, "ad_group_id": None, "ad_id": None, "device": None,
                "bid_micros": None, "budget_micros": None, "audience": None, "extra": {}}
    values = sorted(({**defaults, **r} for r in simulated_rows(sim)),
                    key=lambda v: (v["interval_start"], v["campaign_id"]))
    cut = sim.start_ms + (sim.hours - hours) * HOUR_MS

    def events(chunk: list[dict[str, Any]], at: int) -> Events:
        raws = [Raw(names.AD_METRICS, 0, at + i, 0, None, None) for i in range(len(chunk))]
        return Events(raws, chunk)

    history = [v for v in values if v["interval_start"] < cut]
    recent = [v for v in values if v["interval_start"] >= cut]
    day = 24 * campaigns
    warm = [events(history[i:i + day], i) for i in range(0, len(history), day)]
    timed = [events(recent[i:i + step], len(history) + i) for i in range(0, len(recent), step)]
    return warm, timed


def run_live(stage: Stage, warm: list[Events], timed: list[Events]) -> tuple[float, int, int]:
    """As ``run_once`` over ``timed``, after ``warm`` has filled the tables."""
    memory = Memory()
    for events in warm:
        memory.apply(stage.step(events, memory.lookup, 0).changes)
    return run_once(stage, timed, memory)


def run_once(stage: Stage, steps: list[Events], memory: Memory | None = None
             ) -> tuple[float, int, int]:
    """Seconds of CPU for every step, alerts raised, changelog bytes."""
    memory = memory or Memory()
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
    parser.add_argument("--live-campaigns", type=int, default=500)
    parser.add_argument("--live-hours", type=int, default=6)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    steps = batches(args.events, args.step)
    off, on = marketing.stage(None), marketing.stage(DEFAULT_POLICY)
    runs: dict[str, list[tuple[float, int, int]]] = {"off": [], "on": []}
    load_before = os.getloadavg()[0]
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
    if args.live_campaigns:
        warm, timed = live_batches(args.live_campaigns, args.live_hours, args.step)
        events = sum(len(e.values) for e in timed)
        live: dict[str, list[tuple[float, int, int]]] = {"off": [], "on": []}
        for _ in range(args.repeat):
            live["off"].append(run_once(off, timed))
            live["on"].append(run_live(on, warm, timed))
        live_us = {k: min(v)[0] / events * 1e6 for k, v in live.items()}
        figures["live"] = {
            "campaigns": args.live_campaigns, "history_weeks": 5, "hours": args.live_hours,
            "events": events, "step_events": args.step,
            "off_us_per_event": round(live_us["off"], 2),
            "on_us_per_event": round(live_us["on"], 2),
            "detection_us_per_event": round(live_us["on"] - live_us["off"], 2),
            "alerts": min(live["on"])[1]}
    figures["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("slices", {})["anomaly_stream"] = figures
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
