"""Classifying the worsening moods escalation misses: by the learnt rule's own conditions at
the labelled message, in the rule's order, and by the message's shape, never its words."""

from __future__ import annotations

from dataclasses import replace

from streams.conversation.escalation import DEFAULT_POLICY
from streams.evaluation import mood_misses
from streams.evaluation.discontent_fit import Case

POLICY = replace(DEFAULT_POLICY, discontent_min_messages=3, discontent_level=0.7,
                 discontent_rise=0.6, discontent_sustain=2)


def _case(scores: list[float], message: int, without: int | None = None) -> Case:
    """Customer messages at turns 0, 2, 4, ...; labelled at customer message ``message``."""
    return Case("s", f"c{scores}{message}", 2 * (message - 1), "negative_trend", without,
                tuple((2 * i, s) for i, s in enumerate(scores)))


def test_the_class_is_the_first_condition_of_the_rule_that_fails() -> None:
    assert mood_misses.classify(_case([0.1, 0.95], 2), POLICY) == "before_rule"
    assert mood_misses.classify(_case([0.1, 0.9, 0.5], 3), POLICY) == "turn_read_low"
    assert mood_misses.classify(_case([0.1, 0.3, 0.9], 3), POLICY) == "previous_read_low"
    assert mood_misses.classify(_case([0.8, 0.9, 0.95], 3), POLICY) == "baseline_high"
    assert mood_misses.classify(_case([0.1, 0.9, 0.95], 3), POLICY) == "other"
    # with one message sustained, the previous message is the start, not a reading at level
    single = replace(POLICY, discontent_sustain=1)
    assert mood_misses.classify(_case([0.1, 0.3, 0.9], 3), single) == "other"
    assert mood_misses.classify(_case([0.5, 0.6, 0.9], 3), single) == "baseline_high"


def test_only_worsening_moods_not_caught_by_their_labelled_message_are_missed() -> None:
    on_time, late, never = _case([0.1], 1, without=0), _case([0.1], 1, without=4), _case([0.1], 1)
    other = replace(never, reason="bot_loop")
    assert mood_misses.missed([on_time, late, never, other]) == [late, never]


def test_the_shape_of_a_message() -> None:
    assert mood_misses.shape("ok.") == "curt"
    assert mood_misses.shape("Fine. Whatever then.") == "curt"
    assert mood_misses.shape("The parcel came today, thanks for checking on it.") == "short"
    long = ("Thanks, I tried the second cable as well and the screen stays black. "
            "At this point I'm not sure why I keep trying.")
    assert mood_misses.shape(long) == "long"
    one = "the engineer said he would come back with the right part " * 3
    assert len(one) >= mood_misses.LONG_CHARS and mood_misses.shape(one) == "short"
