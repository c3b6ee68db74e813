"""Training rows from the interaction history: features as of each cut-off (no leakage),
labels from the window after it, incomplete windows left out, and conversations that matter
on the generated histories."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.predictive.features import BEHAVIOUR_FEATURES, FEATURES, lead_features
from streams.predictive.history import (
    HISTORY_SQL,
    HistoryPolicy,
    churn_table,
    lead_table,
    profile_as_of,
    train_lead_model,
)
from streams.predictive.history_synthetic import histories
from tests.unit.predictive.helpers import DAY_MS, T0, event_columns


def event(person: str, eid: str, kind: str, day: float, type_: str | None = None,
          channel: str | None = None) -> dict[str, object]:
    return {"person_id": person, "event_id": eid, "kind": kind,
            "occurred_at": T0 + int(day * DAY_MS), "type": type_, "channel": channel,
            "campaign_id": None, "value": 10.0 if kind == "conversion" else None,
            "currency": "USD" if kind == "conversion" else None,
            "identifiers": [f"email:{person}@x.net"]}


def test_the_profile_as_of_an_event_holds_nothing_after_it() -> None:
    events = [event("p", f"e{i}", "touchpoint", i, "click", "email") for i in range(10)]
    rebuilt = profile_as_of("p", events, 4, recent_limit=3)
    assert rebuilt["touchpoints"] == 5 and rebuilt["updated_at"] == T0 + 4 * DAY_MS
    assert [i["event_id"] for i in rebuilt["recent"]] == ["e2", "e3", "e4"]
    features = lead_features(rebuilt, rebuilt["updated_at"])
    assert features["touchpoints_7d"] == 3 and features["touchpoints_total"] == 5
    assert math.isnan(features["days_since_chat"])


def test_labels_come_from_the_window_after_the_cut_off_and_incomplete_ones_are_left_out() -> None:
    rows = [event("a", "a1", "touchpoint", 0, "click", "email"),
            event("a", "a2", "conversion", 5, "purchase"),
            event("b", "b1", "touchpoint", 0, "click", "email"),
            event("b", "b2", "conversion", 20, "purchase"),
            event("c", "c1", "touchpoint", 31, "click", "email")]  # the end of the history
    table = lead_table(rows, HistoryPolicy(horizon_ms=10 * DAY_MS, cutoffs_per_person=10))
    cut = {(int(c), int(lbl)) for c, lbl in zip(table.cutoff_ms, table.labels, strict=True)}
    # a at day 0 buys on day 5; b at day 0 buys only on day 20; b's purchase on day 20 has a
    # complete window (day 31 is the end) with nothing in it; a at day 5 too; c has none
    assert cut == {(T0 + 1, 1), (T0 + 1, 0), (T0 + 5 * DAY_MS + 1, 0), (T0 + 20 * DAY_MS + 1, 0)}
    assert table.feature_time_ms is not None
    assert (table.feature_time_ms < table.cutoff_ms).all()
    # the purchase a row is labelled with is never among its features
    bought = table.values[:, FEATURES.index("prior_purchases")]
    assert bought[table.labels == 1].tolist() == [0.0]


def test_conversation_features_add_to_the_model_on_generated_histories() -> None:
    rows = histories(persons=500, days=200, seed=5)
    policy = HistoryPolicy(horizon_ms=7 * DAY_MS, cutoffs_per_person=6)
    with_chat = train_lead_model(rows, policy, names=FEATURES)
    without = train_lead_model(rows, policy, names=BEHAVIOUR_FEATURES)
    assert with_chat.test.roc_auc > without.test.roc_auc
    assert with_chat.test.pr_auc > without.test.pr_auc
    metadata = with_chat.artefact.metadata
    assert metadata["features"] == list(FEATURES)
    assert metadata["data"]["events"] == len(rows)
    window = metadata["window"]
    assert window["train_start_ms"] < window["calibration_start_ms"] < window["test_start_ms"]
    assert np.isfinite(with_chat.test.brier)


def test_churn_rows_are_customers_and_label_a_silent_window() -> None:
    rows = [event("a", "a1", "conversion", 0, "purchase"),
            event("a", "a2", "touchpoint", 10, "click", "email"),  # active again within 30 days
            event("b", "b1", "conversion", 0, "purchase"),  # then silent
            event("c", "c1", "touchpoint", 0, "click", "email"),  # never bought: no churn row
            event("d", "d1", "touchpoint", 100, "click", "email")]  # the end of the history
    table = churn_table(rows, HistoryPolicy(horizon_ms=30 * DAY_MS, cutoffs_per_person=10))
    got = sorted(zip(table.cutoff_ms.tolist(), table.labels.tolist(), strict=True))
    # a after its purchase comes back (0), then goes quiet after day 10 (1); b goes quiet (1)
    assert got == [(T0 + 1, 0), (T0 + 1, 1), (T0 + 10 * DAY_MS + 1, 1)]
    assert table.names[-4:] == ("baseline_activity_per_week", "recent_activity_per_week",
                                "baseline_weeks", "failed_payments")
    assert table.values[:, table.names.index("failed_payments")].tolist() == [0.0, 0.0, 0.0]


def test_the_history_query_gives_the_rows_the_generator_made(tmp_path: Path) -> None:
    rows = histories(persons=40, days=120, seed=8)
    n = len(rows)
    columns = event_columns(rows)
    with ClickHouse(f"chdb://{tmp_path / 'ch'}") as clickhouse:
        migrate(clickhouse)
        clickhouse.insert("customer_events", columns)
        end = max(r["occurred_at"] for r in rows)
        got = clickhouse.query(HISTORY_SQL, {"since": T0, "until": end}).dicts()
    assert len(got) == n - 1  # the window's end is exclusive
    policy = HistoryPolicy(horizon_ms=7 * DAY_MS)
    expected = lead_table([r for r in rows if r["occurred_at"] < end], policy)
    table = lead_table(got, policy)
    assert np.array_equal(table.values, expected.values, equal_nan=True)
    assert np.array_equal(table.labels, expected.labels)
