"""The engine's fold: fire once per window, cooldowns, quiet hours, consent and opt-outs,
priorities under the daily cap, redelivery, and state that is plain JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence

from streams.workflows.definitions import Workflow, parse
from streams.workflows.engine import Decision, State, WorkflowPolicy, fold, quiet_until, release
from streams.workflows.fields import (
    ConversationOutcome,
    MarketEvent,
    PersonEvent,
    from_conversation,
    from_market,
)
from tests.unit.workflows.helpers import CONSENTING, SEED, at, event, only

POLICY = WorkflowPolicy()
DAY = 86_400_000


def run(events: Sequence[PersonEvent], workflows: Sequence[Workflow] = SEED,
        state: State | None = None) -> tuple[State | None, list[Decision]]:
    out: list[Decision] = []
    for one in events:
        state, decisions = fold(state, one, workflows, POLICY)
        out += decisions
    return state, out


def statuses(decisions: Sequence[Decision]) -> list[tuple[str, str, str]]:
    return [(d["workflow_id"], d["action_type"], d["status"]) for d in decisions]


def test_a_lead_score_crossing_70_fires_the_nurture_email_once() -> None:
    t = at("2026-03-02T10:00")
    _, decisions = run([event("p1", 1, t, scores={"lead_score": 40}),
                        event("p1", 2, t + 60_000, scores={"lead_score": 75}),
                        event("p1", 3, t + 120_000, scores={"lead_score": 80})],
                       only("lead_nurture"))
    assert statuses(decisions) == [("lead_nurture", "email", "fired")]
    [fired] = decisions
    assert fired["trigger_event_id"] == "profile:p1:2"
    assert fired["idempotency_key"] == f"lead_nurture:p1:{(t + 60_000) // (30 * DAY)}"
    assert fired["params"] == {"campaign": "lead_nurture", "template": "nurture_series_1"}


def test_crossing_again_in_the_window_is_suppressed_and_later_fires_again() -> None:
    t = at("2026-03-02T10:00")  # window 30d, cooldown 14d
    later = ((t + 14 * DAY) // (30 * DAY) + 1) * (30 * DAY) + 12 * 3_600_000  # a later window
    assert later // (30 * DAY) != (t + 2 * DAY) // (30 * DAY) and later - t > 14 * DAY
    _, decisions = run([event("p1", 1, t, scores={"lead_score": 75}),
                        event("p1", 2, t + DAY, scores={"lead_score": 50}),
                        event("p1", 3, t + 2 * DAY, scores={"lead_score": 90}),
                        event("p1", 4, later - DAY, scores={"lead_score": 50}),
                        event("p1", 5, later, scores={"lead_score": 90})],
                       only("lead_nurture"))
    assert [(d["status"], d["reason"]) for d in decisions] == [
        ("fired", "trigger:lead_nurture"), ("suppressed", "once_per_window"),
        ("fired", "trigger:lead_nurture")]


def test_a_cooldown_spans_windows() -> None:
    [wf] = parse("""\
