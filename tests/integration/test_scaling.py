"""Two workers of one consumer group share the work; one leaves mid-run and hands over.

Each worker holds its own embedded ClickHouse store (the engine admits one process per data
directory). A store held by a running worker is read through its ``/sql``; the store of the
worker that left is opened directly.

While both run, every event is sunk exactly once across the two stores: rows and distinct
source positions summed over both, and the rollups (the latest version of each conversation
and campaign interval over both stores) exact. When one leaves while events keep coming, the
other takes its partitions, recovers their state from the changelogs and resumes where the
leaver stopped (``agents.runtime.positions.resume_at``: the state and the group's committed
offset say how far the leaver got, not the taker's own store):

- after a graceful stop every chat event is in exactly one store, at its position, and the
  rollups over both stores are exact;
- after a SIGKILL nothing is lost and the rollups are exact; what the killed worker had sunk
  but not yet committed or published to its changelogs is read again by the other, so those
  events are in both stores, with the same values, at the end of the killed worker's rows.

Reading one store alone answers for the partitions its worker held; the latest rollups are
spread over the stores (README, Scaling: workers that hand partitions over share a
ClickHouse server or query both).
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.positions import sunk_next
from streams.io.producer import produce_records
from streams.io.query import Querier, worker_url
from streams.kernel.records import OutputRecord
from streams.ops.demo import SINK_TABLES, start_worker, stop_worker
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations
from streams.simulators.run import interleave
from tests.integration import expected
from tests.integration.conftest import Pipeline, _free_port, eventually

pytestmark = pytest.mark.integration

SOURCES = (topics.CHAT_EVENTS, topics.AD_METRICS)


@dataclass
class Worker:
    settings: Settings
    proc: subprocess.Popen[bytes]

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """The worker's ``/metrics``: samples by name, each with its labels and value."""
        with urllib.request.urlopen(worker_url(self.settings) + "/metrics", timeout=10) as r:
            text = r.read().decode()
        out: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
        return out

    def assigned(self) -> set[tuple[str, int]]:
        """The source partitions (chat events, ad metrics) the worker is assigned now."""
        physical = {self.settings.topic(t) for t in SOURCES}
        return {
            (labels["topic"], int(labels["partition"]))
            for name in ("touchstream_consumer_position_offset",
                         "touchstream_consumer_committed_offset",
                         "touchstream_consumer_highwater_offset")
            for labels, _ in self.metrics().get(name, [])
            if labels["topic"] in physical
        }


def all_partitions(settings: Settings) -> set[tuple[str, int]]:
    return {(settings.topic(t), p) for t in SOURCES for p in end_offsets(settings, t)}


def sunk_over(queriers: list[Querier], settings: Settings, topic: str) -> dict[int, int]:
    """Next offset per partition sunk by any of the stores (a partition moves between them)."""
    out: dict[int, int] = {}
    for q in queriers:
        for p, n in sunk_next(q.sql, settings.topic(topic), SINK_TABLES[topic]).items():
            out[p] = max(out.get(p, 0), n)
    return out


def wait_sunk_over(queriers: list[Querier], settings: Settings, timeout: float = 180) -> None:
    targets = {t: end_offsets(settings, t) for t in SOURCES}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(sunk_over(queriers, settings, t).get(p, 0) >= end
               for t, ends in targets.items() for p, end in ends.items()):
            return
        time.sleep(0.5)
    raise AssertionError(f"not sunk within {timeout}s across the stores: {targets}")


def rows(q: Querier, sql: str) -> list[tuple[Any, ...]]:
    return list(q.sql(sql).rows)


def chat_rows(q: Querier) -> list[tuple[str, str, int, int, int]]:
    """(event id, topic, partition, offset, digest of the row's values) of every chat_events
    row of a store; the digest covers every column but the insertion time."""
    return [(str(e), str(t), int(p), int(o), int(d)) for e, t, p, o, d in rows(
        q, "SELECT event_id, _topic, _partition, _offset, cityHash64(toString((event_id, "
           "conversation_id, event_type, occurred_at, channel, sender_role, sender_id, "
           "language, customer_id, text, sentiment_compound, sentiment_positive, "
           "sentiment_neutral, sentiment_negative, sentiment_label, _kafka_ts))) "
           "FROM chat_events FINAL")]


