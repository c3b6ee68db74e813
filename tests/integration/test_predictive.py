"""The scoring stage on the real broker and engine: profiles in, four predictions per person
in ``customer_scores`` and on ``customer.scores`` with the model version on every row; a model
published as corrupt while the worker runs is refused and the last good one keeps scoring; a
personalisation model published while it runs is served from the next profiles on; a corrupt
profile (the worker reads them with the compiled decoder) is dead-lettered as undecodable. And
``touchstream train lead-score`` on generated history in ClickHouse."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Consumer, Producer

from streams.cli.train import train
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from streams.predictive import contract as names
from streams.predictive.history_synthetic import histories
from streams.predictive.models import CURRENT, LEAD_MODEL, publish
from streams.predictive.recommend_simulate import shoppers
from streams.predictive.recommend_store import publish_personalisation
from streams.predictive.recommend_training import train_personalisation
from streams.settings import get_settings
from tests.integration.conftest import Pipeline, _free_port, eventually
from tests.unit.predictive.helpers import (
    DAY_MS,
    T0,
    event_columns,
    interaction,
    lead_artefact,
    profile,
    shopper_rows,
)

pytestmark = pytest.mark.integration
PERSONS = 40


def profiles(version: int, chats: int) -> list[OutputRecord]:
    out = []
    for n in range(PERSONS):
        recent = [interaction(f"tp_{n}_{i}", "touchpoint", T0 + i * DAY_MS, "click", "email")
                  for i in range(1 + n % 5)]
        recent += [interaction(f"chat_{n}_{i}", "touchpoint", T0 + (6 + i) * DAY_MS,
                               "chat_session", "chat") for i in range(chats)]
        if n % 3 == 0:
            recent += [interaction(f"cv_{n}_{i}", "conversion", T0 + (10 + 5 * i) * DAY_MS,
                                   "purchase", value=40.0, currency="USD") for i in range(3)]
        recent.sort(key=lambda i: i["occurred_at"])
        value = profile(f"p_{n:04d}", version, recent, ("email:x@y.net",))
        out.append(OutputRecord(names.CUSTOMER_PROFILES, value["person_id"], value))
    return out


def score_rows(pipeline: Pipeline) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in pipeline.querier().sql(
        "SELECT person_id, kind, model_version, profile_version, score FROM customer_scores "
        "FINAL ORDER BY person_id, kind").rows]


def consume(pipeline: Pipeline, expected: int, timeout: float = 60) -> list[dict[str, Any]]:
    decode = pipeline.codec.decoder(names.CUSTOMER_SCORES)
    consumer = Consumer({"bootstrap.servers": pipeline.settings.kafka_bootstrap_servers,
                         "group.id": "inspect-scores", "auto.offset.reset": "earliest"})
    consumer.subscribe([pipeline.settings.topic(names.CUSTOMER_SCORES)])
    values: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(values) < expected:
        for m in consumer.consume(500, timeout=0.5):
            if m.error() is None:
                one = decode([m.value()])[0]
                assert isinstance(one, dict) and m.key() == one["person_id"].encode()
                values.append(one)
    consumer.close()
    return values


@pytest.fixture
def scoring(pipeline: Pipeline) -> Iterator[Pipeline]:
    """The pipeline; the data folder its worker leaves in its working directory (ours) goes
    after."""
    yield pipeline
    pipeline.stop_workers()
    shutil.rmtree(Path.cwd() / f"{pipeline.settings.app_id}-data", ignore_errors=True)


def test_profiles_are_scored_and_a_corrupt_model_keeps_the_last_one(
        scoring: Pipeline, tmp_path: Path) -> None:
    pipeline = scoring
    models = tmp_path / "models"
    good = publish(lead_artefact(), models)
    pipeline.env["TOUCHSTREAM_PREDICTIVE_MODEL_DIR"] = str(models)
    pipeline.env["TOUCHSTREAM_PREDICTIVE_MODEL_RELOAD_SECONDS"] = "0.5"
    pipeline.start_worker()
    produce_records(pipeline.settings, profiles(1, chats=0), encode=pipeline.codec.encode)
    lead_version = f"lead_model-{good.name}"

    def scored(version: int) -> bool:
        got = score_rows(pipeline)
        return len(got) == 4 * PERSONS and all(r[3] == version for r in got)

    eventually(lambda: scored(1), timeout=120)
    got = score_rows(pipeline)
    assert all(r[2] for r in got)  # a model version on every row
    assert {r[2] for r in got if r[1] == "lead"} == {lead_version}
    assert {r[1] for r in got} == {"lead", "churn", "clv", "next_best_action"}
    assert {r[2] for r in got if r[1] == "clv"} == {"clv-cdnow-2005"}
    records = consume(pipeline, 4 * PERSONS)
    assert len(records) >= 4 * PERSONS
    assert all(r["model_version"] for r in records)
    assert {(r["person_id"], r["kind"]) for r in records} == {(r[0], r[1]) for r in got}

    # a profile with a byte too many, and one cut short: dead letters, nothing scored
    valid = pipeline.codec.encode(names.CUSTOMER_PROFILES, profiles(9, chats=1)[0].value)
    producer = Producer(pipeline.settings.kafka_client_config())
    for value in (valid + b"\x00", valid[:-7]):
        producer.produce(pipeline.settings.topic(names.CUSTOMER_PROFILES), key=b"p_0000",
                         value=value)
    assert producer.flush(30) == 0
    eventually(lambda: pipeline.querier().sql(
        "SELECT count() FROM dead_letters FINAL").rows[0][0] == 2, timeout=60)
    letters = pipeline.querier().sql("SELECT error, reason FROM dead_letters FINAL").rows
    assert {r[0] for r in letters} == {"undecodable"}
    # the compiled decoder's words (fastavro's reader would count the bytes left)
    assert any("TrailingBytes: bytes left after the record" in r[1] for r in letters)
    assert score_rows(pipeline) == got

    # a new version is published corrupt (its model truncated after the manifest was written)
    newer = publish(type(lead_artefact())(**{**lead_artefact().__dict__,
                                             "metadata": {**lead_artefact().metadata, "n": 2}}),
                    models)
    (newer / "model.txt").write_text("tree\nnot a model\n")
    assert (models / LEAD_MODEL / CURRENT).read_text().strip() == newer.name

    def refused() -> bool:
        return pipeline.stats("counters").get("timer.errors{predictive_models}", 0) >= 1

    eventually(refused, timeout=30)
    produce_records(pipeline.settings, profiles(2, chats=2), encode=pipeline.codec.encode)
    eventually(lambda: scored(2), timeout=120)
    after = score_rows(pipeline)
    assert {r[2] for r in after if r[1] == "lead"} == {lead_version}
    assert all(0.0 <= r[4] <= 100.0 for r in after if r[1] == "lead")
    assert "cannot be loaded, still serving" in pipeline.worker_logs()

    # a personalisation model published while the worker runs serves the next profiles
    world = shoppers(persons=200, days=60, categories=4, per_category=5, seed=1)
    personal = train_personalisation(shopper_rows(world)).model
    publish_personalisation(personal, {}, models)
    eventually(lambda: f"serving personalisation model {personal.version}"
               in pipeline.worker_logs(), timeout=30)
    produce_records(pipeline.settings, profiles(3, chats=3), encode=pipeline.codec.encode)
    eventually(lambda: scored(3), timeout=120)
    served = pipeline.querier().sql(
        "SELECT details['personalisation_version'], details['recommended'] FROM customer_scores "
        "FINAL WHERE kind = 'next_best_action'").rows
    assert len(served) == PERSONS
    assert {r[0] for r in served} == {personal.version}
    assert all(r[1].startswith("product:") for r in served)


def train_on_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]],
                   args: list[str]) -> tuple[Result, Path]:
    """``touchstream train <args>`` on a fresh embedded store holding ``rows`` in
    customer_events; (its result, the model directory)."""
    store = tmp_path / "clickhouse"
    with ClickHouse(f"chdb://{store}") as clickhouse:
        migrate(clickhouse)
        clickhouse.insert("customer_events", event_columns(rows))
    models = tmp_path / "models"
    monkeypatch.setenv("TOUCHSTREAM_CLICKHOUSE_URL", f"chdb://{store}")
    monkeypatch.setenv("TOUCHSTREAM_PREDICTIVE_MODEL_DIR", str(models))
    monkeypatch.setenv("TOUCHSTREAM_WEB_PORT", str(_free_port()))  # no worker answers there
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(train, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result, models


def test_train_lead_score_from_the_history_in_clickhouse(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rows = histories(persons=300, days=240, seed=21)
    result, models = train_on_store(tmp_path, monkeypatch, rows, [
        "lead-score", "--until", "2026-09-01", "--days", "300", "--horizon-days", "7",
        "--cutoffs-per-person", "6"])
    version = (models / LEAD_MODEL / CURRENT).read_text().strip()
    metadata = json.loads((models / LEAD_MODEL / version / "metadata.json").read_text())
    assert metadata["data"]["events"] == len(rows)
    assert "chat_sessions_30d" in metadata["features"]
    window = metadata["window"]
    assert window["train_start_ms"] < window["calibration_start_ms"] < window["test_start_ms"]
    assert 0.5 < metadata["metrics"]["test"]["roc_auc"] <= 1.0
    assert "ROC-AUC" in result.output
