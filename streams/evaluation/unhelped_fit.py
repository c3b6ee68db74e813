"""The level of the learnt "not helped" signal (``EscalationPolicy.unhelped_level``, read in
``customer_turn``: a reply to a bot answer read at least this counts as the customer saying
it did not help, which the bot-loop rule counts) fitted by leaving one development set out.

Invariants: every candidate level replays the development sets through the code the worker
runs (``discontent_fit.cases`` with the default policy but the level), so the signal's effect
on every rule (a loop, a high-value customer's discontent) is in the figures; the scoring is
``discontent_fit.score`` and the gain ``discontent_fit``'s: the most new escalations at the
labelled message, a new false alarm counting ``FALSE_ALARM_COST`` of them, an escalation
before the labelled message counted as a false alarm too, and no set whose precision is at
least ``PRECISION_FLOOR`` falling below it. Each set is scored with the level chosen on the
others; ties go to the strictest level, and off (above 1) wins unless a level gains.

``python -m streams.evaluation.unhelped_fit`` prints the rotations and the level chosen on
every set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from streams.conversation import escalation
from streams.evaluation import guide_sets
from streams.evaluation.discontent_fit import (
    FALSE_ALARM_COST,
    PRECISION_FLOOR,
    Case,
    cases,
    score,
)

OFF: Final = 2.0
LEVELS: Final = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.5 .. 0.95
#: per level, the replayed conversations of every set
Replays = Mapping[float, Sequence[Case]]


def replays(names: Sequence[str], levels: Sequence[float] = (OFF, *LEVELS)) -> dict[float, list[Case]]:
    """The development sets replayed with the default policy at each level."""
    return {level: cases(names, replace(escalation.DEFAULT_POLICY, unhelped_level=level))
            for level in levels}


def per_set(runs: Replays, level: float, name: str) -> dict[str, Any]:
    return score([c for c in runs[level] if c.set_name == name], None)


def gain(runs: Replays, level: float, names: Sequence[str]) -> float:
    """The gain of ``level`` over off on the sets ``names`` (see the module's invariants)."""
    total = 0.0
    for name in names:
        base, now = per_set(runs, OFF, name), per_set(runs, level, name)
        if base["precision"] >= PRECISION_FLOOR and now["precision"] < PRECISION_FLOOR:
            return float("-inf")
        early = now["early"] - base["early"]
        total += (now["on_time"] - base["on_time"] - early) - FALSE_ALARM_COST * (
            now["false_alarms"] - base["false_alarms"] + early)
    return total


def choose(runs: Replays, names: Sequence[str]) -> float:
    """The level that gains most on ``names``, off when none gains."""
    best = (0.0, OFF)
    for level in sorted((lv for lv in runs if lv != OFF), reverse=True):  # strictest first
        g = gain(runs, level, names)
        if g > best[0]:
            best = (g, level)
    return best[1]


def rotations(runs: Replays, names: Sequence[str]) -> dict[str, Any]:
    """Each set scored with the level chosen on the others, the sum over sets, and the
    gain of every level and the choice on all."""
    out: dict[str, Any] = {}
    for held in names:
        level = choose(runs, [n for n in names if n != held])
        out[held] = {"chosen_without_it": level, "before": per_set(runs, OFF, held),
                     "after": per_set(runs, level, held)}
    out["gain_on_all"] = {str(lv): gain(runs, lv, names) for lv in sorted(runs) if lv != OFF}
    out["chosen_on_all"] = choose(runs, names)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(description='Fit the level of the learnt "not helped" signal.'
                            ).parse_args(argv)
    names = guide_sets.DEV_SETS
    print(json.dumps(rotations(replays(names), names), indent=1))


if __name__ == "__main__":
    main()