def assert_conversations(stores: list[Querier], chat: list[OutputRecord]) -> None:
    """The latest version of each conversation over ``stores`` is what ``chat`` makes."""
    latest: dict[str, tuple[Any, ...]] = {}
    for q in stores:
        for r in rows(q, "SELECT conversation_id, events, messages, customer_messages, "
                         "status, sentiment_mean, min_sentiment, _version "
                         "FROM conversations FINAL"):
            if r[0] not in latest or r[7] > latest[r[0]][7]:
                latest[r[0]] = r
    want = expected.conversations(chat)
    assert set(latest) == set(want)
    for cid, w in want.items():
        g = latest[cid]
        assert (g[1], g[2], g[3], g[4]) == (
            w["events"], w["messages"], w["customer_messages"], w["status"]), cid
        if w["sentiment_mean"] is None:
            assert g[5] is None
        else:
            assert g[5] == pytest.approx(w["sentiment_mean"], abs=1e-9)
            assert g[6] == pytest.approx(w["min_sentiment"], abs=1e-9)


def assert_kpis(stores: list[Querier], ads: list[OutputRecord]) -> None:
    """The latest revision of every campaign interval over ``stores`` is the latest report."""
    kpis: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for q in stores:
        for r in rows(q, "SELECT platform, account_id, campaign_id, level, ad_group_id, "
                         "ad_id, device, toUnixTimestamp64Milli(interval_start), "
                         "impressions, clicks, spend, _version FROM campaign_kpis FINAL"):
            key = tuple(r[:8])
            if key not in kpis or r[11] > kpis[key][11]:
                kpis[key] = r
    latest = expected.latest_metrics(ads)
    assert set(kpis) == set(latest)
    for key, r in kpis.items():
        m = latest[key]
        assert (r[8], r[9]) == (m["impressions"], m["clicks"])
        assert r[10] == pytest.approx(m["cost_micros"] / 1_000_000)
        assert r[11] == m["reported_at"]


