"""Thresholds of the learnt worsening-mood rule (``outburst.sinking``) fitted by leaving one
development set out.

Invariants: the conversations are replayed once through the code the worker runs with the
rule off (``discontent_level`` above 1), which gives every conversation's first escalation
without it; the rule only adds escalations, and a conversation escalates once per episode,
so with the rule on its first escalation is the earlier of that one and the first customer
message the rule fires on (``first_firing``, the same arithmetic as ``outburst.sinking``
over the window's customer messages; these sets hand no conversation back from a person, so
the window is the whole conversation). Each development set is scored with the thresholds
chosen on the others: the most new escalations at the labelled message (an escalation on a
bot turn after the customer message before it counts as at it, as in ``guide_sets``), a new
false alarm counting ``FALSE_ALARM_COST`` of them, and an escalation before the labelled
message counted as a false alarm too (``early``: LABELS.md calls it one, and the customer
who had not yet sunk is handed over), and no set whose precision is at least
``PRECISION_FLOOR`` falling below it. Ties go to the strictest thresholds. Thresholds that
lower the escalation precision on the traffic simulator's conversations (``simulated``,
replayed without the rule the same way) are not candidates: the development sets are small,
and a rule whose single readings fire on plain turns there ("Where is that setting exactly? I
don't see it.") gains on them by chance.

``python -m streams.evaluation.discontent_fit`` prints the rotations and the thresholds
chosen on every set (``--no-simulator``: without the simulator's check).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from streams.conversation import escalation
from streams.evaluation import guide_sets
from streams.evaluation.simulated import Simulation, simulate
from streams.text import discontent

FALSE_ALARM_COST: Final = 3
PRECISION_FLOOR: Final = 0.85
MIN_MESSAGES: Final = (2, 3, 4)
LEVELS: Final = tuple(round(0.4 + 0.05 * i, 2) for i in range(12))  # 0.4 .. 0.95
RISES: Final = tuple(round(0.1 + 0.1 * i, 1) for i in range(7))  # 0.1 .. 0.7
SUSTAIN: Final = (1, 2)
Params = tuple[int, float, float, int]
OFF: Final = replace(escalation.DEFAULT_POLICY, discontent_level=2.0)


@dataclass(frozen=True)
class Case:
    """One conversation: where it should escalate (turn index, None: never), where it did
    without the rule, the discontent of each customer turn (turn index, score), and the
    first turn at which an escalation counts as at the labelled message (the one after the
    customer message before it; None: the label's own turn or no label)."""

    set_name: str
    id: str
    label_turn: int | None
    reason: str | None
    without_rule: int | None
    discontent: tuple[tuple[int, float], ...]
    exact_from: int | None = None


def cases(names: Sequence[str], policy: escalation.EscalationPolicy = OFF) -> list[Case]:
    """The conversations of ``names`` (``<name>_conversations.yaml``) replayed with
    ``policy`` (by default without the rule), with the discontent of their customer
    turns."""
    out: list[Case] = []
    for name in names:
        file = "conversations.yaml" if name == "guide" else f"{name}_conversations.yaml"
        conversations = guide_sets.load_conversations(name=file)
        report = guide_sets.conversation_report(conversations, policy=policy)
        for c, d in zip(conversations, report["details"], strict=True):
            turns = [i for i, (role, _) in enumerate(c.turns) if role == "CUSTOMER"]
            scores = discontent.scores([c.turns[i][1] for i in turns])
            label = d["escalate_at_turn"]
            before = [i for i in turns if label is not None and i < label]
            out.append(Case(name, c.id, label, c.reason, d["escalated_at_turn"],
                            tuple(zip(turns, scores, strict=True)),
                            before[-1] + 1 if before else None))
    return out


def simulator_cases(sim: Simulation | None = None,
                    policy: escalation.EscalationPolicy = OFF) -> list[Case]:
    """The simulator's complete conversations cut before their hand-off (``simulated``),
    replayed with ``policy``: no labelled message (the simulator labels conversations, not
    messages), ``reason`` the simulator's cause (None: it needs no person), the position of
    the first escalation without the rule, and the discontent of the customer messages."""
    sim = simulate() if sim is None else sim
    keep = sim.before_handoff()
    _, escalations = sim.run(keep, policy)
    first: dict[str, int] = {}
    for e in escalations:
        first.setdefault(e.conversation_id, e.source_offset)
    turns = sim.customer_turns(keep)
    texts = [text for cid in sorted(sim.complete) for _, text in turns.get(cid, [])]
    scores = iter(discontent.scores(texts))
    return [Case("simulator", cid, None, sim.truths[cid].cause, first.get(cid),
                 tuple((at, next(scores)) for at, _ in turns.get(cid, [])))
            for cid in sorted(sim.complete)]


def simulator_precision(group: Sequence[Case], params: Params | None) -> float:
    """Escalation precision over ``simulator_cases`` with the rule at ``params`` (None:
    without it): a conversation with a cause escalated before its hand-off is a catch."""
    caught = flagged = 0
    for case in group:
        if case.without_rule is not None or (
                params is not None and first_firing(case, params) is not None):
            flagged += 1
            caught += case.reason is not None
    return caught / flagged if flagged else 0.0


def grid() -> list[Params]:
    """Every candidate, strictest first (ties keep the strictest thresholds)."""
    return list(itertools.product(sorted(MIN_MESSAGES, reverse=True),
                                  sorted(LEVELS, reverse=True), sorted(RISES, reverse=True),
                                  sorted(SUSTAIN, reverse=True)))


def admissible(simulator: Sequence[Case]) -> set[Params]:
    """The candidates that keep the simulator's escalation precision."""
    floor = simulator_precision(simulator, None)
    return {p for p in grid() if simulator_precision(simulator, p) >= floor}


def first_firing(case: Case, params: Params) -> int | None:
    """The turn of the first customer message the rule fires on, as ``outburst.sinking``
    with ``params`` (minimum messages, level, rise, sustain)."""
    min_messages, level, rise, sustain = params
    previous: float | None = None
    floor: float | None = None
    for count, (turn, now) in enumerate(case.discontent, start=1):
        if count >= min_messages and previous is not None:
            if sustain >= 2:
                low, start = min(now, previous), floor
            else:
                low, start = now, previous if floor is None else min(floor, previous)
            if start is not None and low >= level and now - start >= rise:
                return turn
        if previous is not None:
            floor = previous if floor is None else min(floor, previous)
        previous = now
    return None


def score(group: Sequence[Case], params: Params | None) -> dict[str, Any]:
    """Caught, on time, early (before the labelled message), false alarms, precision and
    recall of ``group`` with the rule at ``params`` (None: without it), and the misses by
    reason."""
    caught = on_time = early = false_alarm = positives = 0
    missed: dict[str, int] = {}
    for case in group:
        at = case.without_rule
        if params is not None:
            fired = first_firing(case, params)
            if fired is not None and (at is None or fired < at):
                at = fired
        if case.label_turn is None:
            false_alarm += at is not None
            continue
        positives += 1
        if at is None:
            missed[case.reason or "?"] = missed.get(case.reason or "?", 0) + 1
        else:
            caught += 1
            on_time += at <= case.label_turn
            early += case.exact_from is not None and at < case.exact_from
    flagged = caught + false_alarm
    return {"caught": caught, "on_time": on_time, "early": early,
            "false_alarms": false_alarm,
            "positives": positives,
            "precision": round(caught / flagged, 4) if flagged else 0.0,
            "recall": round(caught / positives, 4) if positives else 0.0, "missed": missed}


def choose(train: Sequence[Case], early_weight: float = 1.0,
           allowed: Collection[Params] | None = None) -> Params | None:
    """The thresholds of ``allowed`` (None: every candidate) that gain most on ``train`` (see
    the module's invariants), or None when none gains; ``early_weight`` 0 scores an early
    escalation as a catch on time (the fit before early ones were counted), 1 as a false
    alarm."""
    sets = sorted({c.set_name for c in train})
    base = {s: score([c for c in train if c.set_name == s], None) for s in sets}
    best: tuple[float, Params | None] = (0.0, None)
    for params in grid():
        if allowed is not None and params not in allowed:
            continue
        gain = 0.0
        for s in sets:
            now = score([c for c in train if c.set_name == s], params)
            if base[s]["precision"] >= PRECISION_FLOOR and now["precision"] < PRECISION_FLOOR:
                gain = float("-inf")
                break
            early = early_weight * (now["early"] - base[s]["early"])
            gain += (now["on_time"] - base[s]["on_time"] - early) - FALSE_ALARM_COST * (
                now["false_alarms"] - base[s]["false_alarms"] + early)
        if gain > best[0]:
            best = (gain, params)
    return best[1]


def rotations(all_cases: Sequence[Case], names: Sequence[str],
              early_weight: float = 1.0, allowed: Collection[Params] | None = None
              ) -> dict[str, Any]:
    """Each set scored with the thresholds chosen on the others, and the choice on all."""
    out: dict[str, Any] = {}
    for held in names:
        params = choose([c for c in all_cases if c.set_name != held], early_weight, allowed)
        group = [c for c in all_cases if c.set_name == held]
        out[held] = {"chosen_without_it": params, "before": score(group, None),
                     "after": score(group, params)}
    out["chosen_on_all"] = choose(all_cases, early_weight, allowed)
    keys = ("caught", "on_time", "early", "false_alarms", "positives")
    out["sum_over_rotations"] = {k: sum(out[n]["after"][k] for n in names) for k in keys}
    out["sum_before"] = {k: sum(out[n]["before"][k] for n in names) for k in keys}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fit the learnt worsening-mood rule.")
    parser.add_argument("--early-weight", type=float, default=1.0,
                        help="an escalation before the labelled message: 1 a false alarm "
                             "(LABELS.md), 0 a catch on time")
    parser.add_argument("--no-simulator", action="store_true",
                        help="let thresholds that lower the simulator's precision compete")
    args = parser.parse_args(argv)
    names = guide_sets.DEV_SETS
    all_cases = cases(names)
    allowed = None if args.no_simulator else admissible(simulator_cases())
    out = rotations(all_cases, names, args.early_weight, allowed)
    if allowed is not None:
        out["simulator_admissible"] = f"{len(allowed)} of {len(grid())}"
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
