"""Explained churn risk: how far a customer's behaviour has moved from their own baseline.

Five signals each add a bounded amount to a 0-100 score, and each amount comes back as a reason
(code, contribution, text), so a person can see why a customer is flagged:

- ``activity_drop``: recent activity rate against the customer's own baseline rate. The drop
  ``1 - recent / baseline`` adds nothing up to ``activity_min_drop`` and the full
  ``activity_weight`` from ``activity_full_drop`` on, linearly in between; it needs a baseline of
  at least ``min_baseline_weeks`` and ``min_baseline_rate`` (a new or rare customer's quiet week
  says nothing).
- ``sentiment_decline``: baseline mean sentiment minus recent mean sentiment (VADER compound,
  -1..1), ramped the same way between ``sentiment_min_decline`` and ``sentiment_full_decline``;
  needs ``sentiment_min_messages`` recent messages.
- ``cancellation_intent``, ``escalations``, ``failed_payments``: counts in the recent window; each
  adds ``weight * min(count, full) / full``.

Invariants:
- Each contribution lies in [0, its weight]; the weights add up to at most 100, so the score is
  the plain sum of the reasons and lies in [0, 100] without clipping.
- A missing signal contributes nothing and gives no reason; a signal that contributes 0 gives no
  reason either. Reasons come largest first.
- ``at_risk`` has hysteresis: a customer enters at ``enter_at`` and leaves only below
  ``leave_below`` (< ``enter_at``), so a score wandering around one threshold does not flap.
- Pure functions over plain dicts; invalid signals (negative counts, rates or non-finite numbers,
  sentiment outside -1..1) raise ValueError.
- ``quiet`` screens a batch with numpy: True only for customers whose ``reasons`` are none
  (and raise nothing), whose assessment is therefore that of no signals; it may say False
  of a quiet one (then ``assess`` decides), never True of another.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, TypedDict

import numpy as np
from numpy.typing import NDArray

ReasonCode = Literal["activity_drop", "sentiment_decline", "cancellation_intent", "escalations",
                     "failed_payments"]
REASON_CODES: Final[tuple[ReasonCode, ...]] = ("activity_drop", "sentiment_decline",
                                               "cancellation_intent", "escalations", "failed_payments")


class ChurnSignals(TypedDict, total=False):
    """One customer's behaviour, recent window against their own baseline; every key optional."""

    baseline_activity_per_week: float  # usual rate of purchases, sessions or messages
    recent_activity_per_week: float  # the same rate over the recent window
    baseline_weeks: float  # history behind the baseline rate
    baseline_sentiment: float  # mean VADER compound over the baseline window
    recent_sentiment: float  # mean VADER compound over the recent window
    recent_messages: int  # customer messages behind recent_sentiment
    cancellation_intents: int  # messages with a cancellation intent, recent window
    escalations: int  # conversations escalated, recent window
    failed_payments: int  # failed charges, recent window


class Reason(NamedTuple):
    code: ReasonCode
    contribution: float
    text: str


@dataclass(frozen=True)
class ChurnPolicy:
    """Weights (points out of 100) and thresholds of the churn score."""

    activity_weight: float = 30.0
    activity_min_drop: float = 0.25  # smaller drops are ordinary variation
    activity_full_drop: float = 0.9
    min_baseline_weeks: float = 4.0
    min_baseline_rate: float = 0.25  # per week
    sentiment_weight: float = 15.0
    sentiment_min_decline: float = 0.1
    sentiment_full_decline: float = 0.6
    sentiment_min_messages: int = 3
    cancellation_weight: float = 25.0
    cancellation_full: int = 2  # a second cancellation intent is no longer a passing remark
    escalation_weight: float = 10.0
    escalation_full: int = 3
    failed_payment_weight: float = 20.0
    failed_payment_full: int = 2  # one failure is often an expired card; two is a pattern
    enter_at: float = 50.0
    leave_below: float = 35.0

    def __post_init__(self) -> None:
        weights = (self.activity_weight, self.sentiment_weight, self.cancellation_weight,
                   self.escalation_weight, self.failed_payment_weight)
        if min(weights) < 0 or sum(weights) > 100.0 + 1e-9:
            raise ValueError("churn weights must be >= 0 and add up to at most 100")
        if not (0.0 <= self.activity_min_drop < self.activity_full_drop <= 1.0):
            raise ValueError("need 0 <= activity_min_drop < activity_full_drop <= 1")
        if not (0.0 <= self.sentiment_min_decline < self.sentiment_full_decline <= 2.0):
            raise ValueError("need 0 <= sentiment_min_decline < sentiment_full_decline <= 2")
        if min(self.cancellation_full, self.escalation_full, self.failed_payment_full) < 1:
            raise ValueError("the counts that give full weight must be >= 1")
        if not (0.0 < self.leave_below < self.enter_at <= 100.0):
            raise ValueError("need 0 < leave_below < enter_at <= 100")


