"""Entries a computation fails on are set apart; the others are computed."""

from __future__ import annotations

from collections.abc import Sequence

from streams.kernel.isolation import isolating


def total(items: Sequence[tuple[str, object]]) -> int:
    return sum(int(value) for _, value in items)  # type: ignore[call-overload]


def test_a_computation_that_succeeds_runs_once_and_sets_nothing_apart() -> None:
    calls: list[int] = []

    def run(items: Sequence[tuple[str, object]]) -> int:
        calls.append(len(items))
        return total(items)

    assert isolating([("a", 1), ("b", 2)], run) == (3, [])
    assert calls == [2]


def test_the_entries_it_fails_on_are_returned_with_their_errors_and_the_rest_computed() -> None:
    result, failed = isolating([("a", 1), ("bad", "x"), ("c", 3), ("worse", None)], total)
    assert result == 4
    assert [key for key, _ in failed] == ["bad", "worse"]
    assert isinstance(failed[0][1], ValueError) and isinstance(failed[1][1], TypeError)
