"""Where the wrong conversation intents and teams of the development sets come from: the
choice among the customer's messages (aggregation), the team read from an intent (routing),
or no customer message read right at all (the message model).

Invariants: everything is replayed through the code the worker runs (``guide_sets``): each
conversation as a whole, and each of its customer messages alone as a conversation of one
message (what the message says by itself: its intent, confidence and team). Classes:
- a wrong conversation intent is ``aggregation`` when some customer message alone reads the
  labelled intent, else ``model``;
- a wrong conversation team is ``routing`` when the conversation's intent is right,
  ``aggregation`` when it is not and some customer message alone goes to the labelled
  team, else ``model``;
- a wrong team of a single message is ``routing`` when its intent is right, else ``intent``.
An aggregation miss also says which message set the conversation's intent (the first whose
own reading is the conversation's intent) against the first that reads the label, and why
(``why``): ``earlier_settled`` (an earlier message read another task at least
``intent_confidence`` sure), ``earlier_held`` (an earlier, unsure message was never beaten),
``later_replaced`` (a later message took over from the right one), ``escalation_kept`` (the
conversation escalated before the right message and keeps the intent it was routed by).

``python -m streams.evaluation.conversation_misses`` prints the counts and every miss
(``--before``: with the aggregation and routing before ``BEFORE``; ``--left-out``: each set
scored with the switches of the aggregation and routing, ``SWITCHES``, that get the most
intents and teams right on the other sets).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.evaluation import guide_sets

#: the aggregation and routing before a security incident superseded the opening question
#: and before a later message's topic was read in its words only (``--before``)
BEFORE: Final = replace(DEFAULT_POLICY, security_supersedes=False, later_topic_scores=True,
                        later_topic_by_conversation=())


@dataclass(frozen=True)
class Reading:
    """One customer message read alone."""

    intent: str | None
    confidence: float
    team: str


@dataclass(frozen=True)
class Outcome:
    """One conversation: its labels, what the replay decided, each customer message read
    alone, and the customer message (its index among them) it escalated at, if it did."""

    set_name: str
    id: str
    intent: str
    team: str
    got_intent: str | None
    got_confidence: float | None
    got_team: str
    readings: tuple[Reading, ...]
    escalated_at: int | None = None


def intent_class(o: Outcome) -> str | None:
    """None when the intent is right, else ``aggregation`` or ``model``."""
    if o.got_intent == o.intent:
        return None
    return "aggregation" if any(r.intent == o.intent for r in o.readings) else "model"


def team_class(o: Outcome) -> str | None:
    """None when the team is right, else ``routing``, ``aggregation`` or ``model``."""
    if o.got_team == o.team:
        return None
    if o.got_intent == o.intent:
        return "routing"
    return "aggregation" if any(r.team == o.team for r in o.readings) else "model"


def why(o: Outcome, policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any] | None:
    """For an aggregation miss of the intent: the message that set it, the first that reads
    the label (1-based) and the reason (the module's ``why`` classes); else None."""
    if intent_class(o) != "aggregation":
        return None
    right = next(k for k, r in enumerate(o.readings) if r.intent == o.intent)
    chosen = next((k for k, r in enumerate(o.readings) if r.intent == o.got_intent
                   and r.confidence == o.got_confidence), None)
    if o.escalated_at is not None and o.escalated_at < right and (
            chosen is None or chosen <= o.escalated_at):
        kind = "escalation_kept"
    elif chosen is not None and chosen > right:
        kind = "later_replaced"
    elif chosen is not None and o.readings[chosen].confidence >= policy.intent_confidence:
        kind = "earlier_settled"
    else:
        kind = "earlier_held"
    return {"set_by": None if chosen is None else chosen + 1, "label_read_at": right + 1,
            "why": kind}


def outcomes(name: str, policy: EscalationPolicy = DEFAULT_POLICY) -> list[Outcome]:
    """The conversations of ``<name>_conversations.yaml`` (``guide``: the guide's own)."""
    file = "conversations.yaml" if name == "guide" else f"{name}_conversations.yaml"
    conversations = guide_sets.load_conversations(name=file)
    events: list[dict[str, Any]] = []
    alone: list[dict[str, Any]] = []
    for c in conversations:
        events.extend(guide_sets._events(c.id, c.language, c.value, c.turns))
        for k, (role, text) in enumerate(t for t in c.turns if t[0] == "CUSTOMER"):
            alone.extend(guide_sets._events(f"{c.id}~{k}", c.language, c.value,
                                            [(role, text)]))
    whole, single = guide_sets._run(events, policy), guide_sets._run(alone, policy)
    out: list[Outcome] = []
    for c in conversations:
        row = whole[c.id]
        customer = [i for i, (role, _) in enumerate(c.turns) if role == "CUSTOMER"]
        readings = []
        for k in range(len(customer)):
            one = single[f"{c.id}~{k}"]
            readings.append(Reading(one["intent"], float(one["intent_confidence"] or 0.0),
                                    one["team"]))
        at = None
        if row["escalations"]:
            turn = int(row["escalations"][0]["event_id"].rsplit("/", 1)[1])
            # the last customer message at or before the turn (a bot turn can trigger it)
            at = max(sum(i <= turn for i in customer) - 1, 0)
        out.append(Outcome(name, c.id, c.intent, c.team, row["intent"],
                           row["intent_confidence"], row["team"], tuple(readings), at))
    return out


def message_team_misses(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The single messages among ``errors`` (``guide_sets.message_report``'s) whose team is
    wrong: ``routing`` (right intent) or ``intent``, the routing ones by (intent, team -> got
    team), the others by their confusion."""
    wrong = [e for e in errors if e["team"] != e["got_team"]]
    routing = [e for e in wrong if e["intent"] == e["got"]]
    return {"team_wrong": len(wrong), "routing": len(routing),
            "intent": len(wrong) - len(routing),
            "routing_by_intent": dict(Counter(
                f"{e['intent']}: {e['team']}->{e['got_team']}" for e in routing).most_common()),
            "intent_wrong_team_by_confusion": dict(Counter(
                f"{e['intent']}->{e['got']}" for e in wrong if e["intent"] != e["got"]
            ).most_common(10))}


def report(names: Sequence[str] = guide_sets.DEV_SETS,
           policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Counts by class over ``names`` and per set, and every conversation miss."""
    rows: list[dict[str, Any]] = []
    per_set: dict[str, dict[str, Any]] = {}
    messages: dict[str, dict[str, Any]] = {}
    for name in names:
        found = outcomes(name, policy)
        per_set[name] = {
            "conversations": len(found),
            "intent_wrong": dict(Counter(k for o in found if (k := intent_class(o)))),
            "team_wrong": dict(Counter(k for o in found if (k := team_class(o))))}
        for o in found:
            if intent_class(o) is None and team_class(o) is None:
                continue
            rows.append({"set": name, "id": o.id, "intent": o.intent, "got_intent": o.got_intent,
                         "team": o.team, "got_team": o.got_team,
                         "intent_class": intent_class(o), "team_class": team_class(o),
                         "aggregation": why(o, policy), "escalated_at": (
                             None if o.escalated_at is None else o.escalated_at + 1),
                         "readings": [[r.intent, round(r.confidence, 2), r.team]
                                      for r in o.readings]})
        if name != "guide":
            messages[name] = message_team_misses(guide_sets.message_report(
                guide_sets.load_fresh(name=f"{name}.yaml"))["errors"])
    totals = {
        "intent_wrong": dict(Counter(r["intent_class"] for r in rows if r["intent_class"])),
        "team_wrong": dict(Counter(r["team_class"] for r in rows if r["team_class"])),
        "aggregation_why": dict(Counter(r["aggregation"]["why"] for r in rows
                                        if r["aggregation"])),
        "routing_by_intent": dict(Counter(f"{r['intent']}: {r['team']}->{r['got_team']}"
                                          for r in rows if r["team_class"] == "routing")),
        "message_team_wrong": {k: sum(m[k] for m in messages.values())
                               for k in ("team_wrong", "routing", "intent")},
        "message_routing_by_intent": dict(sum(
            (Counter(m["routing_by_intent"]) for m in messages.values()), Counter()
        ).most_common())}
    return {"totals": totals, "by_set": per_set, "messages_by_set": messages,
            "conversations": rows}


#: the switches of the aggregation and routing, each as it was first (``left_out``)
SWITCHES: Final[dict[str, tuple[Any, Any]]] = {
    "security_supersedes": (False, True), "later_topic_scores": (True, False),
    "later_topic_by_conversation": ((), ("account",))}


def right_by_set(names: Sequence[str], policy: EscalationPolicy) -> dict[str, tuple[int, int]]:
    """Conversations of each set whose intent, and whose team, ``policy`` gets right."""
    conversations = {n: guide_sets.load_conversations(name=f"{n}_conversations.yaml")
                     for n in names}
    set_of = {c.id: n for n, group in conversations.items() for c in group}
    details = guide_sets.conversation_report(
        [c for group in conversations.values() for c in group], policy)["details"]
    out = dict.fromkeys(names, (0, 0))
    for d in details:
        intent, team = out[set_of[d["id"]]]
        out[set_of[d["id"]]] = (intent + (d["got_intent"] == d["intent"]),
                                team + (d["got_team"] == d["team"]))
    return out


def left_out(names: Sequence[str] = guide_sets.DEV_SETS) -> dict[str, Any]:
    """Each set scored with the switches (``SWITCHES``) that get the most intents and teams
    right on the other sets, ties going to the earliest combination (the one before first)."""
    combos = [dict(zip(SWITCHES, values, strict=True))
              for values in itertools.product(*SWITCHES.values())]
    scores = [right_by_set(names, replace(DEFAULT_POLICY, **combo)) for combo in combos]
    rows: dict[str, Any] = {}
    for held in names:
        gain = [sum(sum(s[n]) for n in names if n != held) for s in scores]
        best = gain.index(max(gain))
        rows[held] = {"chosen": combos[best], "before": scores[0][held],
                      "left_out": scores[best][held]}
    return {"sets": rows, "total_before": [sum(r["before"][i] for r in rows.values())
                                           for i in (0, 1)],
            "total_left_out": [sum(r["left_out"][i] for r in rows.values()) for i in (0, 1)]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Where the wrong conversation intents and teams come from.")
    parser.add_argument("sets", nargs="*", default=list(guide_sets.DEV_SETS),
                        help="development sets (default: all; 'guide': the guide's own)")
    parser.add_argument("--before", action="store_true",
                        help="with the aggregation and routing before (BEFORE)")
    parser.add_argument("--left-out", action="store_true",
                        help="each set scored with the switches chosen on the others")
    args = parser.parse_args(argv)
    out = (left_out(args.sets) if args.left_out
           else report(args.sets, BEFORE if args.before else DEFAULT_POLICY))
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()


__all__ = ["BEFORE", "SWITCHES", "Outcome", "Reading", "intent_class", "left_out",
           "message_team_misses", "outcomes", "report", "right_by_set", "team_class", "why"]
