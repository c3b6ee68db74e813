"""The bot loops (LABELS.md ``bot_loop``) of the development sets that escalation misses or
catches after the labelled message, classified by the first condition of the loop rule that
fails at the labelled message: the customer's reply not read as "it did not help", or the
bot's next answer read neither as a repeat nor as off-topic.

The rule (``state``'s bot answer, ``customer_turn``, ``loops``): a customer reply to a bot
answer that says it did not help in words (the ``not_helped`` cue) or pushes back
(``loops.pushback``, from a customer who is not content) makes the bot's next answer count
when it repeats the previous one (``loops.echoes``); a reply in words, or a pushback the
learnt signal (``streams.text.unhelped``) reads at least ``unhelped_level`` with at least
``MIN_ANSWER_WORDS`` content words, also makes an answer about another subject count
(``loops.strays``).

Invariants: the conversations are replayed through the code the worker runs
(``discontent_fit.cases`` with the policy given); a conversation caught at or before its
labelled message is not listed; the reply's signals are the worker's
(``intelligence.signals_for``); the rule is judged on the answer it reads: the last bot
answer before the labelled message that follows a customer reply to an earlier bot answer.
Classes, in the rule's order:
- ``before_rule``: no such answer before the labelled message;
- ``reply_unread``: the reply neither says it did not help in words nor pushes back;
- ``answer_question``: the answer is a question (never a repeat nor a stray);
- ``reply_pushback_only``: the answer strays, but the reply only pushed back (the learnt
  signal below the level, or too few content words), so only a repeat would count;
- ``answer_loose_echo``: neither a repeat nor a stray, and it meets the previous answer in
  some content word (a rephrase that shares too little: ``echo_share`` and
  ``ngram_cosine`` in the row);
- ``answer_shares_topic_word``: neither, and it meets only the customer's words (an
  answer about another subject that shares a word with the topic by chance);
- ``other``: the rule's conditions hold at the answer, yet the replay did not escalate.

``python -m streams.evaluation.loop_misses`` prints the counts and every conversation.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.conversation import loops
from streams.conversation.effects import Message
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.intelligence import signals_for
from streams.conversation.rollup import message_sentiments
from streams.conversation.state import RECENT_MESSAGES
from streams.evaluation import guide_sets, mood_misses
from streams.evaluation.discontent_fit import cases


@dataclass(frozen=True)
class Reply:
    """How the worker read the customer's reply to the bot's answer."""

    in_words: bool  # the ``not_helped`` cue
    pushback: bool  # ``loops.pushback`` from a customer who is not content
    learnt: float  # the learnt "not helped" signal
    content_words: int


def said(reply: Reply, policy: EscalationPolicy = DEFAULT_POLICY) -> bool:
    """The reply stands for "it did not help" in words: an answer about another subject
    after it counts (``customer_turn``)."""
    return reply.in_words or (reply.pushback and reply.learnt >= policy.unhelped_level
                              and reply.content_words >= loops.MIN_ANSWER_WORDS)


def read_answer_at(turns: Sequence[tuple[str, str]], label: int) -> tuple[int, int, int] | None:
    """(previous answer, reply, answer): the turns the rule reads for the last bot answer
    before ``label`` that follows a customer reply to an earlier bot answer."""
    for answer in range(label - 1, -1, -1):
        if turns[answer][0] != "BOT":
            continue
        replies = [i for i in range(answer) if turns[i][0] == "CUSTOMER"]
        if not replies:
            return None
        previous = [i for i in range(replies[-1]) if turns[i][0] == "BOT"]
        if previous:
            return previous[-1], replies[-1], answer
    return None


def _recent(turns: Sequence[tuple[str, str]], answer: int) -> list[Message]:
    """The messages the worker keeps before ``answer`` (``RECENT_MESSAGES`` with it)."""
    start = max(0, answer - (RECENT_MESSAGES - 1))
    return [Message(role="customer" if role == "CUSTOMER" else "bot", text=text,
                    compound=None, at=0) for role, text in turns[start:answer]]


def classify(turns: Sequence[tuple[str, str]], label: int, reply: Reply | None,
             policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """The class (see the module's invariants) of a conversation labelled at ``label``;
    ``reply`` is how the reply of ``read_answer_at`` was read (None when there is none)."""
    found = read_answer_at(turns, label)
    if found is None or reply is None:
        return "before_rule"
    previous, _, at = found
    if not reply.pushback:
        return "reply_unread"
    answer, before = turns[at][1], turns[previous][1]
    if answer.rstrip().endswith("?"):
        return "answer_question"
    if loops.echoes(answer, before, policy.bot_repeat_similarity, policy.bot_echo_cosine):
        return "other"
    if loops.strays(answer, _recent(turns, at)):
        return "other" if said(reply, policy) else "reply_pushback_only"
    if loops.shared(loops.words(answer), loops.words(before)):
        return "answer_loose_echo"
    return "answer_shares_topic_word"


def read_reply(conversation: guide_sets.GuideConversation, reply: int,
               policy: EscalationPolicy = DEFAULT_POLICY) -> Reply:
    """The worker's reading of the customer message at turn ``reply``."""
    c = conversation
    events = [e for e in guide_sets._events(c.id, c.language, c.value, c.turns)
              if e["event_type"] == "MESSAGE"][:reply + 1]
    signal = signals_for(events, message_sentiments(events))[reply]
    if signal is None:
        raise ValueError(f"{conversation.id}: turn {reply} is no message")
    text = conversation.turns[reply][1]
    found = signal.cues or frozenset()
    content = (signal.emotions is None
               or signal.emotions.satisfaction >= policy.resolved_satisfaction)
    return Reply("not_helped" in found,
                 not content and loops.pushback(text, conversation.language, found),
                 signal.unhelped if signal.unhelped is not None else 0.0,
                 len(loops.words(text)))


def row(conversation: guide_sets.GuideConversation, label: int,
        policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """The class of one conversation and what it rests on."""
    turns = conversation.turns
    found = read_answer_at(turns, label)
    if found is None:
        return {"class": classify(turns, label, None, policy)}
    previous, at_reply, at = found
    reply = read_reply(conversation, at_reply, policy)
    answer, before = turns[at][1], turns[previous][1]
    topic = [w for m in _recent(turns, at) if m["role"] == "customer"
             for w in loops.words(m["text"])]
    said_words = loops.words(answer)
    return {"class": classify(turns, label, reply, policy),
            "reply": {"in_words": reply.in_words, "pushback": reply.pushback,
                      "learnt": round(reply.learnt, 2), "content_words": reply.content_words},
            "answer": {"question": answer.rstrip().endswith("?"),
                       "echo_share": round(loops.echo_share(answer, before), 2),
                       "ngram_cosine": round(loops.ngram_cosine(answer, before), 2),
                       "meets_previous": loops.shared(said_words, loops.words(before)),
                       "meets_topic": loops.shared(said_words, topic)}}


def report(names: Sequence[str] = guide_sets.DEV_SETS,
           policy: EscalationPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Counts by class and by set, and every conversation with its class and readings."""
    conversations = mood_misses.conversations(names)
    rows: list[dict[str, Any]] = []
    for case in mood_misses.missed(cases(names, policy), "bot_loop"):
        label = case.label_turn or 0
        rows.append({"set": case.set_name, "id": case.id,
                     "late": case.without_rule is not None,
                     **row(conversations[case.set_name, case.id], label, policy)})
    return mood_misses.tally(rows)


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(description="Classify the bot loops escalation misses."
                            ).parse_args(argv)
    print(json.dumps(report(), indent=1))


if __name__ == "__main__":
    main()


__all__ = ["Reply", "classify", "read_answer_at", "read_reply", "report", "row", "said"]
