"""Quality on the evaluation sets written from the label guide (``LABELS.md``) alone:
``schemas/models/eval/messages_<lang>.yaml`` (single messages in five languages and several
styles) and ``schemas/models/eval/conversations.yaml`` (multi-turn conversations with the
customer message that first calls for a person).

Invariants:
- no training code reads these files (a unit test checks that none of their texts is in a
  training set); they are for measuring only;
- everything is measured through the replay (``streams.ops.replay_conversations``), i.e. the
  code the worker runs: a single message is a conversation of one customer message (customer
  value 100: low tier), a conversation is replayed turn by turn with its customer value;
- an escalation is on time when its triggering event is at or before the labelled customer
  message (a bot message that triggers it counts at its position); escalating a conversation
  that should not be is a false alarm, whenever it happens.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.kernel.paths import MODEL_DATA_DIR
from streams.ops.replay_conversations import replay
from streams.training.metrics import classification_metrics

EVAL_DIR: Final = MODEL_DATA_DIR / "eval"
LANGUAGES: Final = ("en", "es", "fr", "de", "pt")
INTENTS: Final = ("billing", "technical_issue", "cancellation", "refund", "purchase_inquiry",
                  "pricing", "complaint", "account", "human_request", "other")
TEAMS: Final = ("billing", "technical", "sales", "retention", "general")
T0: Final = 1_767_225_600_000
SINGLE_VALUE: Final = 100


@dataclass(frozen=True)
class GuideMessage:
    text: str
    language: str
    intent: str
    team: str
    escalate: bool
    style: str


@dataclass(frozen=True)
class GuideConversation:
    id: str
    language: str
    value: float
    intent: str
    team: str
    escalate_at: int | None  # index of the customer message; None: no escalation
    reason: str | None
    turns: tuple[tuple[str, str], ...]  # (CUSTOMER | BOT, text)


def load_messages(directory: Path = EVAL_DIR) -> list[GuideMessage]:
    out: list[GuideMessage] = []
    for lang in LANGUAGES:
        raw = yaml.safe_load((directory / f"messages_{lang}.yaml").read_text("utf-8"))
        for intent, team, escalate, style, text in raw["messages"]:
            out.append(GuideMessage(str(text), lang, str(intent), str(team), bool(escalate),
                                    str(style)))
    return out


def load_fresh(directory: Path = EVAL_DIR, name: str = "fresh.yaml") -> list[GuideMessage]:
    """The messages written after a version of the escalation cues was frozen
    (``fresh.yaml``: the first, ``fresh2.yaml``: the second; ``fresh3.yaml``: written by
    another person from the guide alone, after the models of issue 14 were built)."""
    raw = yaml.safe_load((directory / name).read_text("utf-8"))
    return [GuideMessage(str(text), str(lang), str(intent), str(team), bool(escalate),
                         str(style))
            for lang, intent, team, escalate, style, text in raw["messages"]]


def parse_turns(turns: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Turns written ``"c: ..."`` (the customer) or ``"b: ..."`` (the bot), as (role, text)."""
    return tuple(("CUSTOMER" if t.startswith("c:") else "BOT", t[2:].strip()) for t in turns)


def plain_conversation(language: str, turns: Iterable[str], cid: str = "x",
                       value: float = 100.0) -> GuideConversation:
    """A conversation with no labels of its own (intent other, team general, no escalation),
    for replaying a few turns."""
    return GuideConversation(cid, language, value, "other", "general", None, None,
                             parse_turns(turns))


def load_conversations(directory: Path = EVAL_DIR, name: str = "conversations.yaml"
                       ) -> list[GuideConversation]:
    """The guide's conversations (``conversations.yaml``), or another set in the same form
    (``fresh3_conversations.yaml``)."""
    raw = yaml.safe_load((directory / name).read_text("utf-8"))
    out: list[GuideConversation] = []
    for c in raw["conversations"]:
        turns = parse_turns(c["turns"])
        out.append(GuideConversation(str(c["id"]), str(c["language"]), float(c["value"]),
                                     str(c["intent"]), str(c["team"]), c["escalate_at"],
                                     c.get("reason"), turns))
    return out


