"""The scoring stage computed as the runtime computes it (``streams.kernel.stage.compute``),
without Kafka: four predictions per changed profile with the model version on each, rows that
fill ``customer_scores`` and records that are ``customer.scores`` values, state across
batches, redelivery, the rule fallback, a loaded model, clipping and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import Raw
from streams.kernel.stage import Computed, compute
from streams.predictive import contract as names
from streams.predictive import stage as pstage
from streams.predictive.model import Scorer
from streams.predictive.models import CDNOW_CLV
from streams.predictive.scoring import KINDS, RECORD_FIELDS, SCORE_COLUMNS, Models
from streams.settings import Settings
from tests.unit.kernel.test_stage import Memory
from tests.unit.predictive.helpers import (
    DAY_MS,
    T0,
    churn_artefact,
    interaction,
    lead_artefact,
    profile,
)

NOW = T0 + 400 * DAY_MS


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raws_for(codec: AvroCodec, profiles: list[dict[str, Any]], first: int = 0,
             key: str | None = None) -> list[Raw]:
    return [Raw(names.CUSTOMER_PROFILES, 1, first + i, p["updated_at"],
                (key or p["person_id"]).encode(), codec.encode(names.CUSTOMER_PROFILES, p))
            for i, p in enumerate(profiles)]


def run(codec: AvroCodec, raws: list[Raw], memory: Memory, models: Models | None = None
        ) -> Computed:
    stage = pstage.stage(pstage.ScoringPolicy(lambda: models or Models()))
    decoders = {names.CUSTOMER_PROFILES: codec.decoder(names.CUSTOMER_PROFILES)}
    inputs = {i.topic: i for i in stage.inputs}
    computed = compute(stage, raws, decoders, inputs, memory.lookup, lambda t: t + ".dlq", NOW)
    memory.apply(computed.outcome.changes)
    return computed


def rows(computed: Computed) -> list[dict[str, Any]]:
    columns = computed.outcome.result.inserts.get(names.CUSTOMER_SCORES_TABLE, {})
    n = len(next(iter(columns.values()), []))
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]


def by_kind(computed: Computed, person: str = "p_1") -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in rows(computed) if r["person_id"] == person}


def engaged(person: str = "p_1", version: int = 1, chats: int = 2,
            purchases: int = 0) -> dict[str, Any]:
    recent = [interaction(f"tp_{i}", "touchpoint", T0 + i * DAY_MS, "click",
                          ("paid_search", "email", "social")[i % 3]) for i in range(6)]
    recent += [interaction(f"chat_{i}", "touchpoint", T0 + (6 + i) * DAY_MS, "chat_session",
                           "chat") for i in range(chats)]
    recent += [interaction(f"cv_{i}", "conversion", T0 + (20 + 30 * i) * DAY_MS, "purchase",
                           value=50.0 + i, currency="USD") for i in range(purchases)]
    recent.sort(key=lambda i: i["occurred_at"])
    return profile(person, version, recent, ("email:x@y.net", "customer_id:c1"))


def test_a_profile_gets_four_predictions_from_the_rules_when_no_model_is_loaded(
        codec: AvroCodec) -> None:
    computed = run(codec, raws_for(codec, [engaged()]), Memory())
    got = by_kind(computed)
    assert sorted(got) == sorted(KINDS)
    assert got["lead"]["model_version"] == "rules-v1" and got["lead"]["probability"] is None
    assert 0 < got["lead"]["score"] <= 100
    assert any(r.startswith("CHAT_RECENT:") for r in got["lead"]["reasons"])
    assert got["churn"]["model_version"] == "churn-rules-v1"
    assert got["clv"]["model_version"] == CDNOW_CLV.version
    assert got["clv"]["label"] == "not_a_customer" and got["clv"]["score"] == 0.0
    assert got["next_best_action"]["model_version"] == "nba-rules-v1"
    assert all(r["profile_version"] == 1 and r["_offset"] == 0 for r in got.values())
    assert computed.counts["events.processed", names.CUSTOMER_PROFILES] == 1


def test_rows_fill_the_table_and_records_are_avro_values(codec: AvroCodec) -> None:
    computed = run(codec, raws_for(codec, [engaged(purchases=3)]), Memory())
    ddl = (SCHEMAS_DIR / "clickhouse" / "0050_customer_scores.sql").read_text()
    body = ddl[ddl.index("(") + 1:ddl.index("ENGINE")]
    table_columns = {m.group(1) for m in re.finditer(r"^\s+(\w+)\s+\S", body, re.MULTILINE)}
    assert set(SCORE_COLUMNS) == table_columns - {"_ingested_at"}
    assert set(computed.outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]) == set(SCORE_COLUMNS)
    schema = json.loads((SCHEMAS_DIR / "avro" / "customer_score.v1.avsc").read_text())
    assert tuple(f["name"] for f in schema["fields"]) == RECORD_FIELDS
    records = computed.outcome.result.outputs
    assert len(records) == 4 and {r.topic for r in records} == {names.CUSTOMER_SCORES}
    for record in records:
        assert record.key == "p_1" and set(record.value) == set(RECORD_FIELDS)
        decoded = codec.decoder(names.CUSTOMER_SCORES)([codec.encode(names.CUSTOMER_SCORES,
                                                                     record.value)])[0]
        assert decoded == record.value


def test_a_customer_gets_a_lifetime_value(codec: AvroCodec) -> None:
    clv = by_kind(run(codec, raws_for(codec, [engaged(purchases=3)]), Memory()))["clv"]
    assert clv["label"] == "USD" and clv["score"] > 0
    assert 0 < clv["probability"] <= 1
    assert clv["details"]["frequency"] == "2"  # repeat purchases: the first one is not a repeat
    assert float(clv["details"]["expected_purchases_12m"]) > 0


def test_redelivered_and_unchanged_profiles_score_nothing(codec: AvroCodec) -> None:
    memory = Memory()
    first = engaged()
    run(codec, raws_for(codec, [first]), memory)
    assert rows(run(codec, raws_for(codec, [first]), memory)) == []  # redelivery
    same = {**first, "version": 2, "attributes": {"country": "FR"}}  # nothing scores read
    assert rows(run(codec, raws_for(codec, [same], first=1), memory)) == []
    assert memory.tables[names.SCORE_STATES]["p_1"]["version"] == 2
    assert memory.tables[names.SCORE_STATES]["p_1"]["offset"] == 1
    more = engaged(version=3, chats=3)
    assert {r["profile_version"] for r in rows(run(codec, raws_for(codec, [more], first=2),
                                                   memory))} == {3}


def test_a_batch_scores_each_person_once_at_their_latest_version(codec: AvroCodec) -> None:
    batch = [engaged("p_1", 1, chats=0), engaged("p_2", 1), engaged("p_1", 2, chats=1)]
    got = rows(run(codec, raws_for(codec, batch), Memory()))
    assert sorted((r["person_id"], r["profile_version"]) for r in got if r["kind"] == "lead") == [
        ("p_1", 2), ("p_2", 1)]


def test_purchases_that_leave_the_recent_list_still_count(codec: AvroCodec) -> None:
    memory = Memory()
    run(codec, raws_for(codec, [engaged(purchases=3)]), memory)
    later = engaged(version=2, chats=3)  # its recent list no longer holds the purchases
    later["updated_at"] = later["last_seen"] = T0 + 100 * DAY_MS
    clv = by_kind(run(codec, raws_for(codec, [later], first=1), memory))["clv"]
    assert clv["details"]["frequency"] == "2"


def test_merged_profiles_are_skipped_and_bad_keys_dead_lettered(codec: AvroCodec) -> None:
    merged = {**engaged(), "merged_into": "p_9"}
    wrong_key = raws_for(codec, [engaged("p_2")], first=1, key="p_3")
    computed = run(codec, raws_for(codec, [merged]) + wrong_key, Memory())
    assert rows(computed) == []
    assert [d.raw.offset for d in computed.dead] == [1]
    assert "is not the person id" in computed.dead[0].reason


def test_a_loaded_model_scores_with_its_version_and_reasons(codec: AvroCodec) -> None:
    scorer = Scorer.from_artefact(lead_artefact(), contributions="path")
    lead = by_kind(run(codec, raws_for(codec, [engaged(chats=3)]), Memory(),
                       Models(lead=scorer)))["lead"]
    assert lead["model_version"] == f"lead_model-{scorer.version}"
    assert lead["probability"] is not None and 0.0 <= lead["probability"] <= 1.0
    assert lead["score"] == pytest.approx(lead["probability"] * 100, abs=0.01)
    assert lead["reasons"] and all(": " in r for r in lead["reasons"])


def test_out_of_range_features_are_clipped_and_named(codec: AvroCodec) -> None:
    scorer = Scorer.from_artefact(lead_artefact(), contributions="path")
    huge = {**engaged(), "touchpoints": 10**12}
    lead = by_kind(run(codec, raws_for(codec, [huge]), Memory(), Models(lead=scorer)))["lead"]
    assert "touchpoints_total" in lead["details"]["clipped"].split(",")
    assert 0.0 <= lead["score"] <= 100.0


def test_churn_risk_follows_the_persons_own_baseline(codec: AvroCodec) -> None:
    # a weekly buyer and visitor for half a year, then silent for two months, then one visit
    recent = [interaction(f"tp_{w}", "touchpoint", T0 + w * 7 * DAY_MS, "click", "email")
              for w in range(26)]
    recent += [interaction(f"cv_{w}", "conversion", T0 + w * 7 * DAY_MS + 1, "purchase",
                           value=20.0, currency="EUR") for w in range(0, 26, 2)]
    recent.append(interaction("tp_back", "touchpoint", T0 + 26 * 7 * DAY_MS + 60 * DAY_MS,
                              "visit", "direct"))
    recent.sort(key=lambda i: i["occurred_at"])
    quiet = profile("p_1", 1, recent, ("email:x@y.net",))
    got = by_kind(run(codec, raws_for(codec, [quiet]), Memory()))
    assert got["churn"]["score"] >= 25 and got["churn"]["reasons"][0].startswith("ACTIVITY_DROP:")
    assert got["clv"]["label"] == "EUR"


def test_next_best_action_is_a_rule_with_its_figures(codec: AvroCodec) -> None:
    anonymous = profile("p_1", 1, identifiers=("anonymous_id:a1",))
    action = by_kind(run(codec, raws_for(codec, [anonymous]), Memory()))["next_best_action"]
    assert action["label"] == "capture_email"
    assert set(action["details"]) == {"lead_score", "churn_risk", "expected_value_12m"}


def test_scoring_keeps_no_reference_to_the_models_it_was_given(tmp_path: Path,
                                                               codec: AvroCodec) -> None:
    # the models are read as each batch starts: a model published between batches is used
    memory = Memory()
    first = run(codec, raws_for(codec, [engaged(chats=1)]), memory)
    scorer = Scorer.from_artefact(lead_artefact(), contributions="path")
    second = run(codec, raws_for(codec, [engaged(version=2, chats=2)], first=1), memory,
                 Models(lead=scorer))
    assert by_kind(first)["lead"]["model_version"] == "rules-v1"
    assert by_kind(second)["lead"]["model_version"].startswith("lead_model-")


def test_a_loaded_churn_model_scores_churn_with_its_version(codec: AvroCodec) -> None:
    scorer = Scorer.from_artefact(churn_artefact(), contributions="path")
    got = by_kind(run(codec, raws_for(codec, [engaged(purchases=3)]), Memory(),
                      Models(churn=scorer)))
    assert got["churn"]["model_version"] == f"churn_model-{scorer.version}"
    assert got["churn"]["probability"] is not None
    assert got["churn"]["label"] in ("at_risk", "ok")
    assert got["lead"]["model_version"] == "rules-v1"  # each kind names its own model
