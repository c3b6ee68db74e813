"""Anomaly detection in the ad.metrics stage, without Kafka: the step over daily batches of
simulated campaigns with labelled anomalies, state kept as the runtime keeps it. Alerts land
on the labels; a batch delivered twice raises nothing more; a campaign that reports only ad
rows (by device) is scored on their sums exactly as if it reported its totals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Events, Outcome, Value
from streams.marketing import contract as names
from streams.marketing import stage as marketing
from streams.marketing.anomaly_stage import CAMPAIGNS_TABLE, HOURS_TABLE, PARTS_TABLE
from streams.simulators.anomalies import HOUR_MS, Simulated, rows, simulate

DEFAULTS: dict[str, Any] = {"campaign_name": None, "ad_group_id": None, "ad_id": None,
                            "device": None, "bid_micros": None, "budget_micros": None,
                            "audience": None, "extra": {}}


class Memory:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (partition, value) in changed.items():
                if value is not None:
                    self.tables.setdefault(table, {})[key] = {**value, "partition": partition}


def as_ads(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A campaign row split into two AD rows by device (cost in whole micros, exactly)."""
    half = {name: record[name] // 2 for name in ("impressions", "clicks", "cost_micros")}
    for device, share in (("MOBILE", half), ("DESKTOP", None)):
        part = {**record, "level": "AD", "ad_group_id": "g1", "ad_id": "a1", "device": device}
        for name in ("impressions", "clicks", "cost_micros"):
            part[name] = share[name] if share else record[name] - half[name]
        for name in ("conversions", "conversion_value"):
            part[name] = record[name] / 2
        yield part


def batches(sim: Simulated, ads: bool = False) -> list[list[dict[str, Any]]]:
    days: dict[int, list[dict[str, Any]]] = {}
    for r in rows(sim):
        for value in (as_ads(r) if ads else [r]):
            days.setdefault((value["interval_start"] - sim.start_ms) // (24 * HOUR_MS),
                            []).append({**DEFAULTS, **value})
    return [days[d] for d in sorted(days)]


def run(sim: Simulated, ads: bool = False) -> tuple[list[Outcome], Memory]:
    stage = marketing.stage()
    memory = Memory()
    outcomes = []
    offset = 0
    for values in batches(sim, ads):
        raws = [Raw(names.AD_METRICS, 0, offset + i, 0, None, None) for i in range(len(values))]
        offset += len(values)
        outcome = stage.step(Events(raws, values), memory.lookup, 0)
        memory.apply(outcome.changes)
        outcomes.append(outcome)
    return outcomes, memory


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(campaigns=3, weeks=6, seed=5, events_per_campaign=2)


@pytest.fixture(scope="module")
def campaign_run(sim: Simulated) -> tuple[list[Outcome], Memory]:
    return run(sim)


def alerts(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [r.value for o in outcomes for r in o.result.outputs if r.topic == names.ANOMALIES]


def test_alerts_land_on_the_injected_anomalies(sim: Simulated,
                                               campaign_run: tuple[list[Outcome], Memory]) -> None:
    raised = alerts(campaign_run[0])
    assert raised, "no alert at all"
    hits = 0
    for label in sim.labels:
        start = sim.start_ms + label.start * HOUR_MS
        end = sim.start_ms + (label.end + 6) * HOUR_MS
        hits += any(a["campaign_id"] == f"c{label.campaign:04d}" and start <= a["hour"] < end
                    for a in raised)
    assert hits >= len(sim.labels) // 2, (hits, sim.labels)
    warmup_end = sim.start_ms + 2 * 168 * HOUR_MS
    assert all(a["hour"] >= warmup_end for a in raised)  # no baseline yet, no alert
    rows = [o.result.inserts[names.ANOMALIES_TABLE] for o in campaign_run[0]]
    assert sum(len(r["metric"]) for r in rows) == len(raised)


def test_a_batch_delivered_again_raises_nothing_and_states_carry_their_position(
        sim: Simulated, campaign_run: tuple[list[Outcome], Memory]) -> None:
    _, memory = campaign_run
    # the last three days again, as a connector's restatement window sends them
    state = Memory()
    state.tables = {t: dict(v) for t, v in memory.tables.items()}
    for n, values in enumerate(batches(sim)[-3:]):
        raws = [Raw(names.AD_METRICS, 0, 10**6 + 10**4 * n + i, 0, None, None)
                for i in range(len(values))]
        again = marketing.stage().step(Events(raws, values), state.lookup, 0)
        state.apply(again.changes)
        assert alerts([again]) == []
    heads, days = memory.tables[CAMPAIGNS_TABLE], memory.tables[HOURS_TABLE]
    assert len(heads) == 3 and all("offset" in v and "days" in v for v in heads.values())
    assert {f"{k}|{d}" for k, v in heads.items() for d in v["days"]} <= set(days)
    assert all("offset" in v and "counters" in v for v in days.values())


def test_ad_rows_are_summed_into_the_campaign_as_its_totals_would_be(
        sim: Simulated, campaign_run: tuple[list[Outcome], Memory]) -> None:
    outcomes, memory = run(sim, ads=True)
    assert alerts(outcomes) == alerts(campaign_run[0])
    parts = memory.tables[PARTS_TABLE]
    assert set(parts) == {f"GOOGLE_ADS:c{c:04d}" for c in range(3)}
    assert all(len(v["hours"]) <= 96 for v in parts.values())


def test_a_backlog_in_large_batches_raises_the_alerts_of_daily_batches(
        sim: Simulated, campaign_run: tuple[list[Outcome], Memory]) -> None:
    # as a worker reads a backlog: each campaign's partition in steps of 200 events
    values = sorted((v for b in batches(sim) for v in b),
                    key=lambda v: (v["campaign_id"], v["interval_start"]))
    stage, memory, outcomes = marketing.stage(), Memory(), []
    for i in range(0, len(values), 200):
        chunk = values[i:i + 200]
        raws = [Raw(names.AD_METRICS, 0, i + j, 0, None, None) for j in range(len(chunk))]
        outcomes.append(stage.step(Events(raws, chunk), memory.lookup, 0))
        memory.apply(outcomes[-1].changes)

    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        return a["campaign_id"], a["metric"], a["direction"], a["hour"], a["status"]

    assert sorted(map(key, alerts(outcomes))) == sorted(map(key, alerts(campaign_run[0])))


class KeptMemory(Memory):
    """Tables that hand back the very objects stored, as the worker's do: the detector's memo
    hits, and counters grow in place."""

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (_, value) in changed.items():
                if value is not None:
                    self.tables.setdefault(table, {})[key] = value


def test_a_batch_that_fails_half_way_is_folded_again_as_if_it_never_ran(sim: Simulated) -> None:
    # hourly, as live: a new hour falls in a day the campaign's counters already hold
    days = [[v for v in day if v["interval_start"] == hour]
            for day in batches(sim) for hour in sorted({v["interval_start"] for v in day})]
    clean, failed = marketing.stage(), marketing.stage()
    clean_memory, failed_memory = KeptMemory(), KeptMemory()
    last = sorted({f"{v['platform']}:{v['campaign_id']}" for v in days[0]})[-1]

    def failing(table: str, key: str) -> Value | None:
        if table == CAMPAIGNS_TABLE and key == last:
            raise RuntimeError("lookup failed")  # after the other campaigns were absorbed
        return failed_memory.lookup(table, key)

    offset = 0
    for n, values in enumerate(days):
        raws = [Raw(names.AD_METRICS, 0, offset + i, 0, None, None) for i in range(len(values))]
        offset += len(values)
        events = Events(raws, values)
        if n in (20 * 24 + 5, len(days) - 30):
            with pytest.raises(RuntimeError):
                failed.step(events, failing, 0)
        expected, again = clean.step(events, clean_memory.lookup, 0), failed.step(
            events, failed_memory.lookup, 0)
        clean_memory.apply(expected.changes)
        failed_memory.apply(again.changes)
        assert set(again.changes[HOURS_TABLE]) == set(expected.changes[HOURS_TABLE])
        assert alerts([again]) == alerts([expected])
    assert alerts([clean.step(events, clean_memory.lookup, 0)]) == []
