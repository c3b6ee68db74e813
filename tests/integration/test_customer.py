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
from streams.customer import identity_changes
from streams.customer.attribution import DAY_MS
from streams.customer.attribution_run import Window, load
from streams.io.kafka_admin import delete_topics_with_prefix
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
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


def test_an_unlink_moves_the_split_off_events_to_their_new_person(cleaned: Pipeline) -> None:
    """One person (anon-1's touchpoint, then jane's email seen with anon-1, a purchase by
    each); an unlink of that email and anon-1 splits it: the worker rewrites the event rows
    of jane's part under jane's new person, so a timeline by person and the scheduled
    attribution runs (which read customer_events) see them there."""
    pipeline = cleaned
    pipeline.start_worker()
    at = int(time.time() * 1000) - 3 * DAY_MS
    hour = 3_600_000

    def ids(**given: str) -> dict[str, str | None]:
        return {k: given.get(k) for k in ("customer_id", "email", "phone", "anonymous_id",
                                          "device_id")}

    def touch(tid: str, when: int, channel: str, **given: str) -> OutputRecord:
        return OutputRecord(topics.TOUCHPOINTS, next(iter(given.values())), {
            "touchpoint_id": tid, "occurred_at": when, "type": "click", "channel": channel,
            "platform": None, "campaign_id": None, "ad_group_id": None, "ad_id": None,
            "utm": {"source": None, "medium": None, "campaign": None, "term": None,
                    "content": None}, "identifiers": ids(**given), "url": None,
            "referrer": None, "properties": {}})

    def buy(cid: str, when: int, value: float, **given: str) -> OutputRecord:
        return OutputRecord(topics.CONVERSIONS, next(iter(given.values())), {
            "conversion_id": cid, "occurred_at": when, "type": "purchase", "value": value,
            "currency": "USD", "order_id": None, "identifiers": ids(**given),
            "properties": {}})

    email, anon = "jane@mail.org", "anon-1"
    encode = pipeline.codec.encode
    produce_records(pipeline.settings, [touch("tp1", at, "paid_search", anonymous_id=anon)],
            encode=encode)
    q = Querier(pipeline.settings)

    def persons_of(*events: str) -> dict[str, str]:
        return {str(e): str(p) for e, p in q.sql(
            "SELECT event_id, person_id FROM customer_events FINAL "
            "WHERE has({events:Array(String)}, event_id)", {"events": list(events)}).rows}

    _wait(lambda: (len(persons_of("tp1")) == 1, None), 120, "tp1 resolved", pipeline)
    produce_records(pipeline.settings, [
        touch("tp2", at + hour, "email", email=email, anonymous_id=anon),
        buy("cv1", at + 2 * hour, 100.0, email=email),
        buy("cv2", at + 3 * hour, 50.0, anonymous_id=anon)], encode=encode)
    events = ("tp1", "tp2", "cv1", "cv2")

    def one_person() -> tuple[bool, Any]:
        live = q.sql("SELECT person_id, touchpoints, conversions FROM customer_profiles FINAL "
                     "WHERE merged_into IS NULL").rows
        return [tuple(r[1:]) for r in live] == [(2, 2)], live

    # the rows keep the person each event was resolved to (cv1 may come before tp2 joins
    # jane's email to anon-1); the profiles show the one person they make
    ((held, _, _),) = _wait(one_person, 120, "one person", pipeline)
    produce_records(pipeline.settings, [OutputRecord(
        topics.IDENTITY_OBSERVATIONS, "identity", identity_changes.observation(
            "unlink", [("email", email), ("anonymous_id", anon)], "unlink:it", at + 4 * hour,
            {"reason": "shared laptop"}))], encode=encode)

    def split() -> tuple[bool, Any]:
        got = persons_of(*events)
        return got["tp2"] != held, got

    after = _wait(split, 120, "tp2 moved to jane's new person", pipeline)
    jane = after["tp2"]
    assert after == {"tp1": held, "tp2": jane, "cv1": jane, "cv2": held}
    # the person's own rows read without FINAL (as a timeline reads them): its latest
    # version of each event names jane for tp2 and cv1
    latest: dict[str, tuple[int, str]] = {}
    for event_id, person, version in q.sql(
            "SELECT event_id, person_id, _version FROM customer_events "
            "WHERE has({p:Array(String)}, person_id)", {"p": [held, jane]}).rows:
        if event_id not in latest or version > latest[event_id][0]:
            latest[event_id] = (version, person)
    assert {e: p for e, (_, p) in latest.items()} == after
    touches, conversions = load(q.sql, Window(at, at + DAY_MS), 30 * DAY_MS)
    by_id = dict(zip(conversions.conversion_id.tolist(), conversions.person.tolist(),
                     strict=True))
    assert by_id == {"cv1": jane, "cv2": held}
    assert dict(zip(touches.touchpoint_id.tolist(), touches.person.tolist(),
                    strict=True)) == {"tp1": held, "tp2": jane}
    q.close()
