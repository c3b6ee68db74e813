"""The scheduled matching stage: one entry on partition 0, a run started when due and its match
observations published once when done (in a background thread), a failed run tried again and
never quarantined; and the worker's job, which is the command's own matching over the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.customer import match_job
from benchmarks.identity_quality import load
from streams.customer import contract as names
from streams.customer.matching_stage import (
    SCHEDULE,
    MatchingSchedule,
    Runner,
    stage,
    step,
    tick,
)
from streams.customer.schedule import KEY
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.kernel.records import OutputRecord
from streams.kernel.stage import Outcome, Value
from streams.settings import Settings
from tests.unit.customer.schedule_helpers import T0, events, finished

POLICY = MatchingSchedule(interval_ms=3_600_000, retry_ms=60_000)



def record(n: int) -> OutputRecord:
    return OutputRecord(names.IDENTITY_OBSERVATIONS, "identity", {"event_id": f"match:{n}"})


class Job:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[int] = []
        self.fail = fail

    def __call__(self, now_ms: int) -> list[OutputRecord]:
        self.calls.append(now_ms)
        if self.fail:
            raise ConnectionError("ClickHouse is down")
        return [record(1), record(2)]



def test_the_entry_is_made_once_from_a_record_of_partition_0() -> None:
    assert step(POLICY, events(1, 2, 5), lambda t, k: None, T0).changes == {}
    made = step(POLICY, events(3, 0), lambda t, k: None, T0).changes
    assert list(made) == [SCHEDULE] and list(made[SCHEDULE]) == [KEY]
    partition, value = made[SCHEDULE][KEY]
    assert partition == 0 and value is not None
    assert value["next_run_at"] == T0 + POLICY.interval_ms and value["runs"] == 0
    assert step(POLICY, events(0), lambda t, k: value, T0 + 5).changes == {}


def test_a_due_run_starts_in_the_background_and_its_matches_are_published_once() -> None:
    job = Job()
    runner = Runner(job)
    _, entry = step(POLICY, events(0), lambda t, k: None, T0).changes[SCHEDULE][KEY]
    assert entry is not None
    entries: list[tuple[str, Value]] = [(KEY, entry)]
    assert tick(POLICY, runner, entries, T0 + 1000) == Outcome()  # not due yet
    assert not runner.busy() and job.calls == []
    due = T0 + POLICY.interval_ms
    assert tick(POLICY, runner, entries, due) == Outcome()  # started, not done
    assert runner.busy()
    finished(runner)
    out = tick(POLICY, runner, entries, due + 30_000)
    assert job.calls == [due]
    assert out.result.outputs == [record(1), record(2)]
    assert out.result.inserts == {}
    _, after = out.changes[SCHEDULE][KEY]
    assert after is not None
    assert after["next_run_at"] == due + 30_000 + POLICY.interval_ms
    assert after["runs"] == 1 and after["last_matches"] == 2 and after["error"] is None
    # handed over once; nothing runs again before the next due time
    assert tick(POLICY, runner, [(KEY, after)], due + 60_000) == Outcome()
    assert not runner.busy() and job.calls == [due]


def test_a_failed_run_is_tried_again_later() -> None:
    runner = Runner(Job(fail=True))
    entry: Value = {"partition": 0, "next_run_at": T0, "runs": 3, "last_matches": 7,
                    "error": None, "last_event_at": T0}
    tick(POLICY, runner, [(KEY, entry)], T0)
    finished(runner)
    out = tick(POLICY, runner, [(KEY, entry)], T0 + 30_000)
    assert out.result.outputs == []
    _, again = out.changes[SCHEDULE][KEY]
    assert again is not None
    assert again["next_run_at"] == T0 + 30_000 + POLICY.retry_ms
    assert again["runs"] == 3 and again["last_matches"] == 7
    assert "ClickHouse is down" in again["error"]


def test_a_worker_without_the_entry_does_nothing() -> None:
    job = Job()
    assert tick(POLICY, Runner(job), [], T0 + 10 * POLICY.interval_ms) == Outcome()
    assert job.calls == []


def test_the_stage_reads_identity_links_raw_and_has_one_timer() -> None:
    s = stage(POLICY, Job())
    assert [(i.topic, i.encoding) for i in s.inputs] == [(names.IDENTITY_LINKS, "raw")]
    assert [t.name for t in s.tables] == [SCHEDULE]
    assert [(t.table, t.interval) for t in s.timers] == [(SCHEDULE, POLICY.check_seconds)]
    with pytest.raises(RuntimeError):
        runner = Runner(Job())
        runner.start(T0)
        runner.start(T0)
    with pytest.raises(ValueError):
        MatchingSchedule(interval_ms=0)


def test_the_workers_job_matches_the_crm_records_in_the_store(tmp_path: Path) -> None:
    """FEBRL 1's records as CRM profile events in the store: the job publishes a ``match``
    observation per pair it finds, nearly all of them true pairs."""
    records, true = load("febrl1")
    url = f"chdb://{tmp_path / 'clickhouse'}"
    with ClickHouse(url) as ch:
        migrate(ch)
        attrs = [{k: v for k, v in (
            ("first_name", r.first_name), ("last_name", r.last_name), ("street", r.street),
            ("city", r.locality), ("postcode", r.postcode), ("state", r.region),
            ("date_of_birth", r.date_of_birth)) if v} for r in records]
        n = len(records)
        ch.insert("customer_events", {
            "person_id": [f"p{i}" for i in range(n)], "event_id": [f"crm{i}" for i in range(n)],
            "kind": ["profile"] * n, "occurred_at": [T0 + i for i in range(n)],
            "type": [None] * n, "channel": [None] * n, "platform": [None] * n,
            "campaign_id": [None] * n, "value": [None] * n, "currency": [None] * n,
            "order_id": [None] * n, "identifiers": [[f"record_id:{r.record_id}"] for r in records],
            "flags": [[] for _ in records], "attributes": attrs,
            "source_topic": ["crm.profiles"] * n, "source_partition": [0] * n,
            "source_offset": list(range(n)), "_topic": ["identity.observations"] * n,
            "_partition": [0] * n, "_offset": list(range(n)), "_kafka_ts": [T0] * n,
            "_version": list(range(n))})
    published = match_job(Settings(clickhouse_url=url), T0 + 5)
    assert published and all(r.topic == names.IDENTITY_OBSERVATIONS and r.key == "identity"
                             for r in published)
    values = [r.value for r in published]
    assert {v["kind"] for v in values} == {"match"} and {v["occurred_at"] for v in values} == {
        T0 + 5}
    pairs = set()
    for v in values:
        a, b = sorted(i["value"] for i in v["identifiers"])
        assert [i["kind"] for i in v["identifiers"]] == ["record_id", "record_id"]
        pairs.add((a, b))
    assert len(pairs & true) / len(pairs) >= 0.99
    assert len(pairs & true) / len(true) >= 0.9
