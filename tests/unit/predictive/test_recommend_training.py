"""Training personalisation from the interaction history (``recommend_training``) and the
versioned models the worker serves (``recommend_store``), on simulated shoppers whose tastes
are known."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from streams.predictive.models import CURRENT
from streams.predictive.recommend_profile import PERSONALISATION_FILE
from streams.predictive.recommend_simulate import DAY_MS, shoppers
from streams.predictive.recommend_store import (
    PERSONALISATION_MODEL,
    PersonalisationSlot,
    publish_personalisation,
    read_metadata,
)
from streams.predictive.recommend_training import (
    PersonalisationPolicy,
    TrainedPersonalisation,
    events_of,
    held_out,
    segments_of,
    train_personalisation,
)
from tests.unit.predictive.helpers import shopper_rows

POLICY = PersonalisationPolicy(test_days=30)


@lru_cache(maxsize=1)
def rows() -> list[dict[str, Any]]:
    return shopper_rows(shoppers(persons=800, days=120, categories=10, per_category=10, seed=3))


@lru_cache(maxsize=1)
def trained() -> TrainedPersonalisation:
    return train_personalisation(rows(), POLICY)


def test_co_occurrence_beats_popularity_on_the_held_out_window() -> None:
    test = trained().metadata["metrics"]["test"]
    assert test["persons_evaluated"] > 100
    rates = test["hit_rate"]
    for at in ("at_5", "at_10"):
        assert 0.0 <= rates["popularity"][at] < rates["co_occurrence"][at] <= 1.0
    assert rates["co_occurrence"]["at_5"] <= rates["co_occurrence"]["at_10"]


def test_the_metadata_gives_the_data_window_and_the_split() -> None:
    meta = trained().metadata
    interactions = [r for r in rows() if r["kind"] != "profile"]
    times = [r["occurred_at"] for r in interactions]
    assert meta["data"]["events"] == len(interactions)
    assert (meta["data"]["first_event_ms"], meta["data"]["last_event_ms"]) == (min(times),
                                                                               max(times))
    assert meta["split"]["test_start_ms"] == max(times) - 30 * DAY_MS
    assert meta["data"]["segments"] == ["evening", "office"]
    assert meta["version"] == trained().model.version
    # the model served knows the whole history, the held-out window included
    assert trained().model.items.as_of == max(times)


def test_the_held_out_purchases_are_new_to_the_person_and_the_history_ends_at_the_cut() -> None:
    events = events_of(rows())
    cut = trained().metadata["split"]["test_start_ms"]
    history, bought = held_out(events, cut)
    assert bought and all(at < cut for items in history.values() for _, at, _ in items)
    for person, items in bought.items():
        assert not items & {item for item, _, _ in history[person]}


def test_segments_are_the_latest_segment_attribute() -> None:
    base = {"kind": "profile", "type": None, "campaign_id": None}
    assert segments_of([{**base, "person_id": "a", "occurred_at": 2, "attributes": {"segment": "x"}},
                        {**base, "person_id": "a", "occurred_at": 1, "attributes": {"segment": "y"}},
                        {**base, "person_id": "a", "occurred_at": 3, "attributes": {}},
                        {**base, "person_id": "b", "occurred_at": 1, "attributes": {}}]) == {"a": "x"}


def test_a_history_without_items_is_refused() -> None:
    plain = [{"person_id": "a", "event_id": "e", "kind": "touchpoint", "occurred_at": 1,
              "type": "click", "campaign_id": None, "attributes": {}}]
    with pytest.raises(ValueError, match="nothing to recommend"):
        train_personalisation(plain)


def test_published_versions_are_served_newest_and_a_broken_one_keeps_the_last(
        tmp_path: Path) -> None:
    first = trained()
    target = publish_personalisation(first.model, first.metadata, tmp_path)
    assert target == tmp_path / PERSONALISATION_MODEL / first.model.version
    assert read_metadata(target)["metrics"] == json.loads(json.dumps(first.metadata["metrics"]))
    assert publish_personalisation(first.model, first.metadata, tmp_path) == target  # same
    slot = PersonalisationSlot(tmp_path)
    assert slot.refresh() and slot.model is not None
    assert slot.model.version == first.model.version
    assert not slot.refresh()  # unchanged
    # a newer model (another window) becomes current and is served
    end = max(r["occurred_at"] for r in rows())
    newer = train_personalisation([r for r in rows() if r["occurred_at"] < end - 5 * DAY_MS],
                                  PersonalisationPolicy(test_days=30, k=3))
    assert newer.model.version != first.model.version
    publish_personalisation(newer.model, newer.metadata, tmp_path)
    assert slot.refresh() and slot.model.version == newer.model.version
    assert slot.model.k == 3
    # a broken version made current: the last good model keeps serving
    broken = tmp_path / PERSONALISATION_MODEL / "personal-broken"
    broken.mkdir()
    (broken / PERSONALISATION_FILE).write_bytes(b"not a model")
    (tmp_path / PERSONALISATION_MODEL / CURRENT).write_text("personal-broken\n")
    assert not slot.refresh()
    assert slot.model.version == newer.model.version and slot.failures == 1
    assert "not a personalisation model" in (slot.last_error or "")
    # a worker starting on the broken one stops with the reason
    with pytest.raises(ValueError, match="not a personalisation model"):
        PersonalisationSlot(tmp_path).refresh()


def test_an_older_single_file_is_served_and_no_model_serves_none(tmp_path: Path) -> None:
    slot = PersonalisationSlot(tmp_path)
    assert not slot.refresh() and slot.model is None
    trained().model.save(tmp_path / PERSONALISATION_FILE)
    assert slot.refresh() and slot.model is not None
    assert slot.model.version == trained().model.version
