"""Creative fatigue against the creative's own early life, frequency AND / OR cap."""

from __future__ import annotations

from streams.marketing.rules import Totals
from streams.marketing.rules_fatigue import CreativeWindow, FatiguePolicy, fatigue_rule

POLICY = FatiguePolicy()


def creative(recent_clicks: float, early_f: float | None = 2.0, recent_f: float | None = 3.0,
             age: float = 20) -> CreativeWindow:
    return CreativeWindow("ad1", "c1", age, 3, early=Totals(50_000, 1000, 500.0, 20, 2000.0),
                          recent=Totals(30_000, recent_clicks, 300.0, 10, 900.0),
                          early_frequency=early_f, recent_frequency=recent_f)


def test_decay_with_rising_frequency_asks_for_a_refresh() -> None:
    [rec] = fatigue_rule(creative(420), POLICY, 0)  # CTR 1.4 % against 2 %: 70 %
    assert rec.action == "refresh_creative" and not rec.is_change
    assert abs(rec.data["ctr_ratio"] - 0.7) < 1e-9 and rec.confidence > 0.99
    assert rec.entity == "creative:ad1"


def test_deep_decay_pauses() -> None:
    [rec] = fatigue_rule(creative(300), POLICY, 0)  # 50 %
    assert rec.action == "pause_creative" and rec.is_change


def test_flat_frequency_below_the_cap_is_not_fatigue() -> None:
    assert fatigue_rule(creative(420, early_f=3.0, recent_f=3.1), POLICY, 0) == []


def test_frequency_over_the_cap_fires_on_a_mild_decay() -> None:
    # 90 % of the early CTR is no fatigue by decay alone, but frequency 7 is over the cap of 6.
    assert fatigue_rule(creative(540, early_f=6.5, recent_f=7.0), POLICY, 0)[0].rationale.startswith(
        "frequency over the cap")
    assert fatigue_rule(creative(540, early_f=2.0, recent_f=3.0), POLICY, 0) == []


def test_young_creative_and_unknown_frequency() -> None:
    assert fatigue_rule(creative(300, age=5), POLICY, 0) == []
    [rec] = fatigue_rule(creative(420, early_f=None, recent_f=None), POLICY, 0)
    assert "not reported" in rec.rationale


def test_no_decay_no_alert() -> None:
    assert fatigue_rule(creative(600), POLICY, 0) == []
