"""Fitting the n-gram cosine of a repeated answer: a cosine that lowers the simulator's
escalation precision is no candidate, off always is; the choice among the rest is
``unhelped_fit``'s, left one development set out."""

from __future__ import annotations

from streams.evaluation import loop_fit
from streams.evaluation.discontent_fit import Case


def _case(name: str, cid: str, label: int | None, at: int | None) -> Case:
    return Case(name, cid, label, "bot_loop" if label is not None else None, at, (), 3)


def test_the_policy_at_a_cosine_changes_the_cosine_only() -> None:
    policy = loop_fit.policy_at(0.7)
    assert policy.bot_echo_cosine == 0.7
    assert loop_fit.policy_at(loop_fit.OFF).unhelped_level == policy.unhelped_level


def test_a_cosine_that_lowers_the_simulator_precision_is_no_candidate() -> None:
    precisions = {loop_fit.OFF: 0.79, 0.4: 0.78, 0.5: 0.79, 0.6: 0.80}
    assert loop_fit.admissible(precisions) == {loop_fit.OFF, 0.5, 0.6}
    assert loop_fit.admissible({loop_fit.OFF: 0.79, 0.4: 0.5}) == {loop_fit.OFF}


def test_each_set_is_scored_with_the_cosine_chosen_on_the_others() -> None:
    off = [_case("a", "a1", 4, None), _case("a", "a2", None, None),
           _case("b", "b1", 4, None), _case("b", "b2", None, None)]
    # 0.6 catches a loop on both sets; 0.4 one more, with a false alarm on set a
    strict = [_case("a", "a1", 4, 3), off[1], _case("b", "b1", 4, 3), off[3]]
    loose = [*strict[:1], _case("a", "a2", None, 3), *strict[2:]]
    runs = {loop_fit.OFF: off, 0.6: strict, 0.4: loose}
    out = loop_fit.fit(["a", "b"], runs, {loop_fit.OFF, 0.6, 0.4})
    assert out["a"]["chosen_without_it"] == 0.6 and out["a"]["after"]["caught"] == 1
    assert out["chosen_on_all"] == 0.6
    # a refused cosine never competes
    assert loop_fit.fit(["a", "b"], runs, {loop_fit.OFF, 0.4})["chosen_on_all"] == loop_fit.OFF
