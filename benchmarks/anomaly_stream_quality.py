"""Quality of the in-stream detector itself: the ``ad.metrics`` stage over simulated report rows.

``benchmarks.anomaly_quality`` scores whole series with ``score_columns``; this runs the same
held-out simulated campaigns (seeds 101-105, 40 campaigns x 9 weeks each, labelled spend
spikes, CTR drops, tracking breaks and budgets exhausted early) through
``streams.marketing.stage`` as a worker would receive them, in daily batches of
campaign-level ``ad.metrics`` rows, and evaluates the alerts it raises from the second week
on with the same definitions (``streams.marketing.anomaly_evaluation``). It also counts how
many of them differ from the whole-series run on the same rows (cost goes through micros).

Merges ``"quality": {"anomaly_stream": {...}}`` into benchmarks/results/latest.json.

``python -m benchmarks.anomaly_stream_quality [--seeds 101,102,103,104,105] [--no-write]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from streams.kernel.records import Raw
from streams.kernel.stage import Events
from streams.marketing import contract as names
from streams.marketing import stage as marketing
from streams.marketing.anomaly import hourly_points
from streams.marketing.anomaly_evaluation import Label, SeriesAlert, as_dicts, evaluate, series_alerts
from streams.simulators.anomalies import HOUR_MS, rows, simulate

RESULTS = Path(__file__).parent / "results" / "latest.json"
DEFAULTS: dict[str, Any] = {"campaign_name": None, "ad_group_id": None, "ad_id": None,
                            "device": None, "bid_micros": None, "budget_micros": None,
                            "audience": None, "extra": {}}
FIRST = 168  # as benchmarks.anomaly_quality: alerts from the second week on


def one_seed(seed: int, campaigns: int, weeks: int) -> tuple[list[SeriesAlert], list[SeriesAlert],
                                                               list[Label], float, float]:
    """The stream's alerts, the whole-series alerts of the same rows, labels, series-weeks and
    seconds in the stage."""
    sim = simulate(campaigns=campaigns, weeks=weeks, seed=seed)
    values = sorted(({**DEFAULTS, **r} for r in rows(sim)), key=lambda v: v["interval_start"])
    stage = marketing.stage()
    tables: dict[str, dict[str, Any]] = {}

    def lookup(table: str, key: str) -> Any:
        return tables.get(table, {}).get(key)

    days: dict[int, list[dict[str, Any]]] = {}
    for v in values:
        days.setdefault((v["interval_start"] - sim.start_ms) // (24 * HOUR_MS), []).append(v)
    stream: list[SeriesAlert] = []
    offset = 0
    took = 0.0
    for day in sorted(days):
        batch = days[day]
        raws = [Raw(names.AD_METRICS, 0, offset + i, 0, None, None) for i in range(len(batch))]
        offset += len(batch)
        started = time.process_time()
        outcome = stage.step(Events(raws, batch), lookup, 0)
        took += time.process_time() - started
        for table, changed in outcome.changes.items():
            for key, (_, value) in changed.items():
                if value is None:
                    tables.setdefault(table, {}).pop(key, None)
                else:
                    tables.setdefault(table, {})[key] = value
        for record in outcome.result.outputs:
            if record.topic != names.ANOMALIES:
                continue
            a = record.value
            column = (a["hour"] - sim.start_ms) // HOUR_MS
            if column >= FIRST:
                stream.append(SeriesAlert(int(a["campaign_id"][1:]), column, a["metric"],
                                          a["direction"], a["status"],
                                          2 if a["severity"] == "critical" else 1))
    counters = np.full((5, sim.campaigns, sim.hours), np.nan)
    for p in hourly_points(values):
        counters[:, int(p.campaign_id[1:]), p.hour - sim.start_ms // HOUR_MS] = (
            p.impressions, p.clicks, p.cost, p.conversions, p.value)
    whole = series_alerts(tuple(counters), FIRST)
    weeks_seen = float(np.sum(~np.isnan(sim.cost[:, FIRST:]))) / 168
    labels = [Label(lb.campaign, lb.kind, lb.start, lb.end) for lb in sim.labels]
    return stream, whole, labels, weeks_seen, took


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="101,102,103,104,105")
    parser.add_argument("--campaigns", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=9)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    stream: list[SeriesAlert] = []
    labels: list[Label] = []
    series_weeks = seconds = 0.0
    differ = 0
    for i, seed in enumerate(seeds):
        got, whole, seed_labels, weeks_seen, took = one_seed(seed, args.campaigns, args.weeks)
        shift = i * args.campaigns

        def key(a: SeriesAlert) -> tuple[Any, ...]:
            return a.series, a.column, a.metric, a.direction, a.status

        differ += len({key(a) for a in got} ^ {key(a) for a in whole})
        stream += [SeriesAlert(a.series + shift, a.column, a.metric, a.direction, a.status,
                               a.severity) for a in got]
        labels += [Label(lb.series + shift, lb.kind, lb.start, lb.end) for lb in seed_labels]
        series_weeks += weeks_seen
        seconds += took
    report = as_dicts(evaluate(stream, labels, series_weeks))
    report.update({"campaigns": args.campaigns * len(seeds), "weeks": args.weeks, "seeds": seeds,
                   "batches": "daily", "alerts_differing_from_whole_series": differ,
                   "stage_cpu_seconds": round(seconds, 2),
                   "reproduce": "python -m benchmarks.anomaly_stream_quality"})
    print(json.dumps(report, indent=2))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("quality", {})["anomaly_stream"] = report
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