id: daily
trigger: {on: profile, when: [{field: scores.lead_score, gt: 70}]}
window: 1d
cooldown: 7d
quiet_hours: false
actions: [{type: crm_task}]
""", "daily.yaml")
    t = at("2026-03-02T10:00")
    ups = [event("p1", 2 * i + 1, t + i * DAY, scores={"lead_score": 90}) for i in range(9)]
    downs = [event("p1", 2 * i + 2, t + i * DAY + 1, scores={"lead_score": 10}) for i in range(9)]
    interleaved = [e for pair in zip(ups, downs, strict=True) for e in pair]
    _, decisions = run(interleaved, (wf,))
    assert [d["status"] for d in decisions] == ["fired"] + ["suppressed"] * 6 + ["fired", "suppressed"]
    assert {d["reason"] for d in decisions if d["status"] == "suppressed"} == {"cooldown"}


def test_a_redelivered_event_never_fires_twice() -> None:
    t = at("2026-03-02T10:00")
    first = event("p1", 2, t, scores={"lead_score": 75})
    state, decisions = fold(None, first, SEED, POLICY)
    assert len(decisions) == 1
    again, repeated = fold(state, first, SEED, POLICY)
    assert again is state and repeated == []
    # and after other events too: the id is remembered
    state, _ = fold(state, event("p1", 3, t + 1000, scores={"lead_score": 10}), SEED, POLICY)
    state2, repeated = fold(state, first, SEED, POLICY)
    assert state2 is state and repeated == []


def test_fold_leaves_its_input_alone_and_state_is_json() -> None:
    t = at("2026-03-02T23:30")
    state, _ = run([event("p1", 1, t, stage="customer", scores={"churn_risk": 90},
                          attributes={**CONSENTING, "quiet_hours": "22-07"})])
    assert state is not None
    frozen = copy.deepcopy(state)
    fold(state, event("p1", 2, t + DAY, scores={"lead_score": 99}), SEED, POLICY)
    release(state, t + DAY, POLICY)
    assert state == frozen
    assert json.loads(json.dumps(state)) == state


def test_quiet_hours_defer_to_their_end_and_the_timer_releases_once() -> None:
    attrs = {**CONSENTING, "quiet_hours": "22:00-07:00"}  # Europe/Berlin, UTC+1 in March
    t = at("2026-03-02T22:30:00+00:00")  # 23:30 in Berlin
    state, decisions = run([event("p1", 1, t, stage="customer", scores={"churn_risk": 80},
                                  attributes=attrs)], only("at_risk_retention"))
    assert statuses(decisions) == [("at_risk_retention", "email", "deferred"),
                                   ("at_risk_retention", "crm_task", "fired"),
                                   ("at_risk_retention", "chat", "deferred")]
    end = at("2026-03-03T07:00:00+01:00")
    assert {d["deliver_at"] for d in decisions if d["status"] == "deferred"} == {end}
    assert state is not None
    early, none = release(state, end - 1, POLICY)
    assert early is state and none == []
    after, released = release(state, end, POLICY)
    assert statuses(released) == [("at_risk_retention", "email", "released"),
                                  ("at_risk_retention", "chat", "released")]
    assert all(d["reason"] == "quiet_hours_over" for d in released)
    _, twice = release(after, end + 60_000, POLICY)
    assert twice == []


def test_quiet_hours_wrap_midnight_and_fall_back_to_utc() -> None:
    quiet = {"start": 22, "end": 7, "timezone": "Nowhere/Atlantis"}
    assert quiet_until(at("2026-03-02T21:59"), quiet) is None  # type: ignore[arg-type]
    assert quiet_until(at("2026-03-02T23:00"), quiet) == at("2026-03-03T07:00")  # type: ignore[arg-type]
    assert quiet_until(at("2026-03-03T06:59"), quiet) == at("2026-03-03T07:00")  # type: ignore[arg-type]
    assert quiet_until(at("2026-03-03T07:00"), quiet) is None  # type: ignore[arg-type]


def test_consent_and_opt_outs_suppress_with_the_reason() -> None:
    t = at("2026-03-02T10:00")
    no_consent = {"timezone": "UTC"}
    _, decisions = run([event("p1", 1, t, scores={"lead_score": 75}, attributes=no_consent)],
                       only("lead_nurture"))
    assert [(d["status"], d["reason"]) for d in decisions] == [("suppressed", "no_consent:email")]
    _, decisions = run([event("p2", 1, t, scores={"lead_score": 75},
                              attributes={**CONSENTING, "opt_out": "all"})], only("lead_nurture"))
    assert [(d["status"], d["reason"]) for d in decisions] == [("suppressed", "opted_out:email")]
    # chat needs no explicit consent, but an opt-out of chat (a CRM tag) is honoured
    _, decisions = run([event("p3", 1, t, stage="mql", attributes=no_consent)],
                       only("mql_proactive_chat"))
    assert [d["status"] for d in decisions] == ["fired"]
    _, decisions = run([event("p4", 1, t, stage="mql", attributes=no_consent,
                              tags=["opt_out:chat"])], only("mql_proactive_chat"))
    assert [(d["status"], d["reason"]) for d in decisions] == [("suppressed", "opted_out:chat")]


def test_the_highest_priority_takes_the_daily_outbound_slot() -> None:
    t = at("2026-03-02T10:00")
    state, decisions = run([event("p1", 1, t, stage="customer",
                                  scores={"churn_risk": 85, "lead_score": 40}),
                            event("p1", 2, t + 1000, stage="lead",
                                  scores={"churn_risk": 85, "lead_score": 75})])
    assert statuses(decisions) == [
        ("at_risk_retention", "email", "fired"), ("at_risk_retention", "crm_task", "fired"),
        ("at_risk_retention", "chat", "fired"),  # one firing, one slot, all its channels
        ("lead_nurture", "email", "suppressed")]
    assert decisions[-1]["reason"] == "daily_cap:at_risk_retention"
    # on one event, the higher priority wins whatever the order of the definitions
    _, decisions = run([event("p2", 1, t, stage="mql", scores={"lead_score": 75})],
                       tuple(reversed(SEED)))
    assert statuses(decisions) == [("mql_proactive_chat", "chat", "fired"),
                                   ("lead_nurture", "email", "suppressed")]
    # the next local day has a slot again
    _, decisions = run([event("p1", 3, t + DAY, stage="mql", scores={"churn_risk": 85})],
                       SEED, state)
    assert statuses(decisions) == [("mql_proactive_chat", "chat", "fired")]


def test_non_outbound_actions_are_not_capped() -> None:
    t = at("2026-03-02T10:00")
    _, decisions = run([event("p1", 1, t, stage="mql",
                              scores={"lead_score": 75, "predicted_value": 900})])
    assert statuses(decisions) == [("mql_proactive_chat", "chat", "fired"),
                                   ("lead_nurture", "email", "suppressed"),
                                   ("lookalike_high_value", "audience", "fired")]


def test_service_history_cross_sells_and_market_events_respond_per_segment() -> None:
    t = at("2026-03-02T10:00")
    good = ConversationOutcome(conversation_id="c1", person_id="p1", ended_at=t,
                               intent="purchase_inquiry", sentiment=0.6, resolved=True,
                               escalated=False)
    bad = ConversationOutcome(conversation_id="c2", person_id="p1", ended_at=t + 1000,
                              intent="purchase_inquiry", sentiment=-0.6, resolved=True,
                              escalated=False)
    state, _ = run([event("p1", 1, t - 1000, stage="customer")], ())
    _, decisions = run([from_conversation(bad), from_conversation(good)], SEED, state)
    assert statuses(decisions) == [("service_cross_sell", "email", "fired")]
    move = MarketEvent(event_id="m1", occurred_at=t, type="competitor_price_drop",
                       competitor="acme", segment="running_shoes", magnitude=0.15)
    small = MarketEvent(event_id="m2", occurred_at=t, type="competitor_price_drop",
                        competitor="acme", segment="hiking", magnitude=0.02)
    _, decisions = run([from_market(move), from_market(small), from_market(move)])
    assert statuses(decisions) == [("competitive_response", "campaign", "fired"),
                                   ("competitive_response", "crm_task", "fired")]
    assert {d["subject"] for d in decisions} == {"market:running_shoes"}


def test_a_deferred_action_is_gated_again_when_released() -> None:
    attrs = {**CONSENTING, "quiet_hours": "22-07"}
    t = at("2026-03-02T22:30:00+00:00")
    state, _ = run([event("p1", 1, t, scores={"lead_score": 75}, attributes=attrs)],
                   only("lead_nurture"))
    # consent withdrawn during the night: the deferred email is suppressed, not sent
    state, _ = run([event("p1", 2, t + 3_600_000, scores={"lead_score": 75},
                          attributes={**attrs, "consent_email": "false"})],
                   only("lead_nurture"), state)
    assert state is not None
    _, released = release(state, at("2026-03-03T07:00:00+01:00"), POLICY)
    assert [(d["status"], d["reason"]) for d in released] == [("suppressed", "no_consent:email")]


def test_a_profile_redelivered_long_after_or_out_of_order_decides_nothing() -> None:
    t = at("2026-03-02T10:00")
    state, _ = run([event("p1", 1, t, scores={"lead_score": 10})], only("lead_nurture"))
    # more events than the seen-id memory holds, all below the threshold
    later = [event("p1", v, t + v * 1000, scores={"lead_score": 10})
             for v in range(3, 3 + POLICY.seen_events + 5)]
    state, _ = run(later, only("lead_nurture"), state)
    assert state is not None
    stale = event("p1", 2, t + 500, scores={"lead_score": 95})  # an older version, late
    again, decisions = fold(state, stale, only("lead_nurture"), POLICY)
    assert again is state and decisions == []
    first = event("p1", 1, t, scores={"lead_score": 95})  # the first one, redelivered
    again, decisions = fold(state, first, only("lead_nurture"), POLICY)
    assert again is state and decisions == []


def test_the_daily_cap_counts_the_persons_local_day() -> None:
    attrs = {**CONSENTING, "timezone": "America/New_York"}  # UTC-5 on 2 March 2026
    _, decisions = run([event("p1", 1, at("2026-03-02T15:00"), stage="mql", attributes=attrs),
                        event("p1", 2, at("2026-03-03T03:00"), stage="lead", attributes=attrs,
                              scores={"lead_score": 90})])  # 22:00 on 2 March in New York
    assert [(d["workflow_id"], d["status"], d["reason"]) for d in decisions] == [
        ("mql_proactive_chat", "fired", "trigger:mql_proactive_chat"),
        ("lead_nurture", "suppressed", "daily_cap:mql_proactive_chat")]
    utc = {**CONSENTING, "timezone": "UTC"}
    _, decisions = run([event("p2", 1, at("2026-03-02T15:00"), stage="mql", attributes=utc),
                        event("p2", 2, at("2026-03-03T03:00"), stage="lead", attributes=utc,
                              scores={"lead_score": 90})])
    assert [d["status"] for d in decisions] == ["fired", "fired"]
