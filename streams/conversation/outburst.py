"""A worsening mood read from how the customer writes, not from which words they use.

A customer who has replied tersely to the bot's suggestions ("Done.", "Still nothing.") and
then writes at length about the same problem has stopped asking and started telling: the
long message is irony, resignation or a story of what the failure costs them, in wordings
no lexicon lists (LABELS.md, ``negative_trend``). The rule reads the shape of the turn: its
length against the customer's previous message, and what it is (a complaint, or clearly
negative where the sentiment is trusted), from the third customer message of the window on;
from the fourth on, any long message that asks nothing (no question mark): after three turns
with the bot, a customer who writes at length without asking has stopped asking. A
grievance that persists (``persisting``) is read from the model's scores of the customer's
own messages, not their words: from the fourth customer message on, a reply to the bot that
asks nothing from a customer who has complained or been frustrated in two of their messages.
A mood that sinks (``sinking``) is read from the learnt discontent of the customer's messages
(``streams.text.discontent``, a model trained on hand-written turns, not a word list): two
in a row read as sunk, the latest well above the customer's own start.

Invariants: pure and deterministic over the recent messages the record keeps (texts cut at
``state_record.TEXT_LIMIT``, so both lengths are read the same way); a first or second
customer message never fires; a long message that is neither a complaint nor clearly
negative fires only from the fourth customer message on and only when it asks nothing (a
customer telling more about a question is not upset); no word lists. Sarcasm reads as
satisfaction to the emotion detector, so satisfaction is no guard here: the complaint the
message is read as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from streams.conversation.effects import Message
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy, Reason


def previous_customer_text(recent: Sequence[Message]) -> str | None:
    """The text of the customer message before the latest one (the latest is ``recent[-1]``),
    or None when the record keeps none."""
    for message in reversed(recent[:-1]):
        if message["role"] == "customer":
            return message["text"]
    return None


def outburst(recent: Sequence[Message], window: int, intent: str | None,
             compound: float | None, policy: EscalationPolicy = DEFAULT_POLICY,
             scores: Mapping[str, float] | None = None) -> Reason | None:
    """``sentiment_worsening`` when the latest customer message (``recent[-1]``) of a window
    of at least ``decline_min_messages`` customer messages is a complaint (``intent``, or the
    complaint among the model's top ``scores`` at least ``outburst_complaint_score``), asks
    nothing from the customer's fourth message on, or is at most ``repeated_compound``
    negative (``compound``: None where the sentiment is not trusted), at least
    ``outburst_chars`` long and at least ``outburst_ratio`` times as long as the customer's
    previous message."""
    if (window < policy.decline_min_messages or not recent
            or recent[-1]["role"] != "customer"):
        return None
    complaint = intent == "complaint" or (
        scores is not None
        and scores.get("complaint", 0.0) >= policy.outburst_complaint_score)
    # after three turns with the bot, a long message that asks nothing is told, not asked
    telling = window > policy.decline_min_messages and "?" not in recent[-1]["text"]
    if not (complaint or telling) and (compound is None or compound > policy.repeated_compound):
        return None
    before = previous_customer_text(recent)
    now = len(recent[-1]["text"])
    if (before is None or now < policy.outburst_chars
            or now < policy.outburst_ratio * len(before)):
        return None
    return "sentiment_worsening"


def grieved(scores: Mapping[str, float] | None, frustration: float,
            policy: EscalationPolicy = DEFAULT_POLICY) -> bool:
    """Whether a customer message holds a grievance: the model reads a complaint in it at
    least ``grievance_score`` (among its top ``scores``), or the emotion detector
    frustration at least as much. A complaint read faintly (the top intent at 0.33) is not
    one: a customer explaining a problem calmly reads so."""
    return (frustration >= policy.grievance_score
            or (scores is not None and scores.get("complaint", 0.0) >= policy.grievance_score))


def persisting(recent: Sequence[Message], window: int, grievances: int, since: int,
               satisfaction: float, policy: EscalationPolicy = DEFAULT_POLICY
               ) -> Reason | None:
    """``sentiment_worsening`` when the latest customer message (``recent[-1]``), from the
    ``grievance_min_messages``-th of the window on, replies to the bot, asks nothing, is not
    content (``satisfaction`` below ``resolved_satisfaction``), and the customer has held a
    grievance in at least ``grievance_messages`` of the window's messages (``grievances``),
    the last of them this message or the one before (``since``: messages since it, 0 or 1):
    the bot answered twice and more, the complaint is still there, and the customer has
    stopped asking: what they write now is irony or resignation ("Right. In progress. Of
    course it is."), whatever its words. A complaint the bot settled ("Great, a replacement
    works for me") is no longer held."""
    if (window < policy.grievance_min_messages or grievances < policy.grievance_messages
            or since > 1 or satisfaction >= policy.resolved_satisfaction
            or len(recent) < 2 or recent[-1]["role"] != "customer"
            or recent[-2]["role"] != "bot" or "?" in recent[-1]["text"]):
        return None
    return "sentiment_worsening"


def sinking(window: int, discontent: float | None, previous: float | None,
            floor: float | None, policy: EscalationPolicy = DEFAULT_POLICY) -> Reason | None:
    """``sentiment_worsening`` when the mood has sunk as the learnt discontent
    (``streams.text.discontent``) reads it, in whatever words (resignation, irony, curt
    replies, weariness): from the ``discontent_min_messages``-th customer message of the
    window on, the latest message's ``discontent`` and, when ``discontent_sustain`` is 2, the
    customer's ``previous`` message's too are at least ``discontent_level``, and the latest
    is at least ``discontent_rise`` above the customer's own start: ``floor``, the lowest of
    their messages of the window before the previous one (with 1, before the latest). A
    single low reading (a curt thank-you) is not a trajectory."""
    if window < policy.discontent_min_messages or discontent is None or previous is None:
        return None
    if policy.discontent_sustain >= 2:
        level, start = min(discontent, previous), floor
    else:
        level, start = discontent, previous if floor is None else min(floor, previous)
    if (start is None or level < policy.discontent_level
            or discontent - start < policy.discontent_rise):
        return None
    return "sentiment_worsening"


__all__ = ["grieved", "outburst", "persisting", "previous_customer_text", "sinking"]
