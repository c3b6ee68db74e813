"""Scoring from a saved artefact: versions, integrity checks, clipping, reasons naming the signal."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from streams.predictive.model import Scorer
from streams.predictive.model_artefact import ArtefactError, load_artefact, save_artefact
from streams.predictive.training import FeatureTable, TrainingConfig, TrainingResult, train
from streams.predictive.training_synthetic import HORIZON_MS, LEAD_REASON_CODES, lead_table


@pytest.fixture(scope="module")
def leads() -> FeatureTable:
    return lead_table(persons=4000, seed=5)


@pytest.fixture(scope="module")
def trained(leads: FeatureTable) -> TrainingResult:
    return train(leads, TrainingConfig(label_horizon_ms=HORIZON_MS))


@pytest.fixture
def saved(trained: TrainingResult, tmp_path: Path) -> Path:
    return save_artefact(trained.artefact, tmp_path / "models")


def test_saved_artefact_round_trips_with_its_content_version(trained: TrainingResult, saved: Path,
                                                             leads: FeatureTable) -> None:
    version = trained.artefact.version
    assert saved.name == version and len(version) == 16
    assert sorted(p.name for p in saved.iterdir()) == [
        "calibrator.json", "drift_reference.json", "features.json", "manifest.json", "metadata.json",
        "model.txt"]
    loaded = load_artefact(saved)
    assert loaded == trained.artefact and loaded.version == version
    assert save_artefact(loaded, saved.parent) == saved  # same content, same place
    features = json.loads((saved / "features.json").read_text())
    assert [f["name"] for f in features] == list(leads.names)
    assert {f["name"]: f["dtype"] for f in features}["demo_requested"] == "bool"
    assert {f["name"]: f["dtype"] for f in features}["pricing_visits_7d"] == "int"
    metadata = json.loads((saved / "metadata.json").read_text())
    assert set(metadata) >= {"window", "metrics", "params", "best_iteration", "lightgbm_version"}
    # Scores from the loaded model are those of the model in memory.
    x = leads.values[:200]
    assert ([r.score for r in Scorer.load(saved).score(x)]
            == [r.score for r in Scorer.from_artefact(trained.artefact).score(x)])


@pytest.mark.parametrize("damage", ["missing model", "edited model", "bad json", "edited manifest"])
def test_a_damaged_artefact_is_refused_with_a_clear_error(saved: Path, damage: str) -> None:
    if damage == "missing model":
        (saved / "model.txt").unlink()
        expected = "model.txt is missing"
    elif damage == "edited model":
        text = (saved / "model.txt").read_text()
        (saved / "model.txt").write_text(text.replace("leaf_value=", "leaf_value=1", 1))
        expected = "model.txt does not match"
    elif damage == "bad json":
        (saved / "manifest.json").write_text("{not json")
        expected = "manifest.json is not valid JSON"
    else:
        manifest = json.loads((saved / "manifest.json").read_text())
        manifest["version"] = "0" * 16
        (saved / "manifest.json").write_text(json.dumps(manifest))
        expected = "is not the content hash"
    with pytest.raises(ArtefactError, match=expected):
        Scorer.load(saved)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match="no such directory"):
        Scorer.load(tmp_path / "nothing")


def test_a_replaced_content_file_with_matching_manifest_is_still_caught(saved: Path, tmp_path: Path,
                                                                        trained: TrainingResult) -> None:
    # Consistent hashes but content that does not parse into a model: never scored.
    other = tmp_path / "other"
    shutil.copytree(saved, other)
    (other / "calibrator.json").write_text('{"method": "magic"}')
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["files"]["calibrator.json"] = hashlib.sha256(b'{"method": "magic"}').hexdigest()
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtefactError):
        load_artefact(other)


def test_scores_carry_version_and_follow_the_calibrated_probability(trained: TrainingResult,
                                                                     leads: FeatureTable) -> None:
    scorer = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES)
    results = scorer.score(leads.values[:1000])
    assert len(results) == 1000
    assert {r.model_version for r in results} == {trained.artefact.version}
    assert all(0.0 <= r.score <= 100.0 and r.score == round(r.probability * 100, 2) for r in results)
    assert len({r.score for r in results}) > 5  # not a constant
    plain = scorer.score(leads.values[:1000], reasons=False)
    assert [r.probability for r in plain] == pytest.approx([r.probability for r in results], abs=1e-12)
    assert all(r.positive == () and r.negative == () for r in plain)
    assert any(r.positive for r in results) and any(r.negative for r in results)
    assert scorer.score(np.empty((0, len(leads.names)))) == []
    with pytest.raises(ValueError, match="expected"):
        scorer.score(leads.values[:3, :2])


def test_reasons_name_the_planted_feature(trained: TrainingResult, leads: FeatureTable) -> None:
    scorer = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES)
    column = leads.names.index("pricing_visits_7d")
    hot = leads.values[leads.values[:, column] >= 3][:300]
    cold = leads.values[leads.values[:, column] == 0][:300]
    assert hot.shape[0] >= 50 and cold.shape[0] >= 50
    hot_top = [r.positive[0].code if r.positive else None for r in scorer.score(hot)]
    assert hot_top.count("PRICING_INTEREST") / len(hot_top) > 0.9
    cold_results = scorer.score(cold)
    cold_codes = [[n.code for n in r.negative] for r in cold_results]
    assert sum("PRICING_INTEREST" in codes for codes in cold_codes) / len(cold_codes) > 0.9
    example = next(r for r in cold_results if r.negative and r.negative[0].code == "PRICING_INTEREST")
    assert example.negative[0].text == "visited pricing only 0 times in 7 days"
    assert example.negative[0].contribution < 0
    assert np.mean([r.score for r in scorer.score(hot)]) > 2 * np.mean([r.score for r in cold_results])


def test_out_of_range_values_are_clipped_and_flagged(trained: TrainingResult) -> None:
    scorer = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES)
    spec = {f.name: f for f in trained.artefact.features}
    top = spec["pricing_visits_7d"].maximum
    base = {name: (f.minimum + f.maximum) / 2 for name, f in spec.items()}
    at_max, beyond, missing = scorer.score_rows([
        {**base, "pricing_visits_7d": top},
        {**base, "pricing_visits_7d": top * 50, "company_size": -5.0},
        {**base, "pricing_visits_7d": None}])
    assert at_max.clipped == () and missing.clipped == ()
    assert set(beyond.clipped) == {"pricing_visits_7d", "company_size"}
    assert beyond.score == pytest.approx(scorer.score_rows([
        {**base, "pricing_visits_7d": top, "company_size": spec["company_size"].minimum}])[0].score)
    pricing = next(r for r in beyond.positive if r.feature == "pricing_visits_7d")
    assert pricing.value == top * 50  # the reason quotes what was received


@pytest.mark.parametrize("contributions", ["shap", "path"])
def test_score_lines_are_the_scores_and_reasons_of_score(trained: TrainingResult, leads: FeatureTable,
                                                         contributions: str) -> None:
    scorer = Scorer.from_artefact(trained.artefact, LEAD_REASON_CODES,
                                  contributions=contributions)  # type: ignore[arg-type]
    x = leads.values[:500].copy()
    x[::7, 0] = np.nan  # missing values format as "unknown", one cache entry for all of them
    x[::11, 0] = 1e6  # out of the training range: clipped and named
    results = scorer.score(x)
    lines = scorer.score_lines(x)
    assert lines.scores == [r.score for r in results]
    assert lines.probabilities == [r.probability for r in results]
    assert lines.positive == [tuple(f"{p.code}: {p.text}" for p in r.positive) for r in results]
    assert lines.negative == [tuple(f"{n.code}: {n.text}" for n in r.negative) for r in results]
    assert lines.clipped == [r.clipped for r in results]
    assert any(lines.clipped) and any(lines.positive) and any(lines.negative)
    assert scorer.score_lines(np.empty((0, len(leads.names)))).scores == []