def _events(cid: str, language: str, value: float,
            turns: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    customer = {"customer_id": f"cus-{cid}"}
    events: list[dict[str, Any]] = [{
        "event_id": f"{cid}/start", "conversation_id": cid, "event_type": "STARTED",
        "occurred_at": T0, "channel": "WEB", "sender_role": "SYSTEM", "language": language,
        "customer": customer, "metadata": {"customer_value": str(value)}}]
    for i, (role, text) in enumerate(turns):
        events.append({
            "event_id": f"{cid}/{i}", "conversation_id": cid, "event_type": "MESSAGE",
            "occurred_at": T0 + (i + 1) * 20_000, "channel": "WEB", "sender_role": role,
            "sender_id": "bot-1" if role == "BOT" else None, "text": text,
            "language": language, "customer": customer, "metadata": {}})
    return events


def _run(events: list[dict[str, Any]], policy: EscalationPolicy = DEFAULT_POLICY
         ) -> dict[str, dict[str, Any]]:
    result = replay((json.dumps(e, ensure_ascii=False) for e in events), policy)
    if result.rejected:
        raise ValueError(f"evaluation events rejected: {result.rejected[:3]}")
    return {c["conversation_id"]: c for c in result.conversations}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _f1_block(truth: Sequence[str], predicted: Sequence[str],
              labels: Sequence[str]) -> dict[str, Any]:
    m = classification_metrics(truth, predicted, labels)
    return {"accuracy": round(m.accuracy, 4), "macro_f1": round(m.macro_f1, 4),
            "per_label_f1": {k: round(v, 4) for k, v in m.per_label_f1.items()},
            "labels": list(labels), "confusion": m.confusion, "support": m.support}


def _binary(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp,
            "fp": fp, "fn": fn, "positives": tp + fn, "total": len(truth)}


def reliability(confidences: Sequence[float], right: Sequence[bool], bins: int = 5
                ) -> dict[str, Any]:
    """Confidence of the predicted intent in ``bins`` equal-width bins against the share of
    right answers, and the expected calibration error."""
    rows: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (lo < c <= hi) or (b == 0 and c <= hi)]
        if not idx:
            continue
        conf = sum(confidences[i] for i in idx) / len(idx)
        acc = sum(right[i] for i in idx) / len(idx)
        ece += len(idx) / len(confidences) * abs(conf - acc)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "messages": len(idx),
                     "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"ece": round(ece, 4), "bins": rows}


def message_report(messages: Sequence[GuideMessage] | None = None) -> dict[str, Any]:
    """Intent (per language, with confusion), team, language and escalation of single
    messages."""
    messages = load_messages() if messages is None else messages
    events: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        events.extend(_events(f"m{i}", m.language, SINGLE_VALUE, [("CUSTOMER", m.text)]))
    got = _run(events)
    rows = [got[f"m{i}"] for i in range(len(messages))]
    intents = [r["messages"][0]["intent"] for r in rows]
    teams = [r["team"] for r in rows]
    escalated = [bool(r["escalations"]) for r in rows]
    langs = [r["messages"][0]["language"] for r in rows]
    by_language: dict[str, Any] = {}
    for lang in LANGUAGES:
        idx = [i for i, m in enumerate(messages) if m.language == lang]
        block = _f1_block([messages[i].intent for i in idx], [intents[i] for i in idx],
                          INTENTS)
        block["team_accuracy"] = _ratio(sum(teams[i] == messages[i].team for i in idx),
                                        len(idx))
        block["escalation"] = _binary([messages[i].escalate for i in idx],
                                      [escalated[i] for i in idx])
        by_language[lang] = block
    styles: dict[str, Any] = {}
    for style in sorted({m.style for m in messages}):
        idx = [i for i, m in enumerate(messages) if m.style == style]
        styles[style] = {"messages": len(idx), "intent_accuracy": _ratio(
            sum(intents[i] == messages[i].intent for i in idx), len(idx))}
    confusions = Counter((m.intent, p) for m, p in zip(messages, intents, strict=True)
                         if m.intent != p)
    plain = [i for i, m in enumerate(messages) if m.style != "mixed"]
    errors = [{"text": m.text, "language": m.language, "intent": m.intent, "got": p,
               "team": m.team, "got_team": t, "escalate": m.escalate, "escalated": e}
              for m, p, t, e in zip(messages, intents, teams, escalated, strict=True)
              if p != m.intent or t != m.team or e != m.escalate]
    return {
        "messages": len(messages),
        "intent": _f1_block([m.intent for m in messages], intents, INTENTS),
        "intent_by_language": by_language,
        "intent_by_style": styles,
        "most_frequent_confusions": [f"{t}->{p}: {n}" for (t, p), n in
                                     confusions.most_common(8)],
        "team": _f1_block([m.team for m in messages], teams, TEAMS),
        "intent_reliability": reliability(
            [float(r["messages"][0]["intent_confidence"]) for r in rows],
            [p == m.intent for p, m in zip(intents, messages, strict=True)]),
        "escalation": _binary([m.escalate for m in messages], escalated),
        "language_accuracy_single_language_messages": _ratio(
            sum(langs[i] == messages[i].language for i in plain), len(plain)),
        "errors": errors,
    }


