"""Text made once per distinct value (reason lines, next-best-action figures, repeat purchases):
the same text as made afresh, whatever the cache holds, including after it is emptied."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streams.predictive import reasons, rules, scoring
from streams.predictive.churn import ChurnSignals
from streams.predictive.reasons import ReasonCode, reason_codes_for, reason_lines, top_reasons
from streams.predictive.rfm import RfmSummary
from streams.predictive.scoring import Models, Scored, predict

NAMES = ("visits", "demo", "tenure")
CODES = reason_codes_for(NAMES, {
    "visits": ReasonCode("VISITS", "visited {value} times", "visited only {value} times"),
    "demo": ReasonCode("DEMO", "requested a demo", "has not requested a demo")})


def _expected(values: np.ndarray, contrib: np.ndarray
              ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    picked = top_reasons(NAMES, CODES, values, contrib, top_k=2, min_effect=0.05)
    return ([tuple(f"{r.code}: {r.text}" for r in up) for up, _ in picked],
            [tuple(f"{r.code}: {r.text}" for r in down) for _, down in picked])


def test_reason_lines_are_those_of_top_reasons_for_repeated_and_missing_values() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(300, 3)).astype(np.float64)
    values[rng.random((300, 3)) < 0.2] = np.nan  # missing: "unknown"
    values[:5, 2] = [0.5, -0.0, 0.0, 1e9, 2.25]
    contrib = rng.normal(0.0, 0.5, size=(300, 3))
    first = reason_lines(CODES, values, contrib, top_k=2, min_effect=0.05)
    assert first == _expected(values, contrib)
    # the second pass reads every line from the tables: the same lines
    assert reason_lines(CODES, values, contrib, top_k=2, min_effect=0.05) == first
    assert any("unknown" in line for lines in first[0] + first[1] for line in lines)


def test_reason_line_tables_emptied_at_their_limit_give_the_same_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reasons, "_LINES_LIMIT", 2)
    monkeypatch.setattr(reasons, "_LINES", {})
    values = np.arange(30, dtype=np.float64).reshape(10, 3)
    contrib = np.tile([0.5, -0.5, 0.2], (10, 1))
    assert reason_lines(CODES, values, contrib, top_k=2, min_effect=0.05) == \
        _expected(values, contrib)
    assert all(len(t) <= 2 for tables in reasons._LINES.values() for ts in tables for t in ts)


@pytest.mark.parametrize("score", [0.0, -0.0, 0.04, 0.05, 0.15, 49.95, 70.0, 99.99, 100.0,
                                   math.nan])
def test_tenths_are_the_formatted_score_cached_or_not(score: float) -> None:
    assert rules._tenths(score) == f"{score:.1f}"
    assert rules._tenths(score) == f"{score:.1f}"  # from the cache, where kept


def test_zero_is_never_cached_so_its_sign_is_kept() -> None:
    assert (rules._tenths(0.0), rules._tenths(-0.0), rules._tenths(0.0)) == ("0.0", "-0.0", "0.0")


def _scored(person: str, frequency: int | None, signals: ChurnSignals) -> Scored:
    summary = None if frequency is None else RfmSummary(frequency, 3.0, 10.0, 25.0, "USD",
                                                        "weeks")
    profile = {"person_id": person, "version": 1, "updated_at": 1, "attributes": {}, "tags": []}
    return Scored(profile, {"has_email": 1.0}, signals, summary, False, "t", 0, 0)


def test_repeat_purchase_text_and_quiet_churn_predictions_are_fresh_per_person() -> None:
    batch = [_scored("a", 2, {}), _scored("b", 2, {}), _scored("c", 0, {}),
             _scored("d", None, {}), _scored("e", 12, {"failed_payments": 3, "escalations": 2})]
    scoring._REPEATS.clear()
    first = predict(Models(), batch)
    again = predict(Models(), batch)  # the texts now come from the caches
    assert first == again
    values = [p[2] for p in first]
    assert values[0].details["frequency"] == "2"
    assert values[0].reasons[0] == "REPEAT_PURCHASES: 2 repeat purchases"
    assert values[2].reasons[0] == "REPEAT_PURCHASES: 0 repeat purchases"
    assert values[4].reasons[0] == "REPEAT_PURCHASES: 12 repeat purchases"
    churn = [p[1] for p in first]
    assert churn[0] == churn[1] and churn[0].details is not churn[1].details
    assert churn[4].score > churn[0].score and churn[4].reasons  # assessed, not quiet


def test_reason_lines_cut_per_row_with_rows_without_picks_and_no_rows() -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 3, size=(40, 3)).astype(np.float64)
    contrib = rng.normal(0.0, 0.5, size=(40, 3))
    contrib[::4] = 0.0  # no pick at all
    contrib[1::4] = np.abs(contrib[1::4]) + 0.1  # positive picks only
    contrib[2::4] = -np.abs(contrib[2::4]) - 0.1  # negative picks only
    got = reason_lines(CODES, values, contrib, top_k=2, min_effect=0.05)
    assert got == _expected(values, contrib)
    assert got[0][0] == () and got[1][0] == () and got[1][1] == () and got[0][2] == ()
    empty = np.zeros((0, 3))
    assert reason_lines(CODES, empty, empty, top_k=2, min_effect=0.05) == ([], [])
