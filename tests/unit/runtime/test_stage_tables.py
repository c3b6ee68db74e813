"""A stage's tables as the runtime keeps them (``agents.runtime.stage.StateTables``), on
stand-in Faust tables: changes and their changelog records, the index, positions, retention."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from agents.runtime.stage import StateTables
from streams.kernel.stage import Table, Value


class FakeTopic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class FakeTable:
    def __init__(self, name: str) -> None:
        self.data: dict[bytes, Any] = {}
        self.changelog_topic = FakeTopic(f"app-{name}-changelog")
        self.recover: list[Callable[[], Any]] = []

    def on_recover(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        self.recover.append(fn)
        return fn


class FakeApp:
    def __init__(self) -> None:
        self.tables: dict[str, FakeTable] = {}

    def Table(self, name: str, **kwargs: Any) -> FakeTable:  # Faust's method name
        self.tables[name] = FakeTable(name)
        return self.tables[name]


def record(offset: int, status: str = "open", last: int = 0) -> Value:
    return {"status": status, "offset": offset, "last_event_at": last}


def tables() -> tuple[FakeApp, StateTables]:
    app = FakeApp()
    specs = (Table("records", positioned=True, index=lambda v: v["status"] == "open",
                   retain_ms=1_000, closed=lambda v: v["status"] != "open"),
             Table("pending"))
    return app, StateTables(app, specs, partitions=2)  # type: ignore[arg-type]


def test_changes_apply_in_memory_and_yield_changelog_records_in_offset_order() -> None:
    _, state = tables()
    out = state.apply({"records": {"b": (1, record(7)), "a": (1, record(3))},
                       "pending": {"x": (0, {"due_at": 5})}})
    assert [(o.topic, o.key, o.partition) for o in out] == [
        ("app-records-changelog", b"a", 1), ("app-records-changelog", b"b", 1),
        ("app-pending-changelog", b"x", 0)]
    assert json.loads(out[0].value or b"") == {**record(3), "partition": 1}
    assert state.lookup("records", "a") == {**record(3), "partition": 1}
    assert state.lookup("pending", "x") == {"due_at": 5, "partition": 0}
    # a deletion is a tombstone, once; deleting what is not there sends nothing
    gone = state.apply({"pending": {"x": (0, None), "y": (0, None)}})
    assert [(o.key, o.value) for o in gone] == [(b"x", None)]
    assert state.lookup("pending", "x") is None


def test_the_index_follows_changes_and_is_rebuilt_on_recovery() -> None:
    app, state = tables()
    state.apply({"records": {"a": (0, record(1)), "b": (0, record(2, "ended"))}})
    assert [k for k, _ in state.entries("records", {0}, indexed=True)] == ["a"]
    state.apply({"records": {"a": (0, record(3, "ended")), "b": (0, record(4))}})
    assert [k for k, _ in state.entries("records", {0}, indexed=True)] == ["b"]
    # recovered from the changelog: the index is rebuilt from what the table holds
    app.tables["records"].data[b"c"] = {**record(5), "partition": 1}
    state.indexes["records"].clear()
    asyncio.run(app.tables["records"].recover[0]())
    assert sorted(k for k, _ in state.entries("records", {0, 1}, indexed=True)) == ["b", "c"]
    assert [k for k, _ in state.entries("records", {1}, indexed=True)] == ["c"]


def test_positions_are_where_each_partitions_state_stands() -> None:
    _, state = tables()
    state.apply({"records": {"a": (0, record(4)), "b": (0, record(9)), "c": (1, record(2))}})
    assert state.positions([0, 1, 2]) == {0: 10, 1: 3, 2: 0}


def test_retention_forgets_closed_silent_entries_but_keeps_each_partitions_top() -> None:
    _, state = tables()
    state.apply({"records": {
        "old": (0, record(1, "ended", last=0)),
        "open": (0, record(2, "open", last=0)),
        "recent": (0, record(3, "ended", last=9_500)),
        "top": (0, record(4, "ended", last=0)),
    }})
    entries = state.entries("records", {0}, indexed=False)
    assert state.expired("records", entries, now=10_000) == {"records": {"old": (0, None)}}


def two_inputs(positions_of: dict[str, tuple[str, ...]] | None) -> StateTables:
    """The workflows stage's shape: states positioned by the profiles they absorbed, marks
    by the scores."""
    specs = (Table("states", positioned=True), Table("marks", positioned=True))
    state = StateTables(FakeApp(), specs, partitions=2, positions_of=positions_of)  # type: ignore[arg-type]
    state.apply({"states": {"p1": (0, {"offset": 500}), "p2": (1, {"offset": 40})},
                 "marks": {"0": (0, {"offset": 99}), "1": (1, {"offset": 7000})}})
    return state


def test_each_input_resumes_where_the_tables_holding_its_offsets_stand() -> None:
    state = two_inputs({"states": ("customer.profiles",), "marks": ("customer.scores",)})
    assert state.positions([0, 1], "customer.profiles") == {0: 501, 1: 41}
    assert state.positions([0, 1], "customer.scores") == {0: 100, 1: 7001}
    # an input whose offsets no table holds: nothing from the state (it resumes at the
    # committed offset or the log start)
    assert state.positions([0, 1], "touchpoints") == {}


def test_without_positions_of_every_table_holds_every_input_the_lowest_wins() -> None:
    state = two_inputs(None)
    # offsets of two topics compared: profiles re-read from 100 on partition 0 (the fold
    # skips them), scores from 41 on partition 1: safe, but wasteful
    assert state.positions([0, 1], "customer.profiles") == {0: 100, 1: 41}
    assert state.positions([0, 1], "customer.scores") == state.positions([0, 1]) == {
        0: 100, 1: 41}


def test_positions_of_names_only_positioned_tables() -> None:
    with pytest.raises(ValueError, match="pending"):
        StateTables(FakeApp(), (Table("pending"),), partitions=1,  # type: ignore[arg-type]
                    positions_of={"pending": ("t",)})
