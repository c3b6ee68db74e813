"""Guard rails: data flags, learning phase, caps, cooldowns, daily caps, cycle limit, conflicts."""

from __future__ import annotations

from dataclasses import replace

from streams.marketing.guardrails import (
    DAY_MS,
    HOUR_MS,
    DataFlags,
    GuardPolicy,
    GuardState,
    Refusal,
    check,
    record,
)
from streams.marketing.rules import Action, Recommendation

POLICY = GuardPolicy()


def rec(campaign: str = "c1", action: Action = "set_bid", change: float = 0.1,
        effect: float = 10.0) -> Recommendation:
    return Recommendation(rule="bid", action=action, entity=f"campaign:{campaign}", campaign_id=campaign,
                          as_of_ms=0, current=1.0, proposed=1 + change, change=change,
                          expected_effect=effect, confidence=1.0, rationale="test")


def guards(refused: tuple[Refusal, ...]) -> list[str]:
    return [r.guard for r in refused]


def test_flagged_data_stops_changes_and_alerts() -> None:
    flags = DataFlags(anomalous=frozenset({"c1"}), incomplete=frozenset({"c2"}))
    out = check([rec("c1"), rec("c2", action="alert", change=0.0), rec("c3")], POLICY, GuardState(), flags, 0)
    assert [r.campaign_id for r in out.accepted] == ["c3"]
    assert guards(out.refused) == ["data_anomalous", "data_incomplete"]
    assert out.refused[0].recommendation.campaign_id == "c1" and "anomalous" in out.refused[0].detail


def test_learning_phase_blocks_changes_not_alerts() -> None:
    flags = DataFlags(learning=frozenset({"c1"}))
    out = check([rec(), rec(action="alert", change=0.0)], POLICY, GuardState(), flags, 0)
    assert [r.action for r in out.accepted] == ["alert"] and guards(out.refused) == ["learning_phase"]
    assert check([rec()], replace(POLICY, protect_learning=False), GuardState(), flags, 0).accepted


def test_change_cap_per_lever() -> None:
    out = check([rec(change=0.25), rec("c2", "set_budget", 0.25), rec("c3", "pause_creative", -1.0)],
                POLICY, GuardState(), DataFlags(), 0)
    assert guards(out.refused) == ["change_cap"]
    assert {r.campaign_id for r in out.accepted} == {"c2", "c3"}


def test_cooldown_per_lever_and_its_end() -> None:
    state = record(GuardState(), [rec()], 0, POLICY)
    out = check([rec(), rec(action="set_budget")], POLICY, state, DataFlags(), 71 * HOUR_MS)
    assert guards(out.refused) == ["cooldown"] and out.accepted[0].action == "set_budget"
    assert check([rec()], POLICY, state, DataFlags(), 72 * HOUR_MS).accepted


def test_daily_cap_counts_and_compounds() -> None:
    policy = replace(POLICY, cooldown=(), cooldown_hours=1.0)
    state = record(record(GuardState(), [rec(change=0.15)], 0, policy), [rec(change=0.1)], 2 * HOUR_MS,
                   policy)
    out = check([rec(change=0.01)], policy, state, DataFlags(), 4 * HOUR_MS)
    assert guards(out.refused) == ["daily_cap"] and "2 changes" in out.refused[0].detail
    one = record(GuardState(), [rec(change=0.2)], 0, policy)
    out = check([rec(change=0.2)], policy, one, DataFlags(), 2 * HOUR_MS)  # 1.2 * 1.2 = +44 %
    assert guards(out.refused) == ["daily_cap"] and "+44.0%" in out.refused[0].detail
    assert check([rec(change=0.2)], policy, one, DataFlags(), DAY_MS).accepted


def test_cycle_limit_keeps_the_highest_expected_effect_and_one_change_a_lever() -> None:
    policy = replace(POLICY, max_changes_per_cycle=2)
    recs = [rec("a", effect=1), rec("b", effect=5), rec("c", effect=3), rec("b", effect=4)]
    out = check(recs, policy, GuardState(), DataFlags(), 0)
    assert [(r.campaign_id, r.expected_effect) for r in out.accepted] == [("b", 5), ("c", 3)]
    assert sorted(guards(out.refused)) == ["conflict", "cycle_limit"]
    again = check(list(reversed(recs)), policy, GuardState(), DataFlags(), 0)
    assert again.accepted == out.accepted


def test_alerts_do_not_count_against_the_cycle_limit() -> None:
    policy = replace(POLICY, max_changes_per_cycle=1)
    out = check([rec("a"), rec("b"), rec("c", action="alert", change=0.0)], policy, GuardState(),
                DataFlags(), 0)
    assert len(out.accepted) == 2 and guards(out.refused) == ["cycle_limit"]


def test_record_forgets_what_no_guard_needs() -> None:
    state = record(GuardState(), [rec(), rec("d", action="alert", change=0.0)], 0, POLICY)
    assert len(state.changes) == 1
    assert record(state, [], 8 * DAY_MS, POLICY).changes == ()
