"""The model slot: the current version is served, a new one is picked up, a broken one never
replaces the last good model, and a required model that is missing stops the worker."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from streams.predictive.models import (
    CDNOW_CLV,
    CURRENT,
    LEAD_MODEL,
    ModelSlot,
    ModelUnavailable,
    clv_params,
    current_version,
    publish,
)
from tests.unit.predictive.helpers import lead_artefact


def test_nothing_to_load_scores_with_the_rules_unless_a_model_is_required(tmp_path: Path) -> None:
    slot = ModelSlot(tmp_path / LEAD_MODEL)
    assert slot.refresh() is False and slot.scorer is None
    assert "no model" in (slot.last_error or "")
    with pytest.raises(ModelUnavailable, match="predictive_require_model"):
        ModelSlot(tmp_path / LEAD_MODEL, required=True).refresh()


def test_the_published_version_is_served_and_a_new_one_replaces_it(tmp_path: Path) -> None:
    first = publish(lead_artefact(), tmp_path)
    assert current_version(tmp_path / LEAD_MODEL) == first.name
    slot = ModelSlot(tmp_path / LEAD_MODEL)
    assert slot.refresh() is True and slot.version == first.name
    assert slot.refresh() is False  # nothing changed: not loaded again
    newer = dataclasses.replace(lead_artefact(), metadata={**lead_artefact().metadata, "n": 2})
    second = publish(newer, tmp_path)
    assert second.name != first.name
    assert slot.refresh() is True and slot.version == second.name


def test_a_corrupt_model_keeps_the_last_good_one(tmp_path: Path) -> None:
    good = publish(lead_artefact(), tmp_path)
    slot = ModelSlot(tmp_path / LEAD_MODEL)
    slot.refresh()
    model = good / "model.txt"
    model.write_text(model.read_text()[:500])  # truncated in place
    os.utime(model, None)
    assert slot.refresh() is False
    assert slot.version == good.name and slot.failures == 1
    assert "SHA-256" in (slot.last_error or "")
    (tmp_path / LEAD_MODEL / CURRENT).write_text("no-such-version\n")  # a dangling pointer
    assert slot.refresh() is False and slot.version == good.name and slot.failures == 2


def test_a_required_model_that_is_corrupt_from_the_start_stops(tmp_path: Path) -> None:
    good = publish(lead_artefact(), tmp_path)
    (good / "calibrator.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match="does not match"):
        ModelSlot(tmp_path / LEAD_MODEL, required=True).refresh()
    slot = ModelSlot(tmp_path / LEAD_MODEL)
    assert slot.refresh() is False and slot.scorer is None and slot.failures == 1


def test_clv_parameters_default_to_the_published_fit_and_refuse_a_bad_file(tmp_path: Path) -> None:
    assert clv_params(tmp_path) == CDNOW_CLV
    (tmp_path / "clv.json").write_text(json.dumps({
        "bgnbd": {"r": 0.3, "alpha": 5.0, "a": 0.8, "b": 2.5},
        "gamma_gamma": {"p": 6.0, "q": 3.8, "gamma": 15.0}, "version": "clv-fit-1"}))
    assert clv_params(tmp_path).version == "clv-fit-1"
    (tmp_path / "clv.json").write_text("{\"bgnbd\": {}}")
    with pytest.raises(ModelUnavailable, match="malformed"):
        clv_params(tmp_path)
