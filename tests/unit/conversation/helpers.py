"""Builders of chat events and message signals for the conversation tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.conversation.effects import Effect
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.state import ConversationRecord, MessageSignals, fold
from streams.evaluation.guide_sets import conversation_report, plain_conversation
from streams.text.emotion import Emotions
from streams.text.intent import IntentPrediction

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
CID = "conv-1"
CALM = Emotions(0.0, 0.0, 0.0, 0.0, 0.0, False)


def event(kind: str, role: str = "SYSTEM", text: str | None = None, at: int = T0,
          sender: str | None = None, metadata: dict[str, str] | None = None,
          customer_id: str | None = "cus-1", cid: str = CID) -> dict[str, Any]:
    return {"event_id": f"{cid}-{at}-{kind}", "conversation_id": cid, "event_type": kind,
            "occurred_at": at, "channel": "WEB", "sender_role": role, "sender_id": sender,
            "text": text, "language": "en",
            "customer": {"customer_id": customer_id, "email": "a@example.com", "phone": None,
                         "anonymous_id": None},
            "metadata": metadata or {}}


def customer(text: str, at: int, **metadata: str) -> dict[str, Any]:
    return event("MESSAGE", "CUSTOMER", text, at, metadata=metadata)


def bot(text: str, at: int) -> dict[str, Any]:
    return event("MESSAGE", "BOT", text, at, sender="bot-1")


def agent(text: str, at: int) -> dict[str, Any]:
    return event("MESSAGE", "AGENT", text, at, sender="agent-7")


def says(compound: float = 0.0, intent: str = "other", confidence: float = 0.9,
         **emotions: Any) -> MessageSignals:
    return MessageSignals(compound, CALM._replace(**emotions),
                          IntentPrediction(intent, confidence, {intent: confidence}), "en")


class Run:
    """Folds events in order on partition 0, keeping the state and every effect."""

    def __init__(self, policy: EscalationPolicy = DEFAULT_POLICY) -> None:
        self.state: ConversationRecord | None = None
        self.effects: list[Effect] = []
        self.offset = 0
        self.policy = policy

    def __call__(self, ev: dict[str, Any], signals: MessageSignals | None = None
                 ) -> list[Effect]:
        self.state, effects = fold(self.state, ev, 0, self.offset, signals, self.policy)
        self.offset += 1
        self.effects.extend(effects)
        return effects

    def all(self, steps: Iterable[tuple[dict[str, Any], MessageSignals | None]]) -> None:
        for ev, signals in steps:
            self(ev, signals)

    @property
    def s(self) -> ConversationRecord:
        assert self.state is not None
        return self.state

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]


def escalated_at(language: str, customer: tuple[str, ...], bot: tuple[str, ...],
                 cid: str, policy: EscalationPolicy = DEFAULT_POLICY
                 ) -> tuple[int | None, object]:
    """Replays ``customer`` messages with the ``bot`` answers between them (as ``b: ...``
    turns) through the evaluation's replay (with ``policy``): the turn it escalated at and
    its reasons."""
    turns: list[str] = []
    for i, text in enumerate(customer):
        turns.append(f"c: {text}")
        if i < len(customer) - 1:
            turns.append(bot[i])
    detail = conversation_report([plain_conversation(language, turns, cid)],
                                 policy)["details"][0]
    return detail["escalated_at_turn"], detail["reasons"]
