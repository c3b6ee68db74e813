"""The worsening-mood conversations (LABELS.md ``negative_trend``) of the development sets that
escalation misses or catches after the labelled message, classified by why the learnt rule
(``outburst.sinking``) did not fire at the labelled message: by the rule's own conditions and
the shape of the message, never by its words.

Invariants: the conversations are replayed through the code the worker runs
(``discontent_fit.cases`` with the policy given); a conversation caught at or before its
labelled message is not listed; the class is the first of the rule's conditions that fails
at the labelled message, in the rule's order:
- ``before_rule``: labelled before the ``discontent_min_messages``-th customer message;
- ``turn_read_low``: the labelled message reads below ``discontent_level`` (its shape:
  ``curt``, three words or fewer; ``long``, two sentences or more and at least
  ``LONG_CHARS`` characters, where a calm start can hide a bitter end; else ``short``);
- ``previous_read_low``: it reads at the level, the customer's message before it does not
  (with ``discontent_sustain`` 2);
- ``baseline_high``: both read at the level, but the customer started low already (the rise
  over the lowest before them is short of ``discontent_rise``);
- ``other``: the rule's arithmetic fires there, yet the replay did not (a window reset).

``python -m streams.evaluation.mood_misses`` prints the counts and every conversation.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.evaluation import guide_sets
from streams.evaluation.discontent_fit import Case, cases

LONG_CHARS: Final = 100
_SENTENCE_END: Final = re.compile(r"[.!?…]+(?:\s+|$)")


def shape(text: str) -> str:
    """``curt``, ``long`` or ``short`` (see the module's invariants)."""
    if len(text.split()) <= 3:
        return "curt"
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return "long" if len(sentences) >= 2 and len(text) >= LONG_CHARS else "short"


def classify(case: Case, policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """Why the rule did not fire at ``case``'s labelled message (the module's classes)."""
    turns = [turn for turn, _ in case.discontent]
    scores = dict(case.discontent)
    k = turns.index(case.label_turn) if case.label_turn in scores else -1
    if k + 1 < policy.discontent_min_messages:
        return "before_rule"
    now = scores[turns[k]]
    if now < policy.discontent_level:
        return "turn_read_low"
    previous = scores[turns[k - 1]]
    sustained = policy.discontent_sustain >= 2
    if sustained and previous < policy.discontent_level:
        return "previous_read_low"
    earlier = [scores[t] for t in turns[:k - 1 if sustained else k]]
    if not earlier or now - min(earlier) < policy.discontent_rise:
        return "baseline_high"
    return "other"


def missed(group: Sequence[Case], reason: str = "negative_trend") -> list[Case]:
    """The conversations labelled ``reason`` (by default the worsening moods) not escalated
    at or before their labelled message."""
    return [c for c in group if c.reason == reason and c.label_turn is not None
            and (c.without_rule is None or c.without_rule > c.label_turn)]


def conversations(names: Sequence[str]) -> dict[tuple[str, str], guide_sets.GuideConversation]:
    """The conversations of the sets ``names`` by (set, id)."""
    return {(name, c.id): c for name in names
            for c in guide_sets.load_conversations(name=f"{name}_conversations.yaml")}


def report(names: Sequence[str] = guide_sets.DEV_SETS,
           policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Counts by class, by set and by shape of the under-read turns, and every conversation
    with its class and readings."""
    texts = conversations(names)
    rows: list[dict[str, Any]] = []
    for case in missed(cases(names, policy)):
        kind = classify(case, policy)
        text = texts[case.set_name, case.id].turns[case.label_turn or 0][1]
        rows.append({"set": case.set_name, "id": case.id, "class": kind,
                     "shape": shape(text) if kind == "turn_read_low" else None,
                     "late": case.without_rule is not None,
                     "readings": [round(s, 2) for _, s in case.discontent],
                     "labelled_message": [t for t, _ in case.discontent].index(
                         case.label_turn) + 1 if case.label_turn is not None else None})
    shapes = Counter(r["shape"] for r in rows if r["shape"] is not None)
    return tally(rows, turn_read_low_by_shape=dict(shapes.most_common()))


def tally(rows: Sequence[Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
    """A misses report from its rows (each with ``set``, ``class`` and ``late``): counts by
    class and by set, ``extra`` counts after the classes, then the rows themselves."""
    by_set: dict[str, Counter[str]] = {}
    for r in rows:
        by_set.setdefault(r["set"], Counter())[r["class"]] += 1
    return {"missed_or_late": len(rows),
            "by_class": dict(Counter(r["class"] for r in rows).most_common()),
            **extra,
            "late": sum(r["late"] for r in rows),
            "by_set": {k: dict(v) for k, v in by_set.items()},
            "conversations": list(rows)}


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(description="Classify the worsening moods escalation misses."
                            ).parse_args(argv)
    print(json.dumps(report(), indent=1))


if __name__ == "__main__":
    main()


__all__ = ["classify", "conversations", "missed", "report", "shape", "tally"]