def conversation_report(conversations: Sequence[GuideConversation] | None = None,
                        policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Intent, team and escalation (caught, on time, false alarms) of conversations."""
    conversations = load_conversations() if conversations is None else conversations
    events: list[dict[str, Any]] = []
    for c in conversations:
        events.extend(_events(c.id, c.language, c.value, c.turns))
    got = _run(events, policy)
    caught = on_time = exact = false_alarm = 0
    missed: Counter[str] = Counter()
    positives: Counter[str] = Counter()
    details: list[dict[str, Any]] = []
    for c in conversations:
        row = got[c.id]
        customer_positions = [i for i, (role, _) in enumerate(c.turns) if role == "CUSTOMER"]
        first = row["escalations"][0] if row["escalations"] else None
        at = int(first["event_id"].rsplit("/", 1)[1]) if first else None
        if c.escalate_at is None:
            false_alarm += first is not None
        else:
            label = customer_positions[c.escalate_at]
            positives[c.reason or "?"] += 1
            if at is None:
                missed[c.reason or "?"] += 1
            else:
                caught += 1
                on_time += at <= label
                exact += at == label or (at < label and c.turns[at][0] == "BOT"
                                         and all(r == "BOT" for r, _ in c.turns[at:label]))
        details.append({"id": c.id, "intent": c.intent, "got_intent": row["intent"],
                        "team": c.team, "got_team": row["team"],
                        "escalate_at_turn": (customer_positions[c.escalate_at]
                                             if c.escalate_at is not None else None),
                        "escalated_at_turn": at,
                        "reasons": first["reasons"] if first else None})
    n_pos = sum(positives.values())
    flagged = caught + false_alarm
    by_language: dict[str, Any] = {}
    for lang in LANGUAGES:
        idx = [i for i, c in enumerate(conversations) if c.language == lang]
        by_language[lang] = {
            "conversations": len(idx),
            "intent_accuracy": _ratio(sum(details[i]["got_intent"] == conversations[i].intent
                                          for i in idx), len(idx)),
            "team_accuracy": _ratio(sum(details[i]["got_team"] == conversations[i].team
                                        for i in idx), len(idx))}
    return {
        "conversations": len(conversations),
        "intent_accuracy": _ratio(sum(d["got_intent"] == d["intent"] for d in details),
                                  len(details)),
        "team_accuracy": _ratio(sum(d["got_team"] == d["team"] for d in details),
                                len(details)),
        "by_language": by_language,
        "escalation_precision": _ratio(caught, flagged),
        "escalation_recall": _ratio(caught, n_pos),
        "on_time_share_of_caught": _ratio(on_time, caught),
        "at_labelled_message_share_of_caught": _ratio(exact, caught),
        "false_alarms": false_alarm,
        "missed_by_reason": {r: f"{missed[r]} of {n}" for r, n in sorted(positives.items())},
        "details": details,
    }


#: Sets written from the guide alone by people who never saw the training data, each scored
#: once when it was new and a development set since (its failures read for their classes,
#: never copied): always in the report.
DEV_SETS: Final = ("fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9",
                    "fresh10", "fresh11", "fresh12", "fresh13",
                    "fresh14", "fresh15")


def report(held: str | None = None, directory: Path = EVAL_DIR) -> dict[str, Any]:
    """Every set's report; ``held`` names a held-out pair (``<held>.yaml`` and
    ``<held>_conversations.yaml`` in ``directory``) scored besides the development sets
    (``DEV_SETS``), which are always in."""
    full = {"messages": message_report(), "conversations": conversation_report(),
            "fresh": message_report(load_fresh()),
            "fresh2": message_report(load_fresh(name="fresh2.yaml"))}
    for name in DEV_SETS:
        full[name] = message_report(load_fresh(name=f"{name}.yaml"))
        full[f"{name}_conversations"] = conversation_report(
            load_conversations(name=f"{name}_conversations.yaml"))
    if held is not None and held not in DEV_SETS:
        full[held] = message_report(load_fresh(directory, f"{held}.yaml"))
        full[f"{held}_conversations"] = conversation_report(
            load_conversations(directory, f"{held}_conversations.yaml"))
    return full


def held_out(full: dict[str, Any], name: str = "fresh3") -> dict[str, Any]:
    """The headline figures of a set written from the guide alone by someone who never saw
    the training data, the models or their output (a development set of ``DEV_SETS``, or a
    new set scored once, when the code and data are final: ``--held-out NAME``)."""
    m, c = full[name], full[f"{name}_conversations"]
    return {
        "messages": m["messages"], "intent_accuracy": m["intent"]["accuracy"],
        "intent_macro_f1": m["intent"]["macro_f1"],
        "intent_macro_f1_by_language": {k: v["macro_f1"]
                                        for k, v in m["intent_by_language"].items()},
        "per_intent_f1": m["intent"]["per_label_f1"],
        "intent_by_style": {k: v["intent_accuracy"] for k, v in m["intent_by_style"].items()},
        "team_accuracy_messages": m["team"]["accuracy"],
        "escalation_messages": {k: m["escalation"][k] for k in ("precision", "recall")},
        "confusions": m["most_frequent_confusions"],
        "intent_reliability_ece": m["intent_reliability"]["ece"],
        "conversations": c["conversations"],
        "conversation_intent_accuracy": c["intent_accuracy"],
        "conversation_team_accuracy": c["team_accuracy"],
        "conversation_escalation": {k: c[k] for k in (
            "escalation_precision", "escalation_recall", "on_time_share_of_caught",
            "at_labelled_message_share_of_caught", "false_alarms", "missed_by_reason")},
    }


def summary(full: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of :func:`report`."""
    m, c = full["messages"], full["conversations"]
    return {
        "intent_macro_f1": m["intent"]["macro_f1"], "intent_accuracy": m["intent"]["accuracy"],
        "intent_macro_f1_by_language": {k: v["macro_f1"]
                                        for k, v in m["intent_by_language"].items()},
        "team_accuracy_messages": m["team"]["accuracy"],
        "escalation_messages": {k: m["escalation"][k] for k in ("precision", "recall")},
        "language_accuracy": m["language_accuracy_single_language_messages"],
        "conversation_intent_accuracy": c["intent_accuracy"],
        "conversation_team_accuracy": c["team_accuracy"],
        "conversation_escalation": {k: c[k] for k in (
            "escalation_precision", "escalation_recall", "on_time_share_of_caught",
            "at_labelled_message_share_of_caught", "false_alarms", "missed_by_reason")},
        "confusions": m["most_frequent_confusions"],
        "intent_reliability": m["intent_reliability"],
        "fresh_messages": {
            "messages": full["fresh"]["messages"],
            "intent_accuracy": full["fresh"]["intent"]["accuracy"],
            "team_accuracy": full["fresh"]["team"]["accuracy"],
            "escalation": {k: full["fresh"]["escalation"][k] for k in ("precision", "recall")}},
        "fresh2_messages": {
            "messages": full["fresh2"]["messages"],
            "intent_accuracy": full["fresh2"]["intent"]["accuracy"],
            "team_accuracy": full["fresh2"]["team"]["accuracy"],
            "escalation": {k: full["fresh2"]["escalation"][k] for k in ("precision", "recall")}},
    }


