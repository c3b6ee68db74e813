"""``touchstream train personalisation`` end to end on a store: simulated shoppers' history in
ClickHouse's ``customer_events``, the command trains, measures hit rates on the held-out latest
window and publishes a version; the worker's slot serves it and the scoring stage's next best
action carries its recommendations."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.kernel.records import Raw
from streams.kernel.stage import Events
from streams.predictive import contract as names
from streams.predictive.models import CURRENT
from streams.predictive.recommend_simulate import shoppers
from streams.predictive.recommend_store import (
    PERSONALISATION_MODEL,
    PersonalisationSlot,
    read_metadata,
)
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy, step
from tests.integration.test_predictive import train_on_store
from tests.unit.predictive.helpers import interaction, profile, shopper_rows

pytestmark = pytest.mark.integration


def test_train_personalisation_from_the_history_in_clickhouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = shoppers(persons=500, days=120, categories=10, per_category=10, seed=5)
    rows = shopper_rows(world)
    result, models = train_on_store(tmp_path, monkeypatch, rows, [
        "personalisation", "--until", "2026-06-01", "--days", "200", "--test-days", "30"])
    assert "co_occurrence" in result.output and "popularity" in result.output
    version = (models / PERSONALISATION_MODEL / CURRENT).read_text().strip()
    metadata = read_metadata(models / PERSONALISATION_MODEL / version)
    interactions = [r for r in rows if r["kind"] != "profile"]
    assert metadata["data"]["events"] == len(interactions)
    assert metadata["data"]["last_event_ms"] == max(r["occurred_at"] for r in interactions)
    assert metadata["data"]["segments"] == ["evening", "office"]
    rates = metadata["metrics"]["test"]["hit_rate"]
    assert rates["co_occurrence"]["at_10"] > rates["popularity"]["at_10"]

    slot = PersonalisationSlot(models)
    assert slot.refresh() and slot.model is not None and slot.model.version == version
    # a profile's interactions name campaigns, not products: a new person gets the popular
    # products, with the model's version
    recent = [{**interaction("v1", "touchpoint", interactions[-1]["occurred_at"], "site_visit",
                             "direct"), "attributes": {}}]
    value = profile("c_new", 1, recent)
    outcome = step(ScoringPolicy(lambda: Models(personalisation=slot.model)),
                   Events([Raw(names.CUSTOMER_PROFILES, 0, 0, 1, b"c_new", None)], [value]),
                   lambda _, key: None, 1)
    columns = outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]
    action = columns["details"][columns["kind"].index("next_best_action")]
    assert action["personalisation_version"] == version
    assert len(action["recommended"].split(",")) == 5
    assert set(action["recommended_because"].split(",")) == {"popular"}
