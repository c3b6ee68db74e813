"""CTR and ROAS with the optimisation applied hourly against without, on simulated campaigns.

Each seed builds a portfolio of campaigns with known response curves
(``streams.simulators.response``), runs a warm-up of ``--warmup-days`` with the starting levers
(identical in both arms), then ``--weeks`` weeks twice with the same noise (common random
numbers): once untouched, once with an optimisation cycle every hour whose accepted changes are
applied at once (creative refresh alerts included, as if a fresh creative went live). A third
run, without optimisation but with every creative replaced at a fixed age, shows how much of the
CTR gain is only "refresh tired creatives at all". Figures are over the measured weeks only.
The replaced system claimed +25 % CTR; this prints whatever the simulation gives.

``python -m benchmarks.optimisation_uplift [--seeds 1,2,3,4,5] [--campaigns 12] [--weeks 4]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from streams.marketing import guardrails
from streams.marketing.guardrails import GuardState
from streams.marketing.optimise import (
    CampaignSettings,
    HourlyHistory,
    OptimisationPolicy,
    apply_changes,
    run_cycle,
)
from streams.simulators import response

RESULTS = Path(__file__).parent / "results" / "latest.json"
TARGET_ROAS = 2.0
METRICS = ("impressions", "clicks", "cost", "conversions", "value", "frequency")


def run_arm(seed: int, campaigns: int, warmup_days: int, weeks: int, optimise: bool,
            policy: OptimisationPolicy, target_roas: float = TARGET_ROAS,
            refresh_every_days: int | None = None) -> dict[str, Any]:
    """One arm; ``refresh_every_days`` swaps in a fresh creative at that age (a fixed schedule)."""
    market, levers = response.make_market(campaigns, seed)
    rng = np.random.default_rng(seed + 10_000)
    warmup, total = warmup_days * 24, (warmup_days + weeks * 7) * 24
    cols = {m: np.zeros((campaigns, total)) for m in METRICS}
    history = HourlyHistory(market.campaign_ids, market.start_ms, cols["impressions"], cols["clicks"],
                            cols["cost"], cols["conversions"], cols["value"], cols["frequency"])
    # One stated advertiser goal for every campaign; the simulated ROAS spreads around it.
    targets = np.full(campaigns, target_roas)
    settings = CampaignSettings(
        bid=levers.bid.copy(), budget=levers.budget.copy(), target_cpa=np.full(campaigns, np.nan),
        target_roas=targets, portfolio=("portfolio",) * campaigns,
        creative_ids=tuple(f"{c}-creative" for c in market.campaign_ids),
        creative_start=levers.creative_start.copy(), hour_modifiers=levers.hour_modifiers.copy())
    state, guard = response.start(levers), GuardState()
    applied: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    cycle_s = 0.0
    for hour in range(total):
        if optimise and hour >= warmup:
            started = time.perf_counter()
            result = run_cycle(history, settings, hour, policy, guard)
            cycle_s += time.perf_counter() - started
            accepted = result.outcome.accepted
            settings = apply_changes(settings, market.campaign_ids, accepted, hour)
            guard = guardrails.record(guard, accepted, result.as_of_ms, policy.guard)
            applied.update(f"{r.rule}:{r.action}" for r in accepted)
            refused.update(r.guard for r in result.outcome.refused)
            state = response.with_levers(state, replace(
                state.levers, bid=settings.bid, budget=settings.budget,
                hour_modifiers=settings.hour_modifiers, creative_start=settings.creative_start))
        if refresh_every_days and hour >= warmup:
            due = hour - state.levers.creative_start >= refresh_every_days * 24
            if due.any():
                starts = np.where(due, hour, state.levers.creative_start)
                state = response.with_levers(state, replace(state.levers, creative_start=starts))
        state, rows = response.step(market, state, rng)
        for m in METRICS:
            cols[m][:, hour] = getattr(rows, m)
    sums = {m: float(cols[m][:, warmup:].sum()) for m in METRICS[:5]}
    return {**sums, "ctr": sums["clicks"] / sums["impressions"], "roas": sums["value"] / sums["cost"],
            "profit": sums["value"] - sums["cost"], "applied": dict(applied), "refused": dict(refused),
            "cycle_ms": 1000 * cycle_s / max(weeks * 7 * 24, 1)}


def ablation(seeds: list[int], args: argparse.Namespace,
             policy: OptimisationPolicy) -> dict[str, dict[str, float]]:
    """Mean CTR and ROAS uplift with one rule enabled at a time."""
    out: dict[str, dict[str, float]] = {}
    offs = {s: run_arm(s, args.campaigns, args.warmup_days, args.weeks, False, policy,
                           args.target_roas) for s in seeds}
    for rule in ("bid", "budget", "fatigue", "daypart"):
        alone = replace(policy, rules=frozenset({rule}))
        ons = [run_arm(s, args.campaigns, args.warmup_days, args.weeks, True, alone,
                       args.target_roas) for s in seeds]
        out[rule] = {
            "ctr_uplift_mean": round(float(np.mean([on["ctr"] / offs[s]["ctr"] - 1
                                                    for s, on in zip(seeds, ons, strict=True)])), 4),
            "roas_uplift_mean": round(float(np.mean([on["roas"] / offs[s]["roas"] - 1
                                                     for s, on in zip(seeds, ons, strict=True)])), 4),
            "profit_uplift_mean": round(float(np.mean([on["profit"] / offs[s]["profit"] - 1
                                                       for s, on in zip(seeds, ons, strict=True)])), 4)}
        print(f"{rule:>8} alone: CTR {out[rule]['ctr_uplift_mean']:+.1%}, "
              f"ROAS {out[rule]['roas_uplift_mean']:+.1%}, profit {out[rule]['profit_uplift_mean']:+.1%}")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--campaigns", type=int, default=12)
    parser.add_argument("--warmup-days", type=int, default=35)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--target-roas", type=float, default=TARGET_ROAS)
    parser.add_argument("--scheduled-refresh-days", type=int, default=28,
                        help="a second comparator: no optimisation, creatives refreshed at this age")
    parser.add_argument("--ablation", action="store_true",
                        help="also run each rule alone, to see where the uplift comes from")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    policy = OptimisationPolicy()
    rows = []
    print(f"{'seed':>4} {'CTR off':>8} {'CTR on':>8} {'ΔCTR':>7} {'ROAS off':>8} {'ROAS on':>8} "
          f"{'ΔROAS':>7} {'Δprofit':>8} {'Δvalue':>7} {'Δcost':>7}")
    for seed in (int(s) for s in args.seeds.split(",")):
        off = run_arm(seed, args.campaigns, args.warmup_days, args.weeks, False, policy,
                      args.target_roas)
        on = run_arm(seed, args.campaigns, args.warmup_days, args.weeks, True, policy,
                     args.target_roas)
        scheduled = run_arm(seed, args.campaigns, args.warmup_days, args.weeks, False, policy,
                            args.target_roas, args.scheduled_refresh_days)
        row = {"seed": seed, "ctr_off": off["ctr"], "ctr_on": on["ctr"],
               "ctr_uplift": on["ctr"] / off["ctr"] - 1, "roas_off": off["roas"], "roas_on": on["roas"],
               "roas_uplift": on["roas"] / off["roas"] - 1,
               "profit_uplift": on["profit"] / off["profit"] - 1 if off["profit"] > 0 else None,
               "value_change": on["value"] / off["value"] - 1, "cost_change": on["cost"] / off["cost"] - 1,
               "ctr_uplift_vs_scheduled": on["ctr"] / scheduled["ctr"] - 1,
               "roas_uplift_vs_scheduled": on["roas"] / scheduled["roas"] - 1,
               "profit_uplift_vs_scheduled": on["profit"] / scheduled["profit"] - 1,
               "applied": on["applied"], "refused": on["refused"], "cycle_ms": on["cycle_ms"]}
        rows.append(row)
        profit = row["profit_uplift"]
        print(f"{seed:>4} {off['ctr']:>8.4%} {on['ctr']:>8.4%} {row['ctr_uplift']:>+7.1%} "
              f"{off['roas']:>8.3f} {on['roas']:>8.3f} {row['roas_uplift']:>+7.1%} "
              f"{profit if profit is None else f'{profit:+.1%}':>8} "
              f"{row['value_change']:>+7.1%} {row['cost_change']:>+7.1%}   against a "
              f"{args.scheduled_refresh_days}-day refresh: CTR {row['ctr_uplift_vs_scheduled']:+.1%}, "
              f"ROAS {row['roas_uplift_vs_scheduled']:+.1%}, profit {row['profit_uplift_vs_scheduled']:+.1%}")
    ctr = np.array([r["ctr_uplift"] for r in rows])
    roas = np.array([r["roas_uplift"] for r in rows])
    summary = {
        "seeds": len(rows), "campaigns_per_seed": args.campaigns, "weeks": args.weeks,
        "warmup_days": args.warmup_days, "cycle_every_hours": 1, "target_roas": args.target_roas,
        "ctr_uplift_mean": round(float(ctr.mean()), 4), "ctr_uplift_min": round(float(ctr.min()), 4),
        "ctr_uplift_max": round(float(ctr.max()), 4),
        "roas_uplift_mean": round(float(roas.mean()), 4), "roas_uplift_min": round(float(roas.min()), 4),
        "roas_uplift_max": round(float(roas.max()), 4),
        "profit_uplift_mean": round(float(np.mean([r["profit_uplift"] or 0.0 for r in rows])), 4),
        "value_change_mean": round(float(np.mean([r["value_change"] for r in rows])), 4),
        "cost_change_mean": round(float(np.mean([r["cost_change"] for r in rows])), 4),
        "applied": dict(sum((Counter(r["applied"]) for r in rows), Counter())),
        "refused": dict(sum((Counter(r["refused"]) for r in rows), Counter())),
        "cycle_ms_mean": round(float(np.mean([r["cycle_ms"] for r in rows])), 2),
        "scheduled_refresh_days": args.scheduled_refresh_days,
        **{f"{k}_vs_scheduled_refresh_mean":
           round(float(np.mean([r[f"{k}_uplift_vs_scheduled"] for r in rows])), 4)
           for k in ("ctr", "roas", "profit")},
        "per_seed": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                      if k not in ("applied", "refused")} for r in rows],
        "claimed_by_replaced_system": {"ctr_uplift": 0.25},
        "command": "python -m benchmarks.optimisation_uplift" + (" --ablation" if args.ablation else "")
                   + (f" --target-roas {args.target_roas:g}" if args.target_roas != TARGET_ROAS else ""),
    }
    print(f"mean CTR uplift {summary['ctr_uplift_mean']:+.1%} (min {summary['ctr_uplift_min']:+.1%}, "
          f"max {summary['ctr_uplift_max']:+.1%}); mean ROAS uplift {summary['roas_uplift_mean']:+.1%} "
          f"(min {summary['roas_uplift_min']:+.1%}, max {summary['roas_uplift_max']:+.1%})")
    print(f"against a {args.scheduled_refresh_days}-day creative refresh without optimisation: CTR "
          f"{summary['ctr_vs_scheduled_refresh_mean']:+.1%}, "
          f"ROAS {summary['roas_vs_scheduled_refresh_mean']:+.1%}, "
          f"profit {summary['profit_vs_scheduled_refresh_mean']:+.1%}")
    print("applied:", summary["applied"])
    print("refused:", summary["refused"])
    if args.ablation:
        summary["by_rule_alone"] = ablation([int(s) for s in args.seeds.split(",")], args, policy)
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("quality", {})["optimisation"] = summary
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
