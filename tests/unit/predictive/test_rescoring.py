"""Rescoring silent persons and persons scored by older models (``rescoring.tick``) over the
scoring stage's own state, without Kafka or ClickHouse (the profiles come from a dict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.kernel.errors import Unavailable
from streams.kernel.stage import Outcome
from streams.predictive import contract as names
from streams.predictive import rescoring
from streams.predictive.model import Scorer
from streams.predictive.scoring import Models
from streams.predictive.stage import STATES, served
from streams.settings import Settings
from tests.unit.kernel.test_stage import Memory
from tests.unit.predictive.helpers import DAY_MS, T0, interaction, lead_artefact, profile
from tests.unit.predictive.test_stage import raws_for, run

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def regular(person: str = "p_1") -> dict[str, Any]:
    """A weekly visitor and fortnightly buyer for half a year, last seen at the end of it."""
    recent = [interaction(f"{person}_tp_{w}", "touchpoint", T0 + w * 7 * DAY_MS, "click", "email")
              for w in range(26)]
    recent += [interaction(f"{person}_cv_{w}", "conversion", T0 + w * 7 * DAY_MS + 1, "purchase",
                           value=20.0, currency="EUR") for w in range(0, 26, 2)]
    recent.sort(key=lambda i: i["occurred_at"])
    return profile(person, 1, recent, ("email:x@y.net",))


class Store:
    """The profiles rescoring reads, and what it asked for."""

    def __init__(self, profiles: Sequence[Mapping[str, Any]]) -> None:
        self.profiles = {str(p["person_id"]): p for p in profiles}
        self.asked: list[list[str]] = []
        self.down = False

    def __call__(self, persons: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        if self.down:
            raise Unavailable("clickhouse", "connection refused")
        self.asked.append(list(persons))
        return {p: self.profiles[p] for p in persons if p in self.profiles}


def policy(store: Store, models: Models | None = None, **extra: Any) -> rescoring.RescorePolicy:
    return rescoring.RescorePolicy(models=lambda: models or Models(), profiles=store,
                                   source_topic=names.CUSTOMER_PROFILES, **extra)


def scores(outcome: Outcome) -> dict[tuple[str, str], dict[str, Any]]:
    columns = outcome.result.inserts.get(names.CUSTOMER_SCORES_TABLE, {})
    n = len(next(iter(columns.values()), []))
    return {(columns["person_id"][i], columns["kind"][i]): {k: v[i] for k, v in columns.items()}
            for i in range(n)}


def tick(memory: Memory, p: rescoring.RescorePolicy, now: int) -> Outcome:
    outcome = rescoring.tick(p, list(memory.tables[STATES].items()), now)
    memory.apply(outcome.changes)
    return outcome


def test_a_silent_customers_churn_risk_rises_with_time(codec: AvroCodec) -> None:
    memory, person = Memory(), regular()
    first = run(codec, raws_for(codec, [person]), memory)
    churn_then = next(r for r in first.outcome.result.outputs if r.value["kind"] == "churn")
    store = Store([person])
    p = policy(store, interval_ms=24 * HOUR_MS)
    last = int(person["updated_at"])
    risks = []
    for days in (2, 20, 45, 90):
        got = scores(tick(memory, p, last + days * DAY_MS))
        risks.append(got[("p_1", "churn")]["score"])
        assert got[("p_1", "churn")]["scored_at"] == last + days * DAY_MS
        assert got[("p_1", "churn")]["_version"] == 1  # the profile version scored
    assert risks == sorted(risks) and risks[-1] > risks[0] >= churn_then.value["score"]
    assert risks[-1] >= 25
    state = memory.tables[STATES]["p_1"]
    assert state["rescored_at"] == last + 90 * DAY_MS and state["version"] == 1
    # records are customer.scores values, with the newer scored_at
    outputs = tick(memory, p, last + 200 * DAY_MS).result.outputs
    assert {r.value["kind"] for r in outputs} == {"lead", "churn", "clv", "next_best_action"}
    for r in outputs:
        codec.encode(names.CUSTOMER_SCORES, r.value)


def test_nothing_is_rescored_within_the_interval(codec: AvroCodec) -> None:
    memory, person = Memory(), regular()
    run(codec, raws_for(codec, [person]), memory)
    store = Store([person])
    p = policy(store, interval_ms=24 * HOUR_MS)
    last = int(person["updated_at"])
    assert not scores(tick(memory, p, last + 23 * HOUR_MS))
    assert store.asked == []
    assert scores(tick(memory, p, last + 25 * HOUR_MS))
    assert not scores(tick(memory, p, last + 48 * HOUR_MS))  # rescored 23 h before
    assert scores(tick(memory, p, last + 50 * HOUR_MS))


def test_a_new_model_rescores_everyone_before_the_interval_in_batches(
        codec: AvroCodec) -> None:
    memory = Memory()
    persons = [regular(f"p_{i}") for i in range(5)]
    run(codec, raws_for(codec, persons), memory)
    assert {v["models"] for v in memory.tables[STATES].values()} == {served(Models())}
    store = Store(persons)
    scorer = Scorer.from_artefact(lead_artefact(), contributions="path")
    new = Models(lead=scorer)
    p = policy(store, new, interval_ms=30 * DAY_MS, batch=3)
    now = int(persons[0]["updated_at"]) + HOUR_MS
    first = scores(tick(memory, p, now))
    second = scores(tick(memory, p, now + 1))
    assert len({k[0] for k in first}) == 3 and len({k[0] for k in second}) == 2
    leads = [v for k, v in {**first, **second}.items() if k[1] == "lead"]
    assert {v["model_version"] for v in leads} == {f"lead_model-{scorer.version}"}
    assert {v["models"] for v in memory.tables[STATES].values()} == {served(new)}
    assert not scores(tick(memory, p, now + 2))  # all on the new model, interval not over


def test_a_profile_at_another_version_or_an_unavailable_source_rescore_nothing(
        codec: AvroCodec) -> None:
    memory, person = Memory(), regular()
    run(codec, raws_for(codec, [person]), memory)
    later = {**person, "version": 2}
    store = Store([later])
    p = policy(store, interval_ms=HOUR_MS)
    now = int(person["updated_at"]) + 2 * DAY_MS
    assert tick(memory, p, now) == Outcome()
    assert store.asked == [["p_1"]]
    store.down = True
    before = dict(memory.tables[STATES]["p_1"])
    assert tick(memory, p, now) == Outcome()
    assert memory.tables[STATES]["p_1"] == before


def test_persons_silent_too_long_are_left_alone_unless_the_model_changed(
        codec: AvroCodec) -> None:
    memory, person = Memory(), regular()
    run(codec, raws_for(codec, [person]), memory)
    store = Store([person])
    p = policy(store, interval_ms=HOUR_MS, max_silence_ms=100 * DAY_MS)
    now = int(person["updated_at"]) + 101 * DAY_MS
    assert not scores(tick(memory, p, now))
    memory.tables[STATES]["p_1"]["models"] = "lead_model-old/churn-rules-v1/cdnow"
    assert scores(tick(memory, p, now))
