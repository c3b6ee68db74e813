"""Scores as triggers: ``customer.scores`` records folded into the person's view by the
workflows stage (computed as the runtime computes it), next to the profiles."""

from __future__ import annotations

from typing import Any

import pytest

from agents.runtime.stage import StateTables
from streams.contract.codec import AvroCodec
from streams.kernel.records import Raw
from streams.kernel.stage import Computed, Table, compute
from streams.settings import Settings
from streams.workflows import contract as names
from streams.workflows import stage as wstage
from streams.workflows.engine import WorkflowPolicy, fold
from streams.workflows.fields import from_profile, from_score, sha256_of
from tests.unit.runtime.test_stage_tables import FakeApp
from tests.unit.workflows.helpers import CONSENTING, SEED, at, only, profile, score
from tests.unit.workflows.test_stage import Memory

POLICY = wstage.WorkflowStagePolicy(workflows=SEED, source_topic=names.CUSTOMER_PROFILES,
                                    scores_topic=names.CUSTOMER_SCORES)
STAGE = wstage.stage(POLICY)
NOW = at("2026-03-05T12:00")
T = at("2026-03-02T10:00")


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raw(codec: AvroCodec, topic: str, value: dict[str, Any], offset: int,
        key: str | None = None) -> Raw:
    return Raw(topic, 1, offset, T, (key or value["person_id"]).encode(),
               codec.encode(topic, value))


def run(codec: AvroCodec, raws: list[Raw], memory: Memory) -> Computed:
    decoders = {t: codec.decoder(t) for t in (names.CUSTOMER_PROFILES, names.CUSTOMER_SCORES)}
    inputs = {i.topic: i for i in STAGE.inputs}
    computed = compute(STAGE, raws, decoders, inputs, memory.lookup, lambda t: t + ".dlq", NOW)
    memory.apply(computed.outcome.changes)
    return computed


def fired(computed: Computed) -> list[tuple[str, str, str]]:
    return sorted((o.key, o.value["workflow_id"], o.value["action_type"])
                  for o in computed.outcome.result.outputs)


def test_the_stage_reads_both_topics_when_scores_are_wired() -> None:
    assert [i.topic for i in STAGE.inputs] == [names.CUSTOMER_PROFILES, names.CUSTOMER_SCORES]
    alone = wstage.stage(wstage.WorkflowStagePolicy(SEED, names.CUSTOMER_PROFILES))
    assert [i.topic for i in alone.inputs] == [names.CUSTOMER_PROFILES]


def test_a_lead_score_crossing_70_fires_the_nurture_on_the_profile_it_knows(
        codec: AvroCodec) -> None:
    memory = Memory()
    lead = {**profile("p1", 1, T, stage="lead"),
            "identifiers": ["customer_id:p1", "email:Ann@Example.com"]}
    first = run(codec, [raw(codec, names.CUSTOMER_PROFILES, lead, 0),
                        raw(codec, names.CUSTOMER_SCORES, score("p1", "lead", 55, T + 10), 0)],
                memory)
    assert fired(first) == []
    second = run(codec, [raw(codec, names.CUSTOMER_SCORES, score("p1", "lead", 82, T + 20), 1)],
                 memory)
    [action] = second.outcome.result.outputs
    assert (action.value["workflow_id"], action.value["trigger_event_id"]) == (
        "lead_nurture", f"score:p1:lead:{T + 20}")
    assert action.value["params"]["to"] == "Ann@Example.com"  # the profile's contact
    rows = second.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    assert rows["_topic"] == [names.CUSTOMER_SCORES] and rows["_offset"] == [1]
    # the same score again (a redelivery), and an older one, decide nothing
    again = run(codec, [raw(codec, names.CUSTOMER_SCORES, score("p1", "lead", 82, T + 20), 2),
                        raw(codec, names.CUSTOMER_SCORES, score("p1", "lead", 95, T + 15), 3)],
                memory)
    assert again.outcome.result.outputs == [] and not again.outcome.changes[wstage.STATES]


def test_churn_risk_high_starts_the_retention_play_on_a_customer(codec: AvroCodec) -> None:
    memory = Memory()
    customer = profile("p2", 3, T, stage="customer", attributes={**CONSENTING, "timezone": "UTC"})
    computed = run(codec, [raw(codec, names.CUSTOMER_PROFILES, customer, 0),
                           raw(codec, names.CUSTOMER_SCORES,
                               score("p2", "churn", 83, T + 5, label="high"), 0)], memory)
    assert fired(computed) == [("p2", "at_risk_retention", "chat"),
                               ("p2", "at_risk_retention", "crm_task"),
                               ("p2", "at_risk_retention", "email")]
    # no email address on the profile: the email is decided without one (delivery fails it)
    email = next(o for o in computed.outcome.result.outputs if o.value["action_type"] == "email")
    assert "to" not in email.value["params"]


