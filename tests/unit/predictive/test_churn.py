"""Churn risk: bounded, explained contributions against the customer's own baseline; hysteresis."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from typing import cast

import numpy as np
import pytest

from streams.predictive import churn
from streams.predictive.churn import (
    DEFAULT_POLICY,
    ChurnPolicy,
    ChurnSignals,
    assess,
    quiet,
    reasons,
)

POLICY = churn.DEFAULT_POLICY
STEADY: ChurnSignals = {"baseline_activity_per_week": 2.0, "recent_activity_per_week": 2.1,
                        "baseline_weeks": 26, "baseline_sentiment": 0.3, "recent_sentiment": 0.35,
                        "recent_messages": 8, "cancellation_intents": 0, "escalations": 0,
                        "failed_payments": 0}
WORST: ChurnSignals = {"baseline_activity_per_week": 2.0, "recent_activity_per_week": 0.0,
                       "baseline_weeks": 26, "baseline_sentiment": 0.5, "recent_sentiment": -0.8,
                       "recent_messages": 12, "cancellation_intents": 5, "escalations": 9,
                       "failed_payments": 4}


def codes(assessment: churn.ChurnAssessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


def test_a_steady_customer_scores_zero_without_reasons() -> None:
    assessment = churn.assess(STEADY)
    assert assessment == churn.ChurnAssessment(0.0, (), False)
    assert churn.assess({}) == churn.ChurnAssessment(0.0, (), False)


def test_every_signal_at_its_worst_gives_the_sum_of_the_weights() -> None:
    assessment = churn.assess(WORST)
    assert assessment.score == pytest.approx(100.0)
    assert assessment.at_risk
    assert dict((r.code, r.contribution) for r in assessment.reasons) == pytest.approx({
        "activity_drop": 30.0, "cancellation_intent": 25.0, "failed_payments": 20.0,
        "sentiment_decline": 15.0, "escalations": 10.0})
    assert codes(assessment) == ["activity_drop", "cancellation_intent", "failed_payments",
                                 "sentiment_decline", "escalations"]


def test_activity_drop_ramps_between_its_thresholds() -> None:
    def points(recent: float) -> float:
        reasons = churn.reasons({"baseline_activity_per_week": 4.0, "recent_activity_per_week": recent,
                                 "baseline_weeks": 12})
        return reasons[0].contribution if reasons else 0.0

    assert points(4.0) == points(3.0) == 0.0  # a 25 % dip is ordinary
    assert points(0.4) == pytest.approx(30.0)  # 90 % below: full weight
    assert points(0.0) == pytest.approx(30.0)
    halfway = (0.25 + 0.9) / 2
    assert points(4.0 * (1 - halfway)) == pytest.approx(15.0)
    assert points(8.0) == 0.0  # busier than usual is no risk


def test_activity_is_judged_only_against_a_real_baseline() -> None:
    silent: ChurnSignals = {**STEADY, "recent_activity_per_week": 0.0}
    assert codes(churn.assess(silent)) == ["activity_drop"]
    assert churn.assess({**silent, "baseline_weeks": 2}).score == 0.0  # a new customer
    assert churn.assess({**silent, "baseline_activity_per_week": 0.1}).score == 0.0  # a rare one


def test_sentiment_decline_needs_enough_recent_messages() -> None:
    soured: ChurnSignals = {"baseline_sentiment": 0.4, "recent_sentiment": -0.2, "recent_messages": 5}
    reason, = churn.reasons(soured)
    assert reason.code == "sentiment_decline" and reason.contribution == pytest.approx(15.0)
    assert "+0.40" in reason.text and "-0.20" in reason.text
    assert churn.reasons({**soured, "recent_messages": 2}) == []
    assert churn.reasons({**soured, "recent_sentiment": 0.5}) == []  # improving


def test_counts_saturate_at_their_full_count() -> None:
    def points(**counts: int) -> float:
        return churn.assess(ChurnSignals(**counts)).score  # type: ignore[typeddict-item]

    assert points(cancellation_intents=1) == pytest.approx(12.5)
    assert points(cancellation_intents=2) == points(cancellation_intents=7) == pytest.approx(25.0)
    assert points(escalations=1) == pytest.approx(10 / 3)
    assert points(failed_payments=1) == pytest.approx(10.0)


def test_the_score_is_the_sum_of_its_reasons_and_stays_within_bounds() -> None:
    grid: dict[str, list[float]] = {
        "recent_activity_per_week": [0.0, 1.0, 2.0], "recent_sentiment": [-1.0, 0.0, 0.3],
        "cancellation_intents": [0, 1, 3], "escalations": [0, 2, 5], "failed_payments": [0, 1, 2]}
    for values in itertools.product(*grid.values()):
        signals = {**STEADY, **dict(zip(grid, values, strict=True))}
        assessment = churn.assess(signals)  # type: ignore[arg-type]
        assert 0.0 <= assessment.score <= 100.0
        assert assessment.score == pytest.approx(sum(r.contribution for r in assessment.reasons))
        assert all(r.contribution > 0 and r.text for r in assessment.reasons)
        contributions = [r.contribution for r in assessment.reasons]
        assert contributions == sorted(contributions, reverse=True)


def test_at_risk_has_hysteresis() -> None:
    # A customer whose score wanders between 40 and 55 enters once and does not flap.
    scores = [20, 45, 55, 45, 40, 52, 38, 30, 45, 20]
    state, path = False, []
    for score in scores:
        state = churn.at_risk(score, state)
        path.append(state)
    assert path == [False, False, True, True, True, True, True, False, False, False]
    assert churn.assess(WORST, previously_at_risk=True).at_risk
    moderate: ChurnSignals = {"cancellation_intents": 1, "failed_payments": 1, "escalations": 3}
    assert churn.assess(moderate).score == pytest.approx(32.5)
    assert not churn.assess(moderate, previously_at_risk=False).at_risk
    assert not churn.assess(moderate, previously_at_risk=True).at_risk  # below leave_below
    mixed: ChurnSignals = {**moderate, "cancellation_intents": 2}
    assert churn.assess(mixed, previously_at_risk=True).at_risk
    assert not churn.assess(mixed, previously_at_risk=False).at_risk


def test_assess_many_carries_each_customers_previous_decision() -> None:
    result = churn.assess_many({"a": WORST, "b": STEADY, "c": {"cancellation_intents": 2,
                                                               "escalations": 3}},
                               {"c": True})
    assert {k: v.at_risk for k, v in result.items()} == {"a": True, "b": False, "c": True}


def test_invalid_signals_are_refused() -> None:
    for bad in ({"escalations": -1}, {"recent_sentiment": 1.5, "baseline_sentiment": 0.0,
                                      "recent_messages": 3}, {"failed_payments": float("nan")}):
        with pytest.raises(ValueError, match="outside"):
            churn.assess(bad)  # type: ignore[arg-type]


def test_policies_are_frozen_and_checked() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.enter_at = 10.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="100"):
        ChurnPolicy(activity_weight=60.0)
    with pytest.raises(ValueError, match="leave_below"):
        ChurnPolicy(enter_at=30.0, leave_below=40.0)
    strict = ChurnPolicy(enter_at=20.0, leave_below=10.0)
    assert churn.assess({"failed_payments": 2}, policy=strict).at_risk
    assert not churn.assess({"failed_payments": 2}).at_risk


def _random_signals(rng: random.Random) -> ChurnSignals:
    """Signals around every threshold, with absent, invalid and odd values among them."""
    pool: dict[str, tuple[object, ...]] = {
        "baseline_activity_per_week": (0.0, 0.2, 0.25, 1.0, 4.0, -1.0, math.nan, math.inf),
        "recent_activity_per_week": (0.0, 0.75, 3.0, 1.0, 4.0, -0.5, math.nan),
        "baseline_weeks": (0.0, 3.9, 4.0, 12.5, -2.0),
        "baseline_sentiment": (-1.0, 0.0, 0.3, 0.5, 1.0, 1.5),
        "recent_sentiment": (-1.0, 0.2, 0.4, 0.5, -1.2),
        "recent_messages": (0, 2, 3, 9),
        "cancellation_intents": (0, 1, 3, -1),
        "escalations": (0, 2, True),
        "failed_payments": (0, 1, 5, math.nan),
    }
    chosen: dict[str, object] = {k: rng.choice(v) for k, v in pool.items() if rng.random() < 0.6}
    return cast(ChurnSignals, chosen)


def test_quiet_customers_are_those_without_reasons() -> None:
    rng = random.Random(11)
    batch = [_random_signals(rng) for _ in range(3000)]
    for policy in (DEFAULT_POLICY, ChurnPolicy(min_baseline_rate=0.0)):
        screened = quiet(batch, policy).tolist()
        for signals, still in zip(batch, screened, strict=True):
            if still:  # then reasons finds nothing and raises nothing
                assert reasons(signals, policy) == []
                assert assess(signals, True, policy) == assess(ChurnSignals(), True, policy)
        assert 100 < sum(screened) < 2900  # both kinds of customer are in the batch
    assert quiet([], DEFAULT_POLICY).tolist() == []
    odd = ChurnSignals(escalations="two")  # type: ignore[typeddict-item]
    assert quiet([odd], DEFAULT_POLICY).tolist() == [False]


def _quiet_reference(signals: list[ChurnSignals], policy: ChurnPolicy) -> list[bool]:
    """``quiet`` telling absent signals from present ones one by one (None: absent)."""
    rows = [[s.get(k) for k in churn._READ] for s in signals]
    table = np.array(rows, dtype=object).reshape(len(rows), len(churn._READ))
    present = np.asarray(table != None, dtype=np.bool_)  # noqa: E711 - elementwise
    try:
        x = np.where(present, table, math.nan).astype(np.float64)
    except (TypeError, ValueError):
        return [False] * len(rows)
    with np.errstate(all="ignore"):
        bad = (present & ~(np.isfinite(x) & (x >= churn._LOW) & (x <= churn._HIGH))).any(axis=1)
        baseline, recent, weeks = x[:, 0], x[:, 1], x[:, 2]
        activity = (present[:, :3].all(axis=1) & (weeks >= policy.min_baseline_weeks)
                    & (baseline >= policy.min_baseline_rate)
                    & ((baseline == 0.0) | ~(1.0 - recent / baseline <= policy.activity_min_drop)))
        sentiment = (present[:, 3:6].all(axis=1) & (x[:, 5] >= policy.sentiment_min_messages)
                     & ~(x[:, 3] - x[:, 4] <= policy.sentiment_min_decline))
        counts = (x[:, 6:] > 0.0).any(axis=1)
    return (~(bad | activity | sentiment | counts)).tolist()  # type: ignore[no-any-return]


@pytest.mark.parametrize("odd", ["none", "nan", "extra", "plain"])
def test_quiet_tells_absent_signals_from_nan_none_and_other_keys(odd: str) -> None:
    rng = random.Random(len(odd))
    batch = []
    for _ in range(400):
        signals = {k: v for k, v in _random_signals(rng).items()
                   if not (isinstance(v, float) and math.isnan(v))}
        if rng.random() < 0.05:
            key = rng.choice(churn._READ)
            if odd == "none":
                signals[key] = None
            elif odd == "nan":
                signals[key] = math.nan
            elif odd == "extra":
                signals["something_else"] = 1.0
        batch.append(cast(ChurnSignals, signals))
    assert quiet(batch, DEFAULT_POLICY).tolist() == _quiet_reference(batch, DEFAULT_POLICY)