def _print_confusion(block: dict[str, Any]) -> None:
    labels = block["labels"]
    short = [label[:6] for label in labels]
    print("true\\pred".ljust(17) + " ".join(s.rjust(6) for s in short))
    for label, row in zip(labels, block["confusion"], strict=True):
        if sum(row):
            print(label[:16].ljust(17) + " ".join(str(v).rjust(6) for v in row))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Quality on the guide's evaluation sets.")
    parser.add_argument("--held-out", default=None, metavar="NAME",
                        help="also score schemas/models/eval/NAME.yaml and "
                             "NAME_conversations.yaml (a new set, once, at the end); the "
                             f"development sets ({', '.join(DEV_SETS)}) are always scored")
    args = parser.parse_args(argv)
    name = args.held_out
    full = report(name)
    blocks = {f"held_out_{dev}": held_out(full, dev) for dev in DEV_SETS}
    if name is not None and name not in DEV_SETS:
        blocks[f"held_out_{name}"] = held_out(full, name)
    print(json.dumps({**summary(full), **blocks}, indent=1, ensure_ascii=False))
    print("\nintent confusion, all languages:")
    _print_confusion(full["messages"]["intent"])
    print("\nteam confusion, single messages:")
    _print_confusion(full["messages"]["team"])
    for label in blocks:
        held = label.removeprefix("held_out_")
        print(f"\nintent confusion, {held} messages:")
        _print_confusion(full[held]["intent"])
        print(f"\nteam confusion, {held} messages:")
        _print_confusion(full[held]["team"])


if __name__ == "__main__":
    main()
