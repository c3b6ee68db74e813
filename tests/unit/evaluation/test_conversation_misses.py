"""Where wrong conversation intents and teams come from: the choice among the customer's
messages, the routing of a right intent, or no message read right (the message model)."""

from __future__ import annotations

from streams.evaluation import conversation_misses as cm
from streams.evaluation import guide_sets

R = cm.Reading


def _o(intent: str, team: str, got: tuple[str, float, str], *readings: R,
       escalated_at: int | None = None) -> cm.Outcome:
    return cm.Outcome("s", "c", intent, team, got[0], got[1], got[2], readings, escalated_at)


def test_a_wrong_intent_is_the_aggregations_when_some_message_alone_reads_the_label() -> None:
    chosen = _o("account", "technical", ("billing", 0.8, "billing"),
                R("billing", 0.8, "billing"), R("account", 0.6, "technical"))
    assert cm.intent_class(chosen) == "aggregation"
    assert cm.team_class(chosen) == "aggregation"
    assert cm.why(chosen) == {"set_by": 1, "label_read_at": 2, "why": "earlier_settled"}
    never = _o("refund", "billing", ("complaint", 0.9, "general"),
               R("complaint", 0.9, "general"), R("other", 0.8, "general"))
    assert (cm.intent_class(never), cm.team_class(never), cm.why(never)) == (
        "model", "model", None)
    right = _o("refund", "billing", ("refund", 0.9, "billing"), R("refund", 0.9, "billing"))
    assert (cm.intent_class(right), cm.team_class(right)) == (None, None)


def test_a_wrong_team_with_the_right_intent_is_the_routings() -> None:
    routed = _o("complaint", "general", ("complaint", 0.9, "billing"),
                R("complaint", 0.9, "general"), R("complaint", 0.6, "billing"))
    assert (cm.intent_class(routed), cm.team_class(routed)) == (None, "routing")


def test_why_the_aggregation_chose_another_message() -> None:
    replaced = _o("technical_issue", "technical", ("complaint", 0.7, "general"),
                  R("technical_issue", 0.45, "technical"), R("complaint", 0.7, "general"))
    assert cm.why(replaced) == {"set_by": 2, "label_read_at": 1, "why": "later_replaced"}
    held = _o("account", "general", ("complaint", 0.4, "general"),
              R("complaint", 0.4, "general"), R("account", 0.35, "general"))
    assert cm.why(held) == {"set_by": 1, "label_read_at": 2, "why": "earlier_held"}
    kept = _o("refund", "billing", ("human_request", 0.95, "billing"),
              R("human_request", 0.95, "billing"), R("refund", 0.3, "billing"),
              escalated_at=0)
    assert cm.why(kept) == {"set_by": 1, "label_read_at": 2, "why": "escalation_kept"}


def test_message_team_misses_split_routing_from_intent() -> None:
    errors = [
        {"intent": "account", "got": "account", "team": "technical", "got_team": "general"},
        {"intent": "billing", "got": "refund", "team": "billing", "got_team": "billing"},
        {"intent": "billing", "got": "pricing", "team": "billing", "got_team": "sales"},
    ]
    got = cm.message_team_misses(errors)
    assert (got["team_wrong"], got["routing"], got["intent"]) == (2, 1, 1)
    assert got["routing_by_intent"] == {"account: technical->general": 1}
    assert got["intent_wrong_team_by_confusion"] == {"billing->pricing": 1}


def test_every_wrong_conversation_of_a_set_is_classified_once() -> None:
    found = cm.outcomes("fresh3")
    report = guide_sets.conversation_report(
        guide_sets.load_conversations(name="fresh3_conversations.yaml"))
    assert len(found) == report["conversations"]
    wrong_intent = sum(d["got_intent"] != d["intent"] for d in report["details"])
    wrong_team = sum(d["got_team"] != d["team"] for d in report["details"])
    assert sum(cm.intent_class(o) is not None for o in found) == wrong_intent
    assert sum(cm.team_class(o) is not None for o in found) == wrong_team
    # every customer message was read alone
    for o, c in zip(found, guide_sets.load_conversations(name="fresh3_conversations.yaml"),
                    strict=True):
        assert len(o.readings) == sum(role == "CUSTOMER" for role, _ in c.turns)


def test_the_switches_run_from_the_policy_before_to_the_default() -> None:
    from dataclasses import replace

    from streams.conversation.escalation import DEFAULT_POLICY

    first = {k: v[0] for k, v in cm.SWITCHES.items()}
    last = {k: v[-1] for k, v in cm.SWITCHES.items()}
    assert replace(DEFAULT_POLICY, **first) == cm.BEFORE
    assert replace(cm.BEFORE, **last) == DEFAULT_POLICY
