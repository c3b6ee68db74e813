"""One full optimisation cycle over 10,000 campaigns with 90 days of hourly history.

The history is generated (seeded, vectorised numpy): per-campaign rates with hour-of-week
profiles, creative fatigue and Poisson noise; campaigns sit in portfolios of 20, a quarter carry
four audience segments, a few hundred market events arrive, and some campaigns are flagged
(anomalous, incomplete, learning). The timed part is ``run_cycle`` alone: aggregation, all six
rules and the guard rails. Goal: at most 30 s.

Also reports the process CPU of the best run and the 1-minute load average before and after the
runs (the machine is shared: wall seconds vary with it).

``python -m benchmarks.optimisation_bench [--campaigns 10000] [--days 90] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from streams.marketing.guardrails import DataFlags, GuardState
from streams.marketing.optimise import (
    CampaignSettings,
    CycleInputs,
    HourlyHistory,
    OptimisationPolicy,
    run_cycle,
)
from streams.marketing.rules_audience import SegmentStats
from streams.marketing.rules_competitive import MarketEvent

RESULTS = Path(__file__).parent / "results" / "latest.json"
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def generate(n: int, days: int, seed: int) -> tuple[HourlyHistory, CampaignSettings, CycleInputs]:
    rng = np.random.default_rng(seed)
    hours = days * 24
    how = (np.arange(hours) + START_MS // 3_600_000 + 72) % 168
    daily = np.sin(2 * np.pi * (np.arange(168) % 24) / 24 + rng.uniform(0, 6.3, (n, 1)))
    profile = np.exp(0.7 * daily)
    profile /= profile.mean(axis=1, keepdims=True)
    traffic = rng.uniform(50, 2000, (n, 1)) * profile[:, how]
    impressions = rng.poisson(traffic).astype(np.float64)
    creative_start = rng.integers(-30 * 24, hours - 5 * 24, n)
    age = np.maximum(np.arange(hours)[None, :] - creative_start[:, None], 0) / 24
    fatigue = 0.5 + 0.5 * np.exp(-age / rng.uniform(8, 40, (n, 1)))
    ctr = rng.uniform(0.005, 0.04, (n, 1)) * fatigue
    clicks = rng.binomial(impressions.astype(np.int64), np.minimum(ctr, 1)).astype(np.float64)
    cpc = rng.uniform(0.2, 3.0, (n, 1))
    cost = clicks * cpc
    cvr = rng.uniform(0.01, 0.08, (n, 1)) * np.exp(0.3 * daily)[:, how]
    conversions = rng.poisson(clicks * cvr).astype(np.float64)
    value = conversions * rng.uniform(10, 150, (n, 1))
    frequency = 1 + age * rng.uniform(0.05, 0.4, (n, 1))
    ids = tuple(f"c{i}" for i in range(n))
    history = HourlyHistory(ids, START_MS, impressions, clicks, cost, conversions, value, frequency)
    day_spend = cost[:, -7 * 24:].sum(axis=1) / 7
    settings = CampaignSettings(
        bid=cpc[:, 0] * 1.4, budget=day_spend * rng.uniform(0.9, 1.5, n),
        target_cpa=np.where(rng.random(n) < 0.5, rng.uniform(10, 60, n), np.nan),
        target_roas=np.where(rng.random(n) < 0.5, rng.uniform(1.5, 4, n), np.nan),
        portfolio=tuple(f"p{i // 20}" for i in range(n)),
        creative_ids=tuple(f"{c}-ad" for c in ids), creative_start=creative_start.astype(np.int64),
        hour_modifiers=np.ones((n, 168)))
    segments = {}
    for i in range(0, n, 4):
        clicks_i = clicks[i, -7 * 24:].sum()
        share = rng.dirichlet(np.ones(4))
        rate = rng.uniform(0.005, 0.1, 4)
        segments[ids[i]] = [SegmentStats(f"s{k}", bool(k < 3), float(clicks_i * share[k]),
                                         float(rng.poisson(clicks_i * share[k] * rate[k])),
                                         float(clicks_i * share[k] * cpc[i, 0]),
                                         float(rng.poisson(clicks_i * share[k] * rate[k]) * 50),
                                         float(rng.uniform(20, 80)), float(rng.integers(0, 60)))
                            for k in range(4)]
    as_of = START_MS + hours * 3_600_000
    events = tuple(
        MarketEvent("impression_share_drop" if k % 2 else "competitor_price_change",
                    ids[int(rng.integers(n))], as_of - 3_600_000, before=0.6, after=0.4 - 0.1 * (k % 3),
                    lost_to_rank=0.3, lost_to_budget=0.1 * (k % 4), competitor=f"x{k}")
        for k in range(300))
    flagged = rng.choice(n, 300, replace=False)
    flags = DataFlags(anomalous=frozenset(ids[i] for i in flagged[:100]),
                      incomplete=frozenset(ids[i] for i in flagged[100:200]),
                      learning=frozenset(ids[i] for i in flagged[200:]))
    return history, settings, CycleInputs(flags, events, segments)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    history, settings, inputs = generate(args.campaigns, args.days, args.seed)
    generated_s = time.perf_counter() - started
    policy = OptimisationPolicy()
    times, cpu = [], []
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run_cycle(history, settings, history.hours, policy, GuardState(), inputs)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    out: dict[str, Any] = {
        "campaigns": args.campaigns, "days": args.days, "hours": history.hours,
        "seconds": round(min(times), 3), "seconds_runs": [round(t, 3) for t in times],
        # CPU of the process (numpy may use more than one thread): the figure that the
        # machine's load does not inflate
        "cpu_seconds": round(min(cpu), 3), "cpu_seconds_runs": [round(t, 3) for t in cpu],
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "generate_seconds": round(generated_s, 2), "goal_seconds": 30,
        "recommendations": len(result.recommendations),
        "accepted": len(result.outcome.accepted), "refused": len(result.outcome.refused),
        "by_rule": dict(Counter(r.rule for r in result.recommendations)),
        "refused_by_guard": dict(Counter(r.guard for r in result.outcome.refused)),
        "command": "python -m benchmarks.optimisation_bench",
    }
    print(json.dumps(out, indent=1))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("slices", {})["optimisation"] = {"campaigns": out["campaigns"],
                                                         "seconds": out["seconds"],
                                                         **{k: v for k, v in out.items()
                                                            if k not in ("campaigns", "seconds")}}
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
