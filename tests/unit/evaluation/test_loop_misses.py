"""Classifying the bot loops escalation misses: by the first condition of the loop rule that
fails at the labelled message, on the reply and the answer the rule reads."""

from __future__ import annotations

from dataclasses import replace

from streams.conversation.escalation import DEFAULT_POLICY
from streams.evaluation import loop_misses
from streams.evaluation.discontent_fit import Case
from streams.evaluation.guide_sets import parse_turns, plain_conversation
from streams.evaluation.mood_misses import missed

WORDS = loop_misses.Reply(in_words=True, pushback=True, learnt=0.5, content_words=5)
PUSHED = loop_misses.Reply(in_words=False, pushback=True, learnt=0.5, content_words=5)
UNREAD = loop_misses.Reply(in_words=False, pushback=False, learnt=0.95, content_words=5)


def _turns(answer: str) -> tuple[tuple[str, str], ...]:
    return parse_turns([
        "c: The router drops the connection every evening since the firmware update.",
        "b: Please restart the router and wait two minutes for the lights.",
        "c: Restarted it twice, that did not help at all.",
        f"b: {answer}",
        "c: You are going round in circles.",
    ])


def test_the_rule_reads_the_last_answer_after_a_reply_to_an_earlier_one() -> None:
    turns = _turns("Our summer sale gives twenty percent off headphones.")
    assert loop_misses.read_answer_at(turns, 4) == (1, 2, 3)
    # labelled at the first reply: no answer after a reply yet
    assert loop_misses.read_answer_at(turns, 2) is None
    assert loop_misses.classify(turns, 2, WORDS) == "before_rule"


def test_the_class_is_the_first_condition_of_the_rule_that_fails() -> None:
    stray = _turns("Our summer sale gives twenty percent off headphones.")
    assert loop_misses.classify(stray, 4, UNREAD) == "reply_unread"
    assert loop_misses.classify(stray, 4, WORDS) == "other"
    # a pushback the learnt signal reads below the level makes only a repeat count
    assert loop_misses.classify(stray, 4, PUSHED) == "reply_pushback_only"
    assert loop_misses.classify(stray, 4, replace(PUSHED, learnt=0.95)) == "other"
    assert loop_misses.classify(stray, 4, replace(PUSHED, learnt=0.95, content_words=2)
                                ) == "reply_pushback_only"
    question = _turns("Which lights are blinking on the box right now?")
    assert loop_misses.classify(question, 4, WORDS) == "answer_question"
    again = _turns("Please restart the router and wait two minutes for the lights.")
    assert loop_misses.classify(again, 4, PUSHED) == "other"
    # a rephrase that meets the previous answer in a word, too little to be a repeat
    loose = _turns("A restart of the box usually clears connection drops in the evening.")
    assert loop_misses.classify(loose, 4, WORDS) == "answer_loose_echo"
    # another subject that meets the customer's words only
    chance = _turns("Our evening support line is open until ten o'clock.")
    assert loop_misses.classify(chance, 4, WORDS) == "answer_shares_topic_word"


def test_a_looser_echo_moves_a_rephrase_out_of_the_misses() -> None:
    turns = parse_turns([
        "c: The heating control shows sensor error 7 since this morning.",
        "b: Restart the controller by unplugging it for thirty seconds.",
        "c: Done, the error is still there. It did not help.",
        "b: A restart clears most faults: take the controller off the power for half a minute.",
        "c: That is what I just did."])
    assert loop_misses.classify(turns, 4, WORDS) == "answer_loose_echo"
    cosine = replace(DEFAULT_POLICY, bot_echo_cosine=0.3)
    assert loop_misses.classify(turns, 4, WORDS, cosine) == "other"


def test_only_bot_loops_not_caught_by_their_labelled_message_are_listed() -> None:
    def case(reason: str, without: int | None) -> Case:
        return Case("s", f"{reason}{without}", 4, reason, without, ())
    on_time, late, never = case("bot_loop", 3), case("bot_loop", 5), case("bot_loop", None)
    mood = case("negative_trend", None)
    assert missed([on_time, late, never, mood], "bot_loop") == [late, never]


def test_the_reply_is_read_with_the_workers_signals() -> None:
    turns = ["c: The router drops the connection every evening.",
             "b: Please restart the router and wait two minutes.",
             "c: I restarted it twice and that did not help at all.",
             "b: Our summer sale gives twenty percent off headphones.",
             "c: Thanks, that solved it, have a nice day!"]
    conversation = plain_conversation("en", turns)
    reply = loop_misses.read_reply(conversation, 2)
    assert reply.in_words and reply.pushback and reply.content_words >= 3
    assert 0.0 <= reply.learnt <= 1.0
    # a content customer pushes nothing back
    assert not loop_misses.read_reply(conversation, 4).pushback
    row = loop_misses.row(conversation, 4)
    assert row["class"] == "other" and row["answer"]["meets_previous"] == []
