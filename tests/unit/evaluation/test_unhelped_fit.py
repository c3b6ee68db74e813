"""Fitting the level of the learnt "not helped" signal by leaving one development set out:
a level gains catches at the labelled message, pays three for a false alarm or an early
escalation, never takes a set above the precision floor below it, and off wins unless a
level gains."""

from __future__ import annotations

from streams.evaluation import unhelped_fit as fit
from streams.evaluation.discontent_fit import Case


def _case(name: str, cid: str, label: int | None, at: int | None,
          exact_from: int | None = None) -> Case:
    return Case(name, cid, label, "bot_loop" if label is not None else None, at, (),
                exact_from)


def _runs(on: dict[float, list[Case]]) -> dict[float, list[Case]]:
    off = [_case("a", "a1", 4, None, 3), _case("a", "a2", None, None),
           _case("b", "b1", 4, None, 3), _case("b", "b2", 4, 4, 3)]
    return {fit.OFF: off, **on}


def test_a_level_that_catches_at_the_label_is_chosen_and_a_costly_one_is_not() -> None:
    good = [_case("a", "a1", 4, 3, 3), _case("a", "a2", None, None),
            _case("b", "b1", 4, 4, 3), _case("b", "b2", 4, 4, 3)]
    # one more catch, but an early escalation and a false alarm
    bad = [_case("a", "a1", 4, 4, 3), _case("a", "a2", None, 5),
           _case("b", "b1", 4, 4, 3), _case("b", "b2", 4, 1, 3)]
    runs = _runs({0.9: good, 0.6: bad})
    assert fit.gain(runs, 0.9, ["a", "b"]) == 2
    assert fit.gain(runs, 0.6, ["a", "b"]) < 0
    assert fit.choose(runs, ["a", "b"]) == 0.9
    rotations = fit.rotations(runs, ["a", "b"])
    assert rotations["a"]["after"]["caught"] == 1 and rotations["b"]["after"]["caught"] == 2


def test_off_wins_when_no_level_gains_and_ties_keep_the_strictest() -> None:
    same = _runs({})[fit.OFF]
    runs = _runs({0.7: list(same), 0.9: list(same)})
    assert fit.choose(runs, ["a", "b"]) == fit.OFF
    good = [_case("a", "a1", 4, 3, 3), *same[1:]]
    runs = _runs({0.7: good, 0.9: list(good)})
    assert fit.choose(runs, ["a", "b"]) == 0.9


def test_a_set_above_the_floor_may_not_fall_below_it() -> None:
    # set b gains two catches, set a (precision 1.0) takes a false alarm that leaves it
    # at 0.5: refused whatever the gain elsewhere
    off = [_case("a", "a1", 4, 4, 3), _case("a", "a2", None, None),
           *[_case("b", f"b{i}", 4, None, 3) for i in range(6)]]
    on = [_case("a", "a1", 4, 4, 3), _case("a", "a2", None, 2),
          *[_case("b", f"b{i}", 4, 4, 3) for i in range(6)]]
    runs = {fit.OFF: off, 0.8: on}
    assert fit.gain(runs, 0.8, ["a", "b"]) == float("-inf")
    assert fit.choose(runs, ["a", "b"]) == fit.OFF
