"""Service suggestions from conversation history (``recommend_service``)."""

from __future__ import annotations

from streams.predictive.recommend_service import (
    SERVICES,
    Conversation,
    ServicePolicy,
    suggest_service,
)

DAY_MS = 86_400_000
NOW = 1_767_225_600_000 + 100 * DAY_MS


def conversation(intent: str, days_ago: float, resolved: bool = True, escalated: bool = False,
                 sentiment: float = 0.0) -> Conversation:
    return Conversation(intent, int(NOW - days_ago * DAY_MS), resolved, escalated, sentiment)


def test_an_unresolved_negative_problem_outweighs_older_routine_questions() -> None:
    history = [conversation("pricing", 40), conversation("pricing", 45),
               conversation("technical_issue", 3, resolved=False, sentiment=-0.6)]
    got = suggest_service(history, NOW)
    assert got is not None and got.service == "technical_support_session"
    assert got.reason.startswith("SERVICE_TECHNICAL_ISSUE: 1 conversation(s) about technical "
                                 "issue, 1 unresolved, 0 escalated")
    # the same problem, resolved and calm, two months ago: the pricing questions lead
    calm = [*history[:2], conversation("technical_issue", 60)]
    assert suggest_service(calm, NOW).intent == "pricing"  # type: ignore[union-attr]


def test_no_history_old_history_or_intents_without_a_service_suggest_nothing() -> None:
    assert suggest_service([], NOW) is None
    assert suggest_service([conversation("billing", 200)], NOW) is None  # weight 0.01
    assert suggest_service([conversation("other", 1), conversation("human_request", 1)],
                           NOW) is None
    assert suggest_service([conversation("billing", -1)], NOW) is None  # after as_of
    assert suggest_service([conversation("billing", 200)], NOW,
                           ServicePolicy(min_weight=0.0)) is not None


def test_ties_go_to_the_first_intent_and_every_service_is_named() -> None:
    history = [conversation("refund", 1), conversation("billing", 1)]
    assert suggest_service(history, NOW).intent == "billing"  # type: ignore[union-attr]
    assert {intent for intent in SERVICES} >= {"cancellation", "complaint", "account"}
    escalated = suggest_service([conversation("refund", 1),
                                 conversation("billing", 1, escalated=True)], NOW)
    assert escalated is not None and escalated.weight > 1.4
