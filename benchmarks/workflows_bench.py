"""Events per second through the workflow engine (the pure fold the stage runs), on one core.

Synthetic profile changes of 5,000 people (lead score, churn risk, value, lifecycle stage,
consent, opt-outs, quiet hours drawn at random, seed 7), folded with the six seed workflows in
event time, as the stage does per event: state looked up in a dict, decisions collected. The
best of three runs is kept (wall time, and the process's CPU time, which a busy shared machine
disturbs less); the figures merge into ``slices.workflows_compute`` of
``benchmarks/results/latest.json``.

Run: ``.venv/bin/python -m benchmarks.workflows_bench``.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from streams.workflows.definitions import load_dir
from streams.workflows.engine import State, WorkflowPolicy, fold
from streams.workflows.fields import PersonEvent, from_profile

RESULTS = Path(__file__).parent / "results" / "latest.json"
SLICE = "workflows_compute"
PEOPLE = 5_000
EVENTS = 100_000
T0 = 1_772_400_000_000  # 2026-03-01 21:20 UTC
STAGES = ("known", "lead", "mql", "sql", "customer", "at_risk")


def events(n: int = EVENTS, people: int = PEOPLE, seed: int = 7) -> list[PersonEvent]:
    rng = random.Random(seed)
    versions: Counter[int] = Counter()
    out: list[PersonEvent] = []
    for i in range(n):
        person = rng.randrange(people)
        versions[person] += 1
        attributes = {"timezone": rng.choice(("UTC", "Europe/Berlin", "America/New_York"))}
        if person % 3:
            attributes["consent_email"] = "true"
        if person % 4 == 0:
            attributes["consent_ads"] = "true"
        if person % 11 == 0:
            attributes["opt_out"] = "email"
        if person % 5 == 0:
            attributes["quiet_hours"] = "22-07"
        out.append(from_profile({
            "person_id": f"p{person}", "version": versions[person],
            "updated_at": T0 + i * 6_000,  # a week of traffic
            "attributes": attributes, "tags": [], "lifecycle_stage": rng.choice(STAGES),
            "scores": {"lead_score": rng.uniform(0, 100), "churn_risk": rng.uniform(0, 100),
                       "predicted_value": rng.uniform(0, 1000)},
            "revenue": {}, "conversions": 0, "touchpoints": 1,
        }))
    return out


def measure() -> dict[str, Any]:
    workflows = load_dir()
    policy = WorkflowPolicy()
    stream = events()
    best = best_cpu = float("inf")
    statuses: Counter[str] = Counter()
    for _ in range(3):
        states: dict[str, State] = {}
        statuses = Counter()
        start, start_cpu = time.perf_counter(), time.process_time()
        for one in stream:
            state, decisions = fold(states.get(one["subject"]), one, workflows, policy)
            states[one["subject"]] = state
            for decision in decisions:
                statuses[decision["status"]] += 1
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return {"events_per_s": round(len(stream) / best),
            "events_per_cpu_s": round(len(stream) / best_cpu), "events": len(stream),
            "people": PEOPLE, "workflows": len(workflows),
            "decisions": dict(sorted(statuses.items())),
            # the machine is shared: a high load lowers the figure
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def merge(slice_name: str, figures: dict[str, Any]) -> None:
    """Read-modify-write of latest.json that keeps every other key."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("slices", {})[slice_name] = figures
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    figures = measure()
    merge(SLICE, figures)
    print(json.dumps({SLICE: figures}, indent=2))


if __name__ == "__main__":
    main()
