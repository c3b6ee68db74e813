"""Speed of the scheduled anomaly path: the newest hour of many campaigns, every metric, at once.

Simulates ``--campaigns`` campaigns (seeded, with a few labelled anomalies) for as many hours as
one score reads (``AnomalyPolicy.lookback_hours + 1``), then times
``streams.marketing.anomaly_batch.score_latest`` over the last hour of all six metrics (spend,
CTR, CPC, CPA, conversions, ROAS): ``campaigns x 6`` series. Reports the best of ``--repeat``
runs and merges slice ``anomaly`` into benchmarks/results/latest.json: ``series`` (campaign x
metric series scored), ``points`` (new hourly points, one per series), ``seconds`` (all of
them), plus the per-metric split and seconds per 10,000 series.

``python -m benchmarks.anomaly_bench [--campaigns 10000] [--repeat 3] [--no-write]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from streams.marketing.anomaly_batch import score_latest
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, METRICS, Array, components
from streams.simulators.anomalies import simulate

RESULTS = Path(__file__).parent / "results" / "latest.json"


def counters(campaigns: int, hours: int, seed: int = 17) -> tuple[Array, ...]:
    """``(impressions, clicks, cost, conversions, value)`` for the last ``hours`` hours."""
    weeks = hours // 168 + 2
    parts = [simulate(campaigns=min(1000, campaigns - i), weeks=weeks, seed=seed + i, events_per_campaign=1,
                      warmup_weeks=weeks - 2) for i in range(0, campaigns, 1000)]
    return tuple(np.ascontiguousarray(np.concatenate([getattr(p, f)[:, -hours:] for p in parts]))
                 for f in ("impressions", "clicks", "cost", "conversions", "value"))


def run_once(data: tuple[Array, ...]) -> tuple[float, dict[str, float], int]:
    per_metric: dict[str, float] = {}
    alerts = 0
    for metric in METRICS:
        num, den, vol = components(metric, *data)
        started = time.perf_counter()
        scores = score_latest(metric, num, den, vol)
        per_metric[metric] = time.perf_counter() - started
        alerts += int((scores.severity > 0).sum())
    return sum(per_metric.values()), per_metric, alerts


def merge(figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Read-modify-write of latest.json that keeps every other key."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("slices", {})["anomaly"] = figures
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    hours = DEFAULT_POLICY.lookback_hours + 1
    data = counters(args.campaigns, hours)
    load_before = os.getloadavg()
    cpu_started = time.process_time()
    runs = [run_once(data) for _ in range(args.repeat)]
    cpu = (time.process_time() - cpu_started) / args.repeat
    seconds, per_metric, alerts = min(runs, key=lambda r: r[0])
    series = args.campaigns * len(METRICS)
    figures: dict[str, Any] = {
        "series": series, "points": series, "campaigns": args.campaigns, "metrics": len(METRICS),
        "history_hours": hours, "seconds": round(seconds, 3),
        "seconds_per_10000_series": round(seconds * 10_000 / series, 3),
        "seconds_by_metric": {m: round(s, 3) for m, s in per_metric.items()},
        "alerting_series": alerts, "repeat": args.repeat,
        "all_runs_seconds": [round(r[0], 3) for r in runs],
        "cpu_seconds_per_run": round(cpu, 3),
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "reproduce": "python -m benchmarks.anomaly_bench",
    }
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        merge(figures)
    return figures


if __name__ == "__main__":
    main()
