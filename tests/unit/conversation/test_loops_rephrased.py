"""Bot loops told in other words: after the customer said or showed that an answer did not
help, the bot gives the same answer again with few of its words but most of its stems
(``loops.ngram_cosine`` at least ``EscalationPolicy.bot_echo_cosine``), through the replay;
a follow-up that adds a step, and the same conversation with the cosine off, stay with the
bot."""

from __future__ import annotations

from dataclasses import replace

from streams.conversation import loops
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.evaluation.guide_sets import conversation_report, plain_conversation

OFF = replace(DEFAULT_POLICY, bot_echo_cosine=loops.COSINE_OFF)

QUESTION = "c: My thermostat app shows 'no connection' since this morning."
ANSWER = "b: Reconnect the thermostat by unplugging it and holding the reset button."
REPLY = "c: No, I did that already and the app still says no connection."
REPHRASED = "b: The connection returns when the thermostat is unplugged, plugged back and reset."
FOLLOW_UP = ("b: If the reset did not work, your router may block the thermostat: add it "
             "under Devices in the router settings.")


def _loop_at(turns: list[str], policy: EscalationPolicy = DEFAULT_POLICY) -> int | None:
    detail = conversation_report([plain_conversation("en", turns)], policy=policy)["details"][0]
    reasons = detail["reasons"] or []
    at: int | None = detail["escalated_at_turn"] if "bot_failure_loop" in reasons else None
    return at


def test_the_rephrase_shares_its_stems_not_its_words() -> None:
    before, again = ANSWER[3:], REPHRASED[3:]
    assert loops.echo_share(again, before) < loops.ECHO_SHARE
    assert loops.ngram_cosine(again, before) >= DEFAULT_POLICY.bot_echo_cosine
    assert loops.ngram_cosine(FOLLOW_UP[3:], before) < DEFAULT_POLICY.bot_echo_cosine


def test_a_rephrased_answer_after_a_pushback_is_a_loop_at_that_answer() -> None:
    turns = [QUESTION, ANSWER, REPLY, REPHRASED, "c: You are repeating yourself."]
    assert _loop_at(turns) == 3
    # read on whole words only, the rephrase is no repeat: the loop waits for the customer
    assert _loop_at(turns[:4], OFF) is None
    assert _loop_at(turns, OFF) == 4


def test_a_follow_up_that_adds_a_step_stays_with_the_bot() -> None:
    assert _loop_at([QUESTION, ANSWER, REPLY, FOLLOW_UP, "c: That was it, thanks!"]) is None


def test_a_rephrase_without_a_pushback_is_no_loop() -> None:
    calm = "c: Thanks, and how long should I hold it?"
    assert _loop_at([QUESTION, ANSWER, calm, REPHRASED]) is None