DEFAULT_POLICY: Final = ChurnPolicy()


@dataclass(frozen=True)
class ChurnAssessment:
    score: float
    reasons: tuple[Reason, ...]
    at_risk: bool


def _number(signals: ChurnSignals, key: str, low: float = 0.0, high: float = math.inf) -> float | None:
    value = signals.get(key)
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"churn signal {key}={value!r} is outside [{low}, {high}]")
    return number


def _ramp(value: float, start: float, full: float) -> float:
    return min(1.0, max(0.0, (value - start) / (full - start)))


def _activity(signals: ChurnSignals, policy: ChurnPolicy) -> Reason | None:
    baseline = _number(signals, "baseline_activity_per_week")
    recent = _number(signals, "recent_activity_per_week")
    weeks = _number(signals, "baseline_weeks")
    if baseline is None or recent is None or weeks is None:
        return None
    if weeks < policy.min_baseline_weeks or baseline < policy.min_baseline_rate:
        return None
    drop = 1.0 - recent / baseline
    points = policy.activity_weight * _ramp(drop, policy.activity_min_drop, policy.activity_full_drop)
    if points <= 0.0:
        return None  # ``reasons`` keeps contributions above zero only: no text to write
    text = (f"Activity fell {drop:.0%} below the customer's own baseline "
            f"({recent:.2g} a week against {baseline:.2g} over {weeks:.0f} weeks)")
    return Reason("activity_drop", points, text)


def _sentiment(signals: ChurnSignals, policy: ChurnPolicy) -> Reason | None:
    baseline = _number(signals, "baseline_sentiment", -1.0, 1.0)
    recent = _number(signals, "recent_sentiment", -1.0, 1.0)
    messages = _number(signals, "recent_messages")
    if baseline is None or recent is None or messages is None:
        return None
    if messages < policy.sentiment_min_messages:
        return None
    decline = baseline - recent
    points = policy.sentiment_weight * _ramp(decline, policy.sentiment_min_decline,
                                             policy.sentiment_full_decline)
    if points <= 0.0:
        return None
    text = (f"Sentiment fell from {baseline:+.2f} to {recent:+.2f} "
            f"over the last {messages:.0f} messages")
    return Reason("sentiment_decline", points, text)


def _count(signals: ChurnSignals, key: str, code: ReasonCode, weight: float, full: int,
           what: str) -> Reason | None:
    count = _number(signals, key)
    if count is None:
        return None
    points = weight * min(count, full) / full
    if points <= 0.0:
        return None
    return Reason(code, points, f"{count:.0f} {what} recently")


def reasons(signals: ChurnSignals, policy: ChurnPolicy = DEFAULT_POLICY) -> list[Reason]:
    """The non-zero contributions, largest first (ties in the order of REASON_CODES)."""
    found = [
        _activity(signals, policy),
        _sentiment(signals, policy),
        _count(signals, "cancellation_intents", "cancellation_intent", policy.cancellation_weight,
               policy.cancellation_full, "messages with a cancellation intent"),
        _count(signals, "escalations", "escalations", policy.escalation_weight,
               policy.escalation_full, "escalated conversations"),
        _count(signals, "failed_payments", "failed_payments", policy.failed_payment_weight,
               policy.failed_payment_full, "failed payments"),
    ]
    kept = [reason for reason in found if reason is not None and reason.contribution > 0.0]
    return sorted(kept, key=lambda reason: -reason.contribution)


