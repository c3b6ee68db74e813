"""The traffic simulator's labelled conversations replayed through the code the worker runs,
as ``quality.conversation_quality`` judges them and as the fits of the escalation rules
check them (``discontent_fit``).

Invariants: the simulator (``simulators.chat.labelled_conversations``) is deterministic for a
seed, so a replay is too; only conversations the stream holds completely are judged; a
conversation needs a person when the simulator gave it a cause, and the system is judged on
the events before its HANDOFF (a decision cannot lean on the hand-off or on what the human
agent says). Sentiment is scored once, here, for every replay of the same simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy

if TYPE_CHECKING:
    from streams.conversation.effects import Escalate
    from streams.simulators.chat import ConversationTruth
    from streams.text.sentiment import Sentiment

T0 = 1_767_225_600_000


@dataclass(frozen=True)
class Simulation:
    """The records of a simulated stream (``values``), each conversation's truth, the ones
    held completely, the position of each conversation's hand-off and every record's
    sentiment."""

    values: tuple[Mapping[str, Any], ...]
    truths: Mapping[str, ConversationTruth]
    complete: frozenset[str]
    handoff_at: Mapping[str, int]
    sentiments: tuple[Sentiment, ...]

    def before_handoff(self) -> list[int]:
        """Positions of the records before their conversation's hand-off."""
        end = len(self.values)
        return [i for i, v in enumerate(self.values)
                if i < self.handoff_at.get(v["conversation_id"], end)]

    def run(self, keep: Sequence[int], policy: EscalationPolicy = DEFAULT_POLICY
            ) -> tuple[dict[str, Any], list[Escalate]]:
        """The conversation records and the escalations of the records at ``keep``, folded
        by the worker's code with ``policy``."""
        from streams.conversation.effects import Escalate
        from streams.conversation.intelligence import understand
        from streams.kernel.records import Raw

        events = [self.values[i] for i in keep]
        sentiments = [self.sentiments[i] if self.values[i]["event_type"] == "MESSAGE"
                      else None for i in keep]
        raws = [Raw("chat.events", 0, i, 0, None, None) for i in keep]
        smart = understand(raws, events, sentiments, lambda _: None, policy=policy)
        return smart.records, [e for e in smart.effects if isinstance(e, Escalate)]

    def customer_turns(self, keep: Sequence[int]) -> dict[str, list[tuple[int, str]]]:
        """The customer messages at ``keep`` of every complete conversation, as (position,
        text), in order."""
        out: dict[str, list[tuple[int, str]]] = {}
        for i in keep:
            v = self.values[i]
            if (v["event_type"] == "MESSAGE" and v["sender_role"] == "CUSTOMER"
                    and v["conversation_id"] in self.complete):
                out.setdefault(v["conversation_id"], []).append((i, v["text"] or ""))
        return out


def simulate(records: int = 20_000, *, seed: int = 7) -> Simulation:
    """``records`` records of the simulator's labelled conversations for ``seed``."""
    from streams.simulators.chat import labelled_conversations
    from streams.text.sentiment import score_texts

    recs, truths = labelled_conversations(records, seed=seed, start_ms=T0)
    values = tuple(r.value for r in recs)
    held: dict[str, int] = {}
    handoff_at: dict[str, int] = {}
    for i, v in enumerate(values):
        cid = v["conversation_id"]
        held[cid] = held.get(cid, 0) + 1
        if v["event_type"] == "HANDOFF":
            handoff_at.setdefault(cid, i)
    complete = frozenset(cid for cid, t in truths.items() if held.get(cid) == t.events)
    return Simulation(values, truths, complete, handoff_at,
                      tuple(score_texts([v["text"] or "" for v in values])))


__all__ = ["Simulation", "simulate"]
