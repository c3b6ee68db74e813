from __future__ import annotations

import pytest

from streams.conversation import journey as j


def build(values: list[float]) -> j.Journey:
    journey = j.empty()
    for i, value in enumerate(values):
        journey = j.add(journey, 1000 * i, value)
    return journey


def test_slope_is_least_squares_over_the_last_points() -> None:
    assert j.slope([]) == 0.0 and j.slope([0.5]) == 0.0
    assert j.slope([0.0, -0.2, -0.4]) == pytest.approx(-0.2)
    assert j.slope([0.0, 0.1, 0.0, 0.1]) == pytest.approx(0.02)
    # only the last TREND_POINTS count
    assert j.slope([9.0, 9.0, 0.0, 0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.1)


def test_worst_point_recovery_and_recovered_state() -> None:
    journey = build([0.0, -0.6, -0.2, 0.4])
    assert journey["worst"] == -0.6 and journey["worst_at"] == 1000
    assert j.recovery(journey) == pytest.approx(1.0)
    assert journey["state"] == "recovered"
    assert journey["first"] == 0.0 and j.last(journey) == 0.4
    assert j.mean(journey) == pytest.approx(-0.1)


def test_worsening_needs_three_points_and_a_negative_end() -> None:
    assert build([0.3, 0.0, -0.3])["state"] == "worsening"
    assert build([0.1, -0.5])["state"] == "negative"  # two points: no trend yet
    assert build([0.9, 0.6, 0.3])["state"] == "positive"  # falling but still positive


def test_final_state_by_ewma() -> None:
    assert build([])["state"] == "neutral"
    assert build([0.5, 0.6])["state"] == "positive"
    assert build([0.0, 0.02])["state"] == "neutral"
    flat_negative = build([-0.4, -0.4, -0.4])
    assert flat_negative["state"] == "negative" and flat_negative["ewma"] == pytest.approx(-0.4)
    assert build([0.5, -0.5])["ewma"] == pytest.approx(0.4 * -0.5 + 0.6 * 0.5)


def test_bounded_and_pure() -> None:
    journey = build([0.1] * 30)
    assert journey["count"] == 30
    assert len(journey["compound"]) == len(journey["at"]) == j.MAX_POINTS
    before = list(journey["compound"])
    j.add(journey, 99, -1.0)
    assert journey["compound"] == before
