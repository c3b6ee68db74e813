"""The scheduled attribution stage: one entry on partition 0, a run started when due and handed
over when done (in a background thread), a failed run tried again, never quarantined."""

from __future__ import annotations

import pytest

from streams.customer import contract as names
from streams.customer.attribution import DAY_MS, ConversionTable, TouchTable
from streams.customer.attribution_run import RunPolicy, Window, tables_from_rows
from streams.customer.attribution_stage import (
    SCHEDULE,
    Runner,
    SchedulePolicy,
    stage,
    step,
    tick,
)
from streams.customer.schedule import KEY
from streams.kernel.stage import Outcome, Value
from tests.unit.customer.schedule_helpers import T0, events, finished

POLICY = SchedulePolicy(interval_ms=3_600_000, window_ms=30 * DAY_MS,
                        run=RunPolicy(replicates=0), retry_ms=60_000)



class Load:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Window, int]] = []
        self.fail = fail

    def __call__(self, window: Window, lookback_ms: int) -> tuple[TouchTable, ConversionTable]:
        self.calls.append((window, lookback_ms))
        if self.fail:
            raise ConnectionError("ClickHouse is down")
        end = window.end_ms
        return tables_from_rows(
            [("a", "t1", end - 3 * DAY_MS, "email", None),
             ("a", "t2", end - 2 * DAY_MS, "paid_search", "k1")],
            [("a", "v1", end - DAY_MS, 40.0, "EUR")])



def test_the_entry_is_made_once_from_a_record_of_partition_0() -> None:
    assert step(POLICY, events(1, 2, 5), lambda t, k: None, T0).changes == {}
    made = step(POLICY, events(3, 0), lambda t, k: None, T0).changes
    assert list(made) == [SCHEDULE] and list(made[SCHEDULE]) == [KEY]
    partition, value = made[SCHEDULE][KEY]
    assert partition == 0 and value is not None
    assert value["next_run_at"] == T0 + POLICY.interval_ms and value["runs"] == 0
    # once it exists, nothing changes
    assert step(POLICY, events(0), lambda t, k: value, T0 + 5).changes == {}


def test_a_due_run_starts_in_the_background_and_is_handed_over_when_done() -> None:
    load = Load()
    runner = Runner(load)
    _, entry = step(POLICY, events(0), lambda t, k: None, T0).changes[SCHEDULE][KEY]
    assert entry is not None
    entries: list[tuple[str, Value]] = [(KEY, entry)]
    assert tick(POLICY, runner, entries, T0 + 1000).changes == {}  # not due yet
    assert not runner.busy() and load.calls == []
    due = T0 + POLICY.interval_ms
    assert tick(POLICY, runner, entries, due).changes == {}  # started, not done
    assert runner.busy()
    finished(runner)
    out = tick(POLICY, runner, entries, due + 30_000)
    assert load.calls == [(Window(due - POLICY.window_ms, due), POLICY.run.lookback_ms)]
    rows = out.result.inserts[names.ATTRIBUTION_MODEL_CREDITS_TABLE]
    assert set(rows["created_at"]) == {due} and len(set(rows["run_id"])) == 1
    assert {m for m in rows["model"]} == {"markov", "shapley"}
    _, after = out.changes[SCHEDULE][KEY]
    assert after is not None
    assert after["next_run_at"] == due + POLICY.interval_ms and after["runs"] == 1
    assert after["last_run_id"] == rows["run_id"][0]
    # handed over once; nothing runs again before the next due time
    assert tick(POLICY, runner, [(KEY, after)], due + 60_000) == Outcome()
    assert not runner.busy() and len(load.calls) == 1


def test_a_failed_run_is_tried_again_later() -> None:
    runner = Runner(Load(fail=True))
    entry: Value = {"partition": 0, "next_run_at": T0, "last_run_id": "ar-1", "runs": 3,
                    "error": None, "last_event_at": T0}
    tick(POLICY, runner, [(KEY, entry)], T0)
    finished(runner)
    out = tick(POLICY, runner, [(KEY, entry)], T0 + 30_000)
    assert out.result.inserts == {}
    _, again = out.changes[SCHEDULE][KEY]
    assert again is not None
    assert again["next_run_at"] == T0 + 30_000 + POLICY.retry_ms
    assert again["runs"] == 3 and again["last_run_id"] == "ar-1"
    assert "ClickHouse is down" in again["error"]


def test_a_worker_without_the_entry_does_nothing() -> None:
    load = Load()
    assert tick(POLICY, Runner(load), [], T0 + 10 * POLICY.interval_ms) == Outcome()
    assert load.calls == []


def test_the_stage_reads_identity_links_raw_and_has_one_timer() -> None:
    s = stage(POLICY, Load())
    assert [(i.topic, i.encoding) for i in s.inputs] == [(names.IDENTITY_LINKS, "raw")]
    assert [t.name for t in s.tables] == [SCHEDULE]
    assert [(t.table, t.interval) for t in s.timers] == [(SCHEDULE, POLICY.check_seconds)]
    with pytest.raises(RuntimeError):
        runner = Runner(Load())
        runner.start(Window(T0, T0), POLICY.run, T0)
        runner.start(Window(T0, T0), POLICY.run, T0)
