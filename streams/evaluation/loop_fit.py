"""The cosine of the bot's answers' character n-grams at which a rephrased answer is a repeat
(``EscalationPolicy.bot_echo_cosine``, read by ``loops.echoes`` after the customer said or
showed that the previous answer did not help), fitted by leaving one development set out.

Invariants: every candidate replays the development sets through the code the worker runs
(``discontent_fit.cases`` with the default policy but the cosine), so its effect on every
rule is in the figures; the scoring, the gain and the choice are ``unhelped_fit``'s (the most
new escalations at the labelled message, a new false alarm or an escalation before the
labelled message costing ``FALSE_ALARM_COST`` of them, no set whose precision is at least
``PRECISION_FLOOR`` falling below it, ties to the strictest cosine, off unless one gains).
A cosine that lowers the escalation precision on the traffic simulator's conversations
(``discontent_fit.simulator_cases``, the worker's code with that cosine) is no candidate: the
development sets are small. The guide's own conversations are scored at every cosine as a
check, never fitted on.

``python -m streams.evaluation.loop_fit`` prints the simulator's precision at every cosine,
the rotations and the cosine chosen on every set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from streams.conversation import escalation
from streams.evaluation import guide_sets, unhelped_fit
from streams.evaluation.discontent_fit import Case, cases, score, simulator_cases, simulator_precision
from streams.evaluation.simulated import Simulation, simulate

OFF: Final = unhelped_fit.OFF
COSINES: Final = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.3 .. 0.95


def policy_at(cosine: float) -> escalation.EscalationPolicy:
    """The default policy with the echo read at ``cosine`` (``OFF``: on words only)."""
    return replace(escalation.DEFAULT_POLICY, bot_echo_cosine=cosine)


def replays(names: Sequence[str], cosines: Sequence[float] = (OFF, *COSINES)
            ) -> dict[float, list[Case]]:
    """The sets ``names`` replayed at each cosine."""
    return {cosine: cases(names, policy_at(cosine)) for cosine in cosines}


def simulator_precisions(cosines: Sequence[float] = (OFF, *COSINES),
                         sim: Simulation | None = None) -> dict[float, float]:
    """The escalation precision on the simulator's conversations at each cosine."""
    sim = simulate() if sim is None else sim
    return {cosine: simulator_precision(simulator_cases(sim, policy_at(cosine)), None)
            for cosine in cosines}


def admissible(precisions: Mapping[float, float]) -> set[float]:
    """The cosines that keep the simulator's precision without the n-gram echo (and off)."""
    return {c for c, p in precisions.items() if p >= precisions[OFF]} | {OFF}


def fit(names: Sequence[str], runs: Mapping[float, Sequence[Case]],
        allowed: set[float]) -> dict[str, Any]:
    """The rotations over ``names`` among the ``allowed`` cosines (``unhelped_fit``)."""
    return unhelped_fit.rotations({c: runs[c] for c in runs if c in allowed}, names)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fit the n-gram cosine of a repeated answer.")
    parser.add_argument("--no-simulator", action="store_true",
                        help="let cosines that lower the simulator's precision compete")
    args = parser.parse_args(argv)
    names = guide_sets.DEV_SETS
    runs = replays(names)
    precisions = simulator_precisions()
    allowed = set(runs) if args.no_simulator else admissible(precisions)
    out = fit(names, runs, allowed)
    out["simulator_precision"] = {str(c): round(p, 4) for c, p in sorted(precisions.items())}
    out["simulator_admissible"] = sorted(allowed)
    guide = replays(["guide"], sorted(allowed))
    out["guide"] = {str(c): score(group, None) for c, group in sorted(guide.items())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()


__all__ = ["COSINES", "OFF", "admissible", "fit", "policy_at", "replays",
           "simulator_precisions"]