def test_a_score_before_its_profile_fires_once_the_conditions_hold(codec: AvroCodec) -> None:
    memory = Memory()
    early = run(codec, [raw(codec, names.CUSTOMER_SCORES, score("p3", "clv", 900.0, T), 0)],
                memory)
    assert fired(early) == []  # no lifecycle stage known yet
    known = {**profile("p3", 1, T + 1000, stage="lead"),
             "identifiers": ["email:p3@example.com", "phone:+4915112345678"]}
    later = run(codec, [raw(codec, names.CUSTOMER_PROFILES, known, 0)], memory)
    [action] = later.outcome.result.outputs
    assert action.value["workflow_id"] == "lookalike_high_value"
    assert action.value["params"]["email_sha256"] == sha256_of("email", "p3@example.com")
    assert action.value["params"]["phone_sha256"] == sha256_of("phone", "+49 151 12345678")
    assert "to" not in action.value["params"]  # an audience never carries a raw contact


def test_the_view_keeps_the_latest_score_of_each_kind() -> None:
    state, _ = fold(None, from_profile(profile("p4", 1, T, stage="customer")), (), WorkflowPolicy())
    for kind, value, label in (("lead", 40.0, ""), ("churn", 20.0, "low"),
                               ("next_best_action", 0.0, "offer_upgrade"),
                               ("churn", 75.0, "high")):
        state, _ = fold(state, from_score(score("p4", kind, value, T + len(label) + int(value),
                                                label)), (), WorkflowPolicy())
    view = state["view"]
    assert view["score"] == {"lead": 40.0, "churn": 75.0}
    assert view["next_best_action"] == "offer_upgrade"
    assert view["score_labels"]["churn"] == "high" and view["lifecycle_stage"] == "customer"
    # a newer profile replaces the profile's facts and keeps the scores
    state, _ = fold(state, from_profile(profile("p4", 2, T + 500, stage="at_risk")), (),
                    WorkflowPolicy())
    assert state["view"]["lifecycle_stage"] == "at_risk" and state["view"]["score"]["churn"] == 75.0


def test_an_edge_trigger_that_held_fires_again_only_after_it_fell(codec: AvroCodec) -> None:
    memory = Memory()
    nurture = wstage.stage(wstage.WorkflowStagePolicy(only("lead_nurture"),
                                                      names.CUSTOMER_PROFILES,
                                                      scores_topic=names.CUSTOMER_SCORES))
    decoders = {t: codec.decoder(t) for t in (names.CUSTOMER_PROFILES, names.CUSTOMER_SCORES)}
    inputs = {i.topic: i for i in nurture.inputs}
    raws = [raw(codec, names.CUSTOMER_PROFILES, profile("p5", 1, T), 0),
            raw(codec, names.CUSTOMER_SCORES, score("p5", "lead", 90, T + 1), 0),
            raw(codec, names.CUSTOMER_SCORES, score("p5", "lead", 91, T + 2), 1)]
    computed = compute(nurture, raws, decoders, inputs, memory.lookup, lambda t: t, NOW)
    assert len(computed.outcome.result.outputs) == 1


@pytest.mark.parametrize(("changes", "key"), [
    ({"kind": "propensity"}, None), ({"scored_at": 0}, None), ({"score": float("nan")}, None),
    ({}, "p9")])
def test_a_bad_score_is_dead_lettered_with_its_reason(codec: AvroCodec, changes: dict[str, Any],
                                                      key: str | None) -> None:
    bad = {**score("p6", "lead", 80, T), **changes}
    computed = run(codec, [raw(codec, names.CUSTOMER_SCORES, bad, 0, key)], Memory())
    assert [d.error for d in computed.dead] == ["invalid_field"]


def test_positions_of_each_topic_stay_apart(codec: AvroCodec) -> None:
    """Each input resumes at its own position (``POSITIONS_OF``): the states carry profile
    offsets only (a person known from scores alone: -1), the scores no table's."""
    memory = Memory()
    run(codec, [raw(codec, names.CUSTOMER_SCORES, score("p7", "lead", 10, T), 40),
                raw(codec, names.CUSTOMER_PROFILES, profile("p8", 1, T), 3),
                raw(codec, names.CUSTOMER_SCORES, score("p8", "lead", 20, T + 1), 41)], memory)
    states = memory.tables[wstage.STATES]
    assert (states["p7"]["offset"], states["p7"]["score_offset"]) == (-1, 40)
    assert (states["p8"]["offset"], states["p8"]["score_offset"]) == (3, 41)
    assert set(memory.tables) == {wstage.STATES}
    assert [t.name for t in STAGE.tables if t.positioned] == [wstage.STATES]
    assert wstage.POSITIONS_OF == {wstage.STATES: (names.CUSTOMER_PROFILES,)}
    # a release for a person known from scores only is positioned on the scores topic
    quiet = {**score("p9", "lead", 90, at("2026-03-02T23:30"))}
    late = {**profile("p9", 1, at("2026-03-02T23:00"), stage="lead",
                      attributes={**CONSENTING, "timezone": "UTC", "quiet_hours": "22-07"}),
            "identifiers": ["email:p9@example.com"]}
    run(codec, [raw(codec, names.CUSTOMER_PROFILES, late, 5),
                raw(codec, names.CUSTOMER_SCORES, quiet, 42)], memory)
    entry = memory.tables[wstage.STATES]["p9"]
    ticked = wstage.release_due(POLICY, [("p9", entry)], at("2026-03-03T07:00"))
    rows = ticked.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    assert (rows["_topic"], rows["_offset"]) == ([names.CUSTOMER_PROFILES], [5])
    scored_only = {**entry, "offset": -1}
    ticked = wstage.release_due(POLICY, [("p9", scored_only)], at("2026-03-03T07:00"))
    rows = ticked.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    assert (rows["_topic"], rows["_offset"]) == ([names.CUSTOMER_SCORES], [42])


