"""A mood that sinks as the learnt discontent reads it (``outburst.sinking``): from the
third customer message of the window, the last two customer messages read as discontent and
the latest well above the customer's own start; one low reading (a curt thank-you), a
conversation that starts sunk and stays so, or an early message are none. Through the fold,
the record keeps the previous message's discontent and the lowest before it, and a fresh
window forgets them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streams.conversation.effects import Escalate
from streams.conversation.escalation import DEFAULT_POLICY
from streams.conversation.outburst import sinking
from streams.conversation.state import MessageSignals
from tests.unit.conversation.helpers import T0, Run, bot, customer, says

# the two-message trajectory, whatever sustain the committed policy chose
P = replace(DEFAULT_POLICY, discontent_sustain=2)
HIGH = P.discontent_level + 0.2
LOW = HIGH - P.discontent_rise - 0.1


def test_two_sunk_messages_above_the_start_escalate() -> None:
    assert sinking(3, HIGH, HIGH, LOW, P) == "sentiment_worsening"
    # the previous one need only reach the level
    assert sinking(3, HIGH, P.discontent_level, LOW, P) == "sentiment_worsening"


@pytest.mark.parametrize(("window", "now", "previous", "floor"), [
    (2, HIGH, HIGH, LOW),  # before the third customer message of the window
    (3, HIGH, P.discontent_level - 0.05, LOW),  # one sunk message after a calm one
    (3, HIGH, HIGH, HIGH - P.discontent_rise + 0.05),  # sunk from the start: no rise
    (3, P.discontent_level - 0.05, HIGH, LOW),  # the latest is not sunk
    (3, None, HIGH, LOW),  # no reading
    (3, HIGH, None, LOW),
    (3, HIGH, HIGH, None),
])
def test_no_sinking_without_its_trajectory(window: int, now: float | None,
                                           previous: float | None,
                                           floor: float | None) -> None:
    assert sinking(window, now, previous, floor, P) is None


def test_with_a_sustain_of_one_the_previous_message_counts_as_the_start() -> None:
    one = replace(P, discontent_sustain=1)
    assert sinking(3, HIGH, LOW, None, one) == "sentiment_worsening"
    assert sinking(3, HIGH, LOW, HIGH, one) == "sentiment_worsening"
    assert sinking(3, HIGH, HIGH, HIGH, one) is None
    assert sinking(3, LOW, LOW, LOW, one) is None


def _says(discontent: float) -> MessageSignals:
    return replace(says(intent="technical_issue", confidence=0.9), discontent=discontent)


def _run(levels: list[float]) -> Run:
    run = Run(P)
    for i, level in enumerate(levels):
        run(customer(f"message {i}", T0 + 2 * i * 1000), _says(level))
        run(bot("Let me check that for you.", T0 + (2 * i + 1) * 1000))
    return run


def test_the_fold_escalates_at_the_second_sunk_message_after_a_calm_start() -> None:
    run = _run([LOW, HIGH, HIGH])
    escalations = run.of(Escalate)
    assert len(escalations) == 1
    assert escalations[0].reasons == ("sentiment_worsening",)
    assert escalations[0].source_offset == 4  # the third customer message
    book = run.s["escalation"]
    assert book.get("discontent_last") == HIGH and book.get("discontent_floor") == LOW


@pytest.mark.parametrize("levels", [
    [LOW, HIGH, LOW, LOW],  # one sunk message between calm ones
    [HIGH, HIGH, HIGH],  # sunk from the first message: no trajectory
    [LOW, LOW, LOW, LOW],
])
def test_the_fold_does_not_escalate_without_a_trajectory(levels: list[float]) -> None:
    run = _run(levels)
    assert not run.of(Escalate)