def at_risk(score: float, previously_at_risk: bool, policy: ChurnPolicy = DEFAULT_POLICY) -> bool:
    """Enter at ``enter_at``; once in, stay until the score falls below ``leave_below``."""
    return score >= (policy.leave_below if previously_at_risk else policy.enter_at)


def assess(signals: ChurnSignals, previously_at_risk: bool = False,
           policy: ChurnPolicy = DEFAULT_POLICY) -> ChurnAssessment:
    """Score, reasons and the at-risk decision of one customer."""
    found = reasons(signals, policy)
    score = min(100.0, sum(reason.contribution for reason in found))
    return ChurnAssessment(score, tuple(found), at_risk(score, previously_at_risk, policy))


def assess_many(signals: Mapping[str, ChurnSignals], previously_at_risk: Mapping[str, bool],
                policy: ChurnPolicy = DEFAULT_POLICY) -> dict[str, ChurnAssessment]:
    """Batch form: assessments by customer id; a customer not in ``previously_at_risk`` was not."""
    return {customer: assess(values, previously_at_risk.get(customer, False), policy)
            for customer, values in signals.items()}



#: the signals ``reasons`` reads, in ``quiet``'s column order, with their valid ranges
_READ: Final = ("baseline_activity_per_week", "recent_activity_per_week", "baseline_weeks",
                "baseline_sentiment", "recent_sentiment", "recent_messages",
                "cancellation_intents", "escalations", "failed_payments")
_ABSENT: Final = (math.nan,) * len(_READ)
_LOW: Final = np.array([0.0, 0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0])
_HIGH: Final = np.array([math.inf, math.inf, math.inf, 1.0, 1.0, *(math.inf,) * 4])


def quiet(signals: Sequence[ChurnSignals], policy: ChurnPolicy = DEFAULT_POLICY
          ) -> NDArray[np.bool_]:
    """Per customer, True when ``reasons(signals, policy)`` is empty and raises nothing, by
    the same tests on the whole batch at once (most customers are quiet): no signal invalid,
    no activity drop past ``activity_min_drop`` (or a zero baseline) where the baseline
    counts, no sentiment decline past ``sentiment_min_decline`` where the messages do, no
    count above zero. A value numpy cannot read as a number leaves the customer to
    ``assess``."""
    rows = [list(map(s.get, _READ, _ABSENT)) for s in signals]
    try:
        x = np.array(rows, dtype=np.float64).reshape(len(rows), len(_READ))
    except (TypeError, ValueError):
        return np.zeros(len(rows), dtype=np.bool_)
    present = ~np.isnan(x)
    if int(x.size - present.sum()) != x.size - sum(map(len, signals)):
        # a NaN that is not an absent signal (a NaN or None value, another key): told apart
        table = np.array([list(map(s.get, _READ)) for s in signals],
                         dtype=object).reshape(len(rows), len(_READ))
        present = np.asarray(table != None, dtype=np.bool_)  # noqa: E711 - elementwise
    with np.errstate(all="ignore"):
        bad = (present & ~(np.isfinite(x) & (x >= _LOW) & (x <= _HIGH))).any(axis=1)
        baseline, recent, weeks = x[:, 0], x[:, 1], x[:, 2]
        activity = (present[:, :3].all(axis=1) & (weeks >= policy.min_baseline_weeks)
                    & (baseline >= policy.min_baseline_rate)
                    & ((baseline == 0.0) | ~(1.0 - recent / baseline <= policy.activity_min_drop)))
        messages = x[:, 5]
        sentiment = (present[:, 3:6].all(axis=1) & (messages >= policy.sentiment_min_messages)
                     & ~(x[:, 3] - x[:, 4] <= policy.sentiment_min_decline))
        counts = (x[:, 6:] > 0.0).any(axis=1)
    return ~(bad | activity | sentiment | counts)  # type: ignore[no-any-return]