def test_the_runtime_resumes_profiles_from_the_states_and_scores_from_the_commit(
        codec: AvroCodec) -> None:
    """The stage's tables as the runtime keeps them, with ``POSITIONS_OF``: customer.profiles
    resumes after the last profile a state absorbed on the partition; customer.scores gets no
    position from the state (the guard then takes the committed offset), whatever score
    offsets the states hold."""
    memory = Memory()
    computed = run(codec, [raw(codec, names.CUSTOMER_PROFILES, profile("p8", 1, T), 3),
                           raw(codec, names.CUSTOMER_SCORES, score("p8", "lead", 20, T + 1), 900),
                           raw(codec, names.CUSTOMER_SCORES, score("p7", "lead", 10, T), 901)],
                   memory)
    tables = StateTables(FakeApp(), STAGE.tables, partitions=2,  # type: ignore[arg-type]
                         positions_of=wstage.POSITIONS_OF)
    tables.apply(computed.outcome.changes)
    assert tables.positions([1], names.CUSTOMER_PROFILES) == {1: 4}
    assert tables.positions([1], names.CUSTOMER_SCORES) == {}
    # without it (a table of score marks next to the states) the two topics' offsets were
    # compared: the scores resumed at the profiles' 4, re-reading 897 of them
    both = StateTables(FakeApp(), (*STAGE.tables, Table("marks", positioned=True)),  # type: ignore[arg-type]
                       partitions=2)
    both.apply({**computed.outcome.changes, "marks": {"1": (1, {"offset": 901})}})
    assert both.positions([1], names.CUSTOMER_SCORES) == {1: 4}



PERSONAL = """\
id: recommend_by_email
trigger:
  on: profile
  when:
    - {field: next_best_action, eq: cross_sell}
conditions:
  - {field: personalisation.recommended, contains: "product:p07-01"}
  - {field: personalisation.best_contact_hour, gte: 18}
actions:
  - type: email
    params: {template: recommendations}
"""


def action_score(person: str, when: int, details: dict[str, str]) -> dict[str, Any]:
    return {**score(person, "next_best_action", 40.0, when, label="cross_sell"),
            "details": {"lead_score": "40.0", **details}}


def test_workflows_read_the_recommendations_and_contact_time_of_the_next_best_action(
        codec: AvroCodec) -> None:
    from streams.workflows.definitions import parse

    [wf] = parse(PERSONAL, "recommend_by_email.yaml")
    personal = {"recommended": "product:p07-01,product:p07-03", "best_contact_hour_of_week": "44",
                "best_contact_time": "tue 20:00 UTC", "service_suggestion": "plan_review"}
    event = from_score(action_score("p1", T + 5, personal))
    assert event["facts"]["personalisation"] == {
        "recommended": ["product:p07-01", "product:p07-03"], "best_contact_hour_of_week": 44,
        "best_contact_hour": 20, "best_contact_time": "tue 20:00 UTC", "service": "plan_review"}
    policy = WorkflowPolicy()
    customer = profile("p1", 1, T, stage="customer", attributes=CONSENTING)
    state, decided = fold(None, from_profile(customer), [wf], policy)
    state, decided = fold(state, event, [wf], policy)
    assert [d["workflow_id"] for d in decided] == ["recommend_by_email"]
    # a later profile keeps the personalisation in the view; an action without any clears it
    later = from_profile({**customer, "version": 2, "updated_at": T + 10})
    state, _ = fold(state, later, [wf], policy)
    assert state["view"]["personalisation"]["best_contact_hour"] == 20
    state, _ = fold(state, from_score(action_score("p1", T + 20, {})), [wf], policy)
    assert state["view"]["personalisation"] == {}
    other = from_score(action_score("p1", T + 30, {**personal, "recommended": "product:p01-01"}))
    assert fold(state, other, [wf], policy)[1] == []  # the condition does not hold
