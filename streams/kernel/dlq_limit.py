"""A limit on dead letters: a bad deploy must not quietly dead-letter a whole stream.

As arroyo's ``DlqLimit``: a few invalid messages among good ones are dead-lettered and the
stream goes on, but when too large a share of the recent messages of a source topic is
invalid, or too many in a row are, processing stops with a clear message instead.

Invariants:
- Outcomes are counted per source topic, in the order the messages were consumed.
- The share is taken over the last ``window`` messages of the topic, and only once the topic
  has seen ``window`` messages; the run of consecutive invalid messages covers a young stream.
- ``observe`` raises ``DlqLimitExceeded`` at the first message that breaks the limit, so the
  caller can stop before any dead letter of that step is written or acknowledged.
- Memory per topic is bounded by the number of runs of equal outcomes within the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DlqLimit:
    """``max_invalid_ratio``: the largest share of invalid messages among the last ``window``
    that is accepted (1.0: no limit); ``max_consecutive``: the most invalid messages in a
    row that are accepted (0: no limit)."""

    max_invalid_ratio: float = 0.5
    max_consecutive: int = 1000
    window: int = 1000

    def __post_init__(self) -> None:
        if not 0.0 < self.max_invalid_ratio <= 1.0:
            raise ValueError("max_invalid_ratio must be in (0, 1]")
        if self.max_consecutive < 0:
            raise ValueError("max_consecutive must be 0 (no limit) or more")
        if self.window < 1:
            raise ValueError("window must be at least 1")


class DlqLimitExceeded(Exception):
    """Too many of a topic's recent messages are invalid: stop rather than dead-letter the
    stream."""

    def __init__(self, topic: str, detail: str) -> None:
        super().__init__(
            f"dead-letter limit exceeded on {topic}: {detail}; stopping instead of "
            "dead-lettering the stream (check the producers and the schema of the topic, "
            "or raise the limit: dlq_limit_* settings)"
        )
        self.topic = topic
        self.detail = detail


class _TopicWindow:
    """The last ``window`` outcomes of one topic, as runs ``[invalid, count]``."""

    __slots__ = ("consecutive", "invalid", "runs", "total")

    def __init__(self) -> None:
        self.runs: deque[list[int]] = deque()  # [1 if invalid else 0, count]
        self.total = 0
        self.invalid = 0
        self.consecutive = 0

    def add(self, invalid: bool, count: int, window: int) -> None:
        flag = 1 if invalid else 0
        if self.runs and self.runs[-1][0] == flag:
            self.runs[-1][1] += count
        else:
            self.runs.append([flag, count])
        self.total += count
        self.invalid += count * flag
        self.consecutive = self.consecutive + count if invalid else 0
        excess = self.total - window
        while excess > 0:
            first = self.runs[0]
            dropped = min(excess, first[1])
            first[1] -= dropped
            self.total -= dropped
            self.invalid -= dropped * first[0]
            excess -= dropped
            if first[1] == 0:
                self.runs.popleft()


class DlqLimitState:
    """The outcomes seen so far, per source topic, checked against a ``DlqLimit``."""

    def __init__(self, limit: DlqLimit) -> None:
        self.limit = limit
        self._topics: dict[str, _TopicWindow] = {}

    def observe(self, topic: str, outcomes: Iterable[bool]) -> None:
        """Count ``outcomes`` (True: the message was invalid) of ``topic`` in order; raises
        ``DlqLimitExceeded`` at the first one past the limit."""
        previous: bool | None = None
        run = 0
        for invalid in outcomes:
            if invalid is previous:
                run += 1
                continue
            if previous is not None:
                self.observe_run(topic, previous, run)
            previous, run = invalid, 1
        if previous is not None:
            self.observe_run(topic, previous, run)

    def observe_run(self, topic: str, invalid: bool, count: int) -> None:
        """``count`` messages of ``topic`` in a row, all invalid or all valid."""
        if count <= 0:
            return
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _TopicWindow()
        window = self.limit.window
        if not invalid:
            # the share only falls as valid messages come, except that it is first judged
            # when the window fills: judge it there
            filling = window - state.total
            if 0 < filling < count:
                state.add(False, filling, window)
                self._check(topic, state)
                count -= filling
            state.add(False, count, window)
            self._check(topic, state)
            return
        for _ in range(count):  # rare: one at a time, to stop at the message that breaks
            state.add(True, 1, window)
            self._check(topic, state)

    def _check(self, topic: str, state: _TopicWindow) -> None:
        limit = self.limit
        if limit.max_consecutive and state.consecutive > limit.max_consecutive:
            raise DlqLimitExceeded(
                topic, f"{state.consecutive} invalid messages in a row "
                f"(the limit is {limit.max_consecutive})")
        if (limit.max_invalid_ratio < 1.0 and state.total >= limit.window
                and state.invalid > limit.max_invalid_ratio * state.total):
            raise DlqLimitExceeded(
                topic, f"{state.invalid} of the last {state.total} messages are invalid "
                f"(the limit is a share of {limit.max_invalid_ratio:g})")

    def invalid_share(self, topic: str) -> float:
        """Share of invalid messages among the last ``window`` of ``topic`` seen so far."""
        state = self._topics.get(topic)
        return state.invalid / state.total if state and state.total else 0.0

    def consecutive(self, topic: str) -> int:
        """Invalid messages of ``topic`` in a row, up to the last one seen."""
        state = self._topics.get(topic)
        return state.consecutive if state else 0
