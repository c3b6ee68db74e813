"""The customer domain on the real broker with TWO workers in one group: one person's
identifiers arrive under different keys, on different partitions and workers; identity
resolution (one writer), the profiles and the attribution come out as the simulator's ground
truth says.

In embedded mode each worker has its own ClickHouse engine (one process per data directory),
so the test reads both and takes the union; a deployment shares one ClickHouse server.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from streams import topics
from streams.customer.attribution import DAY_MS
from streams.io.kafka_admin import delete_topics_with_prefix
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.ops.demo import start_worker
from streams.simulators.customers import bad_events, customers
from tests.integration.conftest import Pipeline, _free_port

pytestmark = pytest.mark.integration


def _rows(queriers: list[Querier], sql: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for q in queriers:
        out.extend(tuple(r) for r in q.sql(sql).rows)
    return out


def _wait(check: Any, timeout: float, what: str, pipeline: Pipeline) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        done, last = check()
        if done:
            return last
        time.sleep(1.0)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last}); logs in "
                         f"{pipeline.log_dir}")


@pytest.fixture
def cleaned(pipeline: Pipeline) -> Iterator[Pipeline]:
    """The pipeline; its topics are deleted afterwards (a local broker holding every test's
    partitions runs out of open files)."""
    yield pipeline
    pipeline.stop_workers()
    delete_topics_with_prefix(pipeline.settings, pipeline.settings.topic_prefix,
                              pipeline.settings.app_id)


def test_two_workers_resolve_profile_and_attribute_one_person_across_partitions(
        cleaned: Pipeline) -> None:
    pipeline = cleaned
    people, identity_phase, converted = customers(40, seed=23)
    pipeline.start_worker()
    port = _free_port()
    second = pipeline.settings.model_copy(update={
        "web_port": port,
        "clickhouse_url": pipeline.settings.clickhouse_url.replace("clickhouse", "clickhouse2")
        if pipeline.settings.clickhouse_url else None})
    env = {**pipeline.env, "TOUCHSTREAM_WEB_PORT": str(port),
           "TOUCHSTREAM_CLICKHOUSE_URL": str(second.clickhouse_url)}
    pipeline.workers.append(start_worker(second, str(pipeline.log_dir / "worker-1.log"), env=env))
    time.sleep(2 * pipeline.settings.consumer_session_timeout_seconds)  # the group settles
    queriers = [Querier(pipeline.settings), Querier(second)]
    encode = pipeline.codec.encode
    produce_records(pipeline.settings, [*identity_phase, *bad_events(seed=23)], encode=encode)

    live_sql = ("SELECT person_id, identifiers, touchpoints, conversions, lifecycle_stage, "
                "revenue_currencies, revenue_amounts FROM customer_profiles FINAL "
                "WHERE merged_into IS NULL")
    want = {frozenset(p.identifiers): p for p in people}

    def identity_done() -> tuple[bool, Any]:
        rows = _rows(queriers, live_sql)
        got = {frozenset(r[1]): r for r in rows}
        touched = sum(r[2] for r in rows)
        return (set(got) == set(want) and touched == sum(len(p.touchpoints) for p in people),
                (len(got), touched))

    _wait(identity_done, 180, "one profile per simulated person", pipeline)
    # the workers split the work: each engine holds input rows, from several partitions
    inputs = _rows(queriers, "SELECT event_id, _partition FROM customer_inputs FINAL")
    partition_of = dict(inputs)
    spread = [len({partition_of[e.value.get("touchpoint_id") or
                                f"crm:{e.value['customer_id']}:{e.value['updated_at']}"]
                   for e in p.events if e.topic != topics.CONVERSIONS}) for p in people]
    assert sum(s > 1 for s in spread) >= len(people) / 2
    assert all(q.sql("SELECT count() FROM customer_inputs").rows[0][0] > 0 for q in queriers)

    produce_records(pipeline.settings, converted, encode=encode)
    n_credits = 6 * sum(
        sum(1 for t in p.touchpoints
            if c["occurred_at"] - 30 * DAY_MS <= t["occurred_at"] <= c["occurred_at"])
        for p in people for c in p.conversions)

    def attributed() -> tuple[bool, Any]:
        n = len(set(_rows(queriers, "SELECT conversion_id, model, touchpoint_id "
                                    "FROM attribution_credits FINAL")))
        return n == n_credits, n

    _wait(attributed, 180, "every conversion attributed", pipeline)

    rows = {frozenset(r[1]): r for r in _rows(queriers, live_sql)}
    for ids, p in want.items():
        _, _, touchpoints, conversions, stage, currencies, amounts = rows[ids]
        assert (touchpoints, conversions) == (len(p.touchpoints), len(p.conversions))
        revenue: Counter[str] = Counter()
        for c in p.conversions:
            revenue[c["currency"]] += c["value"]
        assert dict(zip(currencies, amounts, strict=True)) == pytest.approx(dict(revenue))
        assert stage == ("customer" if p.conversions else "lead" if any(
            i.startswith("customer_id:") for i in ids) else "known")
    credits: dict[tuple[str, str], dict[str, float]] = {}
    for conv, model, touch, credit in set(_rows(
            queriers, "SELECT conversion_id, model, touchpoint_id, credit "
                      "FROM attribution_credits FINAL")):
        credits.setdefault((conv, model), {})[touch] = credit
    for p in people:
        for c in p.conversions:
            journey = {t["touchpoint_id"] for t in p.touchpoints
                       if c["occurred_at"] - 30 * DAY_MS <= t["occurred_at"] <= c["occurred_at"]}
            linear = credits[c["conversion_id"], "linear"]
            assert set(linear) == journey
            assert all(v == pytest.approx(1 / len(journey)) for v in linear.values())

    # bad input: five dead letters with their reasons, one flagged touchpoint kept unresolved
    reasons = [r[0] for r in _rows(queriers, "SELECT reason FROM dead_letters FINAL")]
    assert len([r for r in reasons if "identifier" in r or "currency" in r or "finite" in r
                or "ahead" in r]) == 5, reasons
    flagged = _rows(queriers, "SELECT person_id, flags FROM customer_events FINAL "
                              "WHERE has(flags, 'no_usable_identifier')")
    assert [(r[0], list(r[1])) for r in flagged] == [
        ("", ["malformed:email", "blocked:phone", "no_usable_identifier"])]
    # merges and their notices: every absorbed person points at a live one
    merges = _rows(queriers, "SELECT other_person, person_id FROM identity_links FINAL "
                             "WHERE kind = 'merge'")
    assert merges
    for q in queriers:
        q.close()