@pytest.fixture
def second(pipeline: Pipeline) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Settings and env of a second worker in the same group: its own store and port."""
    store = pipeline.log_dir.parent / "clickhouse-b"
    port = str(_free_port())
    settings = pipeline.settings.model_copy(
        update={"clickhouse_url": f"chdb://{store}", "web_port": int(port)})
    env = {**pipeline.env, "TOUCHSTREAM_CLICKHOUSE_URL": f"chdb://{store}",
           "TOUCHSTREAM_WEB_PORT": port}
    yield settings, env


@pytest.mark.parametrize("leave", ["graceful", "sigkill"])
def test_two_workers_share_the_group_and_a_leaving_one_hands_over(
        pipeline: Pipeline, second: tuple[Settings, dict[str, str]], leave: str) -> None:
    chat = list(conversations(3000, seed=303))
    ads = list(ad_metrics(1200, seed=404))
    records: list[OutputRecord] = list(interleave(iter(chat), iter(ads)))
    third = len(records) // 3
    chat_topic = pipeline.settings.topic(topics.CHAT_EVENTS)
    encode = pipeline.codec.encode

    a = Worker(pipeline.settings, pipeline.start_worker())
    settings_b, env_b = second
    b = Worker(settings_b, start_worker(settings_b, str(pipeline.log_dir / "worker-b.log"),
                                        env=env_b))
    pipeline.workers.append(b.proc)  # stopped at teardown if the test fails early
    everything = all_partitions(pipeline.settings)

    # 1. both in the group: the source partitions split between them, none twice
    def split() -> bool:
        got_a, got_b = a.assigned(), b.assigned()
        return bool(got_a) and bool(got_b) and not got_a & got_b and got_a | got_b == everything
    eventually(split, timeout=90, interval=1.0)
    held_a, held_b = a.assigned(), b.assigned()

    # 2. a third of the load on both: exactly once across the two stores
    qa, qb = Querier(a.settings), Querier(b.settings)  # asked while idle: /health answers
    assert qa.via_worker and qb.via_worker
    started = time.monotonic()
    produce_records(pipeline.settings, records[:third], encode=encode)
    wait_sunk_over([qa, qb], pipeline.settings)
    both_s = time.monotonic() - started
    assert (a.assigned(), b.assigned()) == (held_a, held_b)  # no rebalance meanwhile
    chat_1 = [r for r in records[:third] if r.topic == topics.CHAT_EVENTS]
    ads_1 = [r for r in records[:third] if r.topic == topics.AD_METRICS]
    in_a, in_b = chat_rows(qa), chat_rows(qb)
    assert in_a and in_b, "both workers sank chat events"
    assert {(t, p) for _, t, p, _, _ in in_a} <= held_a  # each its own partitions only
    assert {(t, p) for _, t, p, _, _ in in_b} <= held_b
    assert len(in_a) + len(in_b) == len(chat_1)
    assert len({(t, p, o) for _, t, p, o, _ in in_a + in_b}) == len(chat_1)
    assert {r[0] for r in in_a + in_b} == {rec.value["event_id"] for rec in chat_1}
    assert_conversations([qa, qb], chat_1)
    assert_kpis([qa, qb], ads_1)
    split_rows = (len(in_a), len(in_b))

    # 3. B leaves (a graceful stop, or SIGKILL) while events keep coming: its partitions go
    # to A
    producing = threading.Thread(target=produce_records, args=(pipeline.settings,
                                 records[third:2 * third]),
                                 kwargs={"encode": encode, "rate": 500.0})
    producing.start()
    # B stops once it has sunk some of this third, while the rest is still being produced
    eventually(lambda: rows(qb, "SELECT count() FROM chat_events")[0][0] > split_rows[1],
               timeout=30, interval=0.2)
    assert producing.is_alive()
    if leave == "graceful":
        stop_worker(b.proc)
    else:
        os.killpg(b.proc.pid, signal.SIGKILL)
        b.proc.wait()
    assert b.proc.returncode is not None
    producing.join()
    eventually(lambda: a.assigned() == everything, timeout=90, interval=1.0)
    produce_records(pipeline.settings, records[2 * third:], encode=encode)
    qb = Querier(b.settings)  # B is gone: its store is opened directly
    assert not qb.via_worker
    try:
        wait_sunk_over([qa, qb], pipeline.settings)
        total_s = time.monotonic() - started
        assert a.assigned() == everything

        # 4. nothing lost: every chat event at its position in one store at least; no store
        # holds a position twice
        in_a, in_b = chat_rows(qa), chat_rows(qb)
        at_a = {(t, p, o): d for _, t, p, o, d in in_a}
        at_b = {(t, p, o): d for _, t, p, o, d in in_b}
        assert (len(at_a), len(at_b)) == (len(in_a), len(in_b))
        assert len(at_a.keys() | at_b.keys()) == len(chat)
        assert {r[0] for r in in_a + in_b} == {rec.value["event_id"] for rec in chat}
        assert 0 < len(at_b) < len(chat)
        # B's rows: a prefix of each of its partitions, up to where it stopped; A's rows of
        # those partitions: from where it resumed to the end
        for topic, partition in sorted(held_b):
            if topic != chat_topic:
                continue
            mine = sorted(o for t, p, o in at_b if (t, p) == (topic, partition))
            assert mine == list(range(len(mine))), partition
            taken = sorted(o for t, p, o in at_a if (t, p) == (topic, partition))
            assert taken, partition
            assert taken == list(range(taken[0], taken[0] + len(taken))), partition
            assert taken[0] <= len(mine), f"{partition}: offsets {taken[0]}..{len(mine)} lost"
        doubled = at_a.keys() & at_b.keys()
        # a position held by both holds the same values there (read again, not re-made)
        assert all(at_a[k] == at_b[k] for k in doubled)
        if leave == "graceful":  # handed over where B stopped: exactly once across the stores
            assert not doubled, sorted(doubled)[:10]
            assert len(in_a) + len(in_b) == len(chat)
        else:  # B's last write(s) not yet committed nor in its changelogs: read again
            assert len(doubled) <= 2 * pipeline.settings.batch_max_events

        # 5. rollups: the latest version over both stores is exact, including the
        # conversations that began on B and went on on A (state from the changelog)
        assert_conversations([qa, qb], chat)
        assert_kpis([qa, qb], ads)
        for q in (qa, qb):
            assert rows(q, "SELECT count() FROM dead_letters")[0][0] == 0
        only_b = {r[0] for r in rows(qb, "SELECT conversation_id FROM conversations FINAL")} - {
            r[0] for r in rows(qa, "SELECT conversation_id FROM conversations FINAL")}

        # 6. produce-to-durable latency is exported as a histogram
        counts = a.metrics().get("touchstream_produce_to_durable_seconds_count", [])
        assert sum(v for _, v in counts) > 0
        print(f"\nscaling ({leave}): {len(records)} events ({len(chat)} chat); the first "
              f"{third} on two workers sunk in {both_s:.1f} s (chat rows A/B {split_rows}); "
              f"all sunk after {total_s:.1f} s; B held {sorted(held_b)} and had sunk "
              f"{len(at_b)} chat rows when it left; chat events in both stores: "
              f"{len(doubled)}; conversations whose latest row is only in B's store: "
              f"{len(only_b)}")
    finally:
        qb.close()
