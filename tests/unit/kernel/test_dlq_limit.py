"""The dead-letter limit: a few bad messages pass, a failing stream stops, at the message
that breaks the limit, per topic, over a sliding window."""

from __future__ import annotations

import random
from collections import deque

import pytest

from streams.kernel.dlq_limit import DlqLimit, DlqLimitExceeded, DlqLimitState


def first_breach(limit: DlqLimit, outcomes: list[bool]) -> int | None:
    """Reference: the index of the first message past the limit, one message at a time."""
    window: deque[bool] = deque(maxlen=limit.window)
    run = 0
    for i, invalid in enumerate(outcomes):
        window.append(invalid)
        run = run + 1 if invalid else 0
        if limit.max_consecutive and run > limit.max_consecutive:
            return i
        if (limit.max_invalid_ratio < 1.0 and len(window) == limit.window
                and sum(window) > limit.max_invalid_ratio * len(window)):
            return i
    return None


def test_a_few_bad_messages_among_good_ones_pass() -> None:
    state = DlqLimitState(DlqLimit(max_invalid_ratio=0.5, max_consecutive=100, window=1000))
    rng = random.Random(5)
    for _ in range(20):
        state.observe("chat.events", [rng.random() < 0.05 for _ in range(500)])
    assert 0.02 < state.invalid_share("chat.events") < 0.08


def test_too_many_in_a_row_stop_at_the_message_past_the_limit() -> None:
    state = DlqLimitState(DlqLimit(max_invalid_ratio=1.0, max_consecutive=100, window=1000))
    state.observe("t", [True] * 100)  # exactly the limit: accepted
    state.observe("t", [False])
    state.observe("t", [True] * 100)
    with pytest.raises(DlqLimitExceeded, match="101 invalid messages in a row") as caught:
        state.observe("t", [True] * 50)
    assert caught.value.topic == "t"
    assert state.consecutive("t") == 101
    assert "dlq_limit" in str(caught.value)  # says how to raise it


def test_the_share_is_judged_over_a_full_sliding_window() -> None:
    limit = DlqLimit(max_invalid_ratio=0.2, max_consecutive=0, window=100)
    state = DlqLimitState(limit)
    state.observe("t", [True, False] * 40)  # half invalid, but the window is not full yet
    with pytest.raises(DlqLimitExceeded, match="of the last 100 messages are invalid"):
        state.observe("t", [False] * 20)  # it fills here: 40 of 100 > 0.2
    # a stream whose old failures slide out of the window
    state = DlqLimitState(limit)
    state.observe("t", [True] * 15 + [False] * 85)
    state.observe("t", [False] * 1000)
    state.observe("t", [True] * 20)  # 20 of the last 100: exactly the limit
    assert state.invalid_share("t") == pytest.approx(0.2)
    with pytest.raises(DlqLimitExceeded):
        state.observe("t", [True])


def test_topics_are_counted_apart() -> None:
    state = DlqLimitState(DlqLimit(max_invalid_ratio=1.0, max_consecutive=10, window=100))
    for _ in range(3):
        state.observe("a", [True] * 6)
        state.observe("b", [True] * 3)
        state.observe("a", [False])
    assert state.consecutive("b") == 9
    with pytest.raises(DlqLimitExceeded, match="on b"):
        state.observe("b", [True, True])


def test_no_limit_when_switched_off() -> None:
    state = DlqLimitState(DlqLimit(max_invalid_ratio=1.0, max_consecutive=0, window=10))
    state.observe("t", [True] * 10_000)
    assert state.invalid_share("t") == 1.0


@pytest.mark.parametrize("seed", range(30))
def test_batches_stop_exactly_where_one_message_at_a_time_would(seed: int) -> None:
    rng = random.Random(seed)
    limit = DlqLimit(max_invalid_ratio=rng.choice([0.3, 0.5, 1.0]),
                     max_consecutive=rng.choice([0, 5, 20]), window=rng.choice([10, 50]))
    bad_share = rng.choice([0.05, 0.3, 0.6])
    outcomes = [rng.random() < bad_share for _ in range(400)]
    expected = first_breach(limit, outcomes)

    one = DlqLimitState(limit)  # one message at a time
    stopped: int | None = None
    for i, invalid in enumerate(outcomes):
        try:
            one.observe("t", [invalid])
        except DlqLimitExceeded:
            stopped = i
            break
    assert stopped == expected

    whole = DlqLimitState(limit)  # in batches of random sizes, as steps come
    seen = 0
    raised_in: tuple[int, int] | None = None
    while seen < len(outcomes):
        size = rng.randint(1, 40)
        try:
            whole.observe("t", outcomes[seen:seen + size])
        except DlqLimitExceeded:
            raised_in = (seen, seen + size)
            break
        seen += size
    if expected is None:
        assert raised_in is None
        return
    assert raised_in is not None and raised_in[0] <= expected < raised_in[1]
    # the batch was counted up to the very message that broke the limit
    assert whole.consecutive("t") == one.consecutive("t")
    assert whole.invalid_share("t") == pytest.approx(one.invalid_share("t"))


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        DlqLimit(max_invalid_ratio=0.0)
    with pytest.raises(ValueError):
        DlqLimit(max_consecutive=-1)
    with pytest.raises(ValueError):
        DlqLimit(window=0)
