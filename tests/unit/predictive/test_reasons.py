"""Reason codes from contributions: ordering, thresholds, templates, defaults."""

from __future__ import annotations

import numpy as np
import pytest

from streams.predictive.reasons import ReasonCode, format_value, reason_codes_for, top_reasons

NAMES = ("pricing_visits_7d", "demo_requested", "tenure_days")
CODES = reason_codes_for(NAMES, {
    "pricing_visits_7d": ReasonCode("PRICING", "visited pricing {value} times in 7 days",
                                    "visited pricing only {value} times in 7 days"),
    "demo_requested": ReasonCode("DEMO", "requested a demo", "has not requested a demo"),
})


def test_positive_and_negative_drivers_strongest_first() -> None:
    values = np.array([[3.0, 0.0, 12.5]])
    contrib = np.array([[1.2, -0.4, 0.3]])
    [(positive, negative)] = top_reasons(NAMES, CODES, values, contrib, top_k=2)
    assert [r.code for r in positive] == ["PRICING", "TENURE_DAYS"]
    assert positive[0].text == "visited pricing 3 times in 7 days"
    assert positive[1].text == "tenure_days is 12.5"
    assert [(r.code, r.text) for r in negative] == [("DEMO", "has not requested a demo")]


def test_small_effects_give_no_reason_and_negative_template_applies() -> None:
    values = np.array([[0.0, 1.0, 5.0], [1.0, 1.0, 5.0]])
    contrib = np.array([[-0.9, 0.001, -0.002], [0.0, 0.0, 0.0]])
    first, second = top_reasons(NAMES, CODES, values, contrib, top_k=3, min_effect=0.01)
    assert first[0] == ()
    assert [r.text for r in first[1]] == ["visited pricing only 0 times in 7 days"]
    assert second == ((), ())


def test_codes_for_unknown_features_are_refused() -> None:
    with pytest.raises(ValueError, match="does not have"):
        reason_codes_for(NAMES, {"nope": ReasonCode("X", "x")})


def test_value_formatting() -> None:
    assert format_value(3.0) == "3"
    assert format_value(0.12345) == "0.123"
    assert format_value(float("nan")) == "unknown"
