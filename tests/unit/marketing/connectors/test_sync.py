"""The connector sync (``streams.ops.connectors``) against the simulator, without Kafka:
which connectors the settings configure, cursors saved only after a chunk is durable, a
platform that stays down leaving the cursor, and the records and dead letters handed to
Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import SecretStr

from streams.contract.codec import AvroCodec
from streams.io.publisher import Outgoing, Publisher
from streams.kernel.deadletter import H_ERROR, H_OFFSET, H_PARTITION, H_REASON, H_TOPIC
from streams.kernel.records import Raw
from streams.marketing.connector_rejects import (
    H_PLATFORM,
    connector_dead_letter_columns,
    reject_dead_letter,
)
from streams.marketing.connectors.base import Cursor, PullResult
from streams.marketing.connectors.rows import Reject
from streams.ops import connectors as ops
from streams.settings import Settings
from streams.simulators.platforms import ACCOUNTS, GOOGLE, SimulatorConfig, serving
from tests.unit.marketing.connectors.conftest import NOW, FakeClock, connector, run


class Recording:
    """A sink that keeps what it is given and fails on the chunk numbered ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.chunks: list[PullResult] = []
        self.fail_at = fail_at

    async def deliver(self, chunk: PullResult) -> None:
        if self.fail_at is not None and len(self.chunks) == self.fail_at:
            raise ConnectionError("the broker went away")
        self.chunks.append(chunk)


def test_only_platforms_with_accounts_and_credentials_are_configured(tmp_path: Path) -> None:
    base = Settings(local_state_dir=tmp_path)
    assert ops.connectors_from_settings(base) == []
    half = base.model_copy(update={"google_ads_customer_ids": ["1"],
                                   "google_ads_access_token": SecretStr("t")})
    assert ops.connectors_from_settings(half) == []  # the developer token is missing
    both = half.model_copy(update={"google_ads_developer_token": SecretStr("d"),
                                   "ga4_property_ids": ["properties/9"],
                                   "ga4_access_token": SecretStr("secret-ga4"),
                                   "connectors_restatement_days": 5})
    chosen = ops.connectors_from_settings(both)
    assert [c.platform for c in chosen] == ["GOOGLE_ADS", "WEB_ANALYTICS"]
    assert all(c.config.restatement_days == 5 for c in chosen)
    assert "secret-ga4" not in repr(chosen[1].config)
    assert base.effective_connectors_state_dir == tmp_path / "connectors"


def test_the_cursor_store_round_trips_and_replaces_atomically(tmp_path: Path) -> None:
    store = ops.CursorStore(tmp_path / "c")
    assert store.load("META") == Cursor()
    cursor = Cursor({"act_1": "2026-03-11"})
    store.save("META", cursor)
    store.save("META", cursor.advanced("act_1", cursor.start("act_1").replace(day=12)))  # type: ignore[union-attr]
    assert store.load("META").next_start == {"act_1": "2026-03-12"}
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["meta.json"]


def test_the_cursor_moves_only_past_chunks_the_sink_made_durable(tmp_path: Path) -> None:
    store = ops.CursorStore(tmp_path)
    changes: dict[str, Any] = {"initial_days": 6, "restatement_days": 1}

    async def body() -> tuple[ops.SyncReport, Recording, ops.SyncReport, Recording]:
        clock = FakeClock()
        async with serving(SimulatorConfig(now=lambda: NOW)) as sim:
            failing = Recording(fail_at=1)
            with pytest.raises(ConnectionError):
                await ops.sync_connector(connector(GOOGLE, sim, clock, **changes), store, failing)
            again = Recording()
            report = await ops.sync_connector(connector(GOOGLE, sim, clock, **changes), store,
                                              again)
            later = Recording()
            last = await ops.sync_connector(connector(GOOGLE, sim, clock, **changes), store,
                                            later)
        return report, again, last, later

    report, again, last, later = run(body)
    account = ACCOUNTS[GOOGLE][0]
    # the first chunk (03-09..03-10) was durable, the second was not: the restart reads from
    # 03-11, the day after the first chunk
    first_day = min(m["interval_start"] for m in again.chunks[0].metrics)
    assert first_day >= 1773201600000  # 2026-03-11 00:00 America/New_York
    assert report.error is None and report.chunks == len(again.chunks) >= 2
    assert report.metrics == sum(len(c.metrics) for c in again.chunks)
    assert store.load("GOOGLE_ADS").next_start == {account: "2026-03-14"}
    # the next tick reads only the restatement window
    assert last.chunks and min(m["interval_start"] for c in later.chunks
                               for m in c.metrics) >= 1773460800000  # 2026-03-14 local


def test_a_platform_that_stays_down_is_reported_and_keeps_its_cursor(tmp_path: Path) -> None:
    store = ops.CursorStore(tmp_path)
    store.save("GOOGLE_ADS", Cursor({ACCOUNTS[GOOGLE][0]: "2026-03-12"}))

    async def body() -> tuple[ops.SyncReport, Recording]:
        clock = FakeClock()
        async with serving(SimulatorConfig(now=lambda: NOW)) as sim:
            sim.fail_next.extend([503] * 20)
            sink = Recording()
            return await ops.sync_connector(connector(GOOGLE, sim, clock), store, sink), sink

    report, sink = run(body)
    assert report.error is not None and report.error.startswith("unavailable")
    assert sink.chunks == []
    assert store.load("GOOGLE_ADS").next_start == {ACCOUNTS[GOOGLE][0]: "2026-03-12"}


class NoPublisher:
    async def publish(self, records: list[Outgoing]) -> None:
        raise AssertionError("not used here")


def test_records_are_keyed_and_encoded_and_rejects_are_dead_letters() -> None:
    settings = Settings(topic_prefix="p.")
    codec = AvroCodec.from_settings(settings)
    sink = ops.KafkaSink(settings, cast(Publisher, NoPublisher()), codec)

    async def pull() -> PullResult:
        async with serving(SimulatorConfig(now=lambda: NOW, bad_rows=True)) as sim:
            return await connector(GOOGLE, sim, FakeClock()).pull(Cursor())

    chunk = run(pull)
    assert chunk.rejects
    out = sink.outgoing(chunk, 1_773_570_600_000)
    metrics = [o for o in out if o.topic == "p.ad.metrics"]
    letters = [o for o in out if o.topic == "p.ad.metrics.dlq"]
    assert (len(metrics), len(letters)) == (len(chunk.metrics), len(chunk.rejects))
    first = chunk.metrics[0]
    assert metrics[0].key == f"GOOGLE_ADS:{first['campaign_id']}".encode()
    assert metrics[0].value is not None
    assert codec.decoder("ad.metrics")([metrics[0].value])[0] == first
    headers = dict(letters[0].headers or [])
    assert headers[H_TOPIC] == b"p.ad.metrics"
    assert (headers[H_PARTITION], headers[H_OFFSET]) == (b"-1", b"-1")
    assert headers[H_ERROR] == b"invalid_field"
    assert headers[H_REASON] == chunk.rejects[0].reason.encode()
    assert headers[H_PLATFORM] == b"GOOGLE_ADS"
    assert letters[0].key is not None and letters[0].key.startswith(b"GOOGLE_ADS:")


def test_the_rejects_stage_keeps_connector_dead_letters_once_and_skips_the_workers() -> None:
    letter = reject_dead_letter(Reject("META", "act_1", "spend is not finite ('NaN')",
                                       {"campaign_id": "42", "spend": "NaN"}),
                                "ad.metrics", "ad.metrics.dlq", 1_000)
    topic, key, value, headers = letter.message()
    mine = Raw(topic, 2, 7, 1_000, key, value,
               tuple((k, v if isinstance(v, bytes) else b"") for k, v in headers))
    workers = Raw(topic, 2, 8, 1_000, b"k", b"v", ((H_REASON, b"from the worker"),))
    cols = connector_dead_letter_columns([mine, workers])
    assert cols["reason"] == ["spend is not finite ('NaN')"]
    assert (cols["_topic"], cols["_partition"], cols["_offset"]) == (
        ["ad.metrics.dlq"], [2], [7])
    assert key == b"META:42"
    assert cols["failed_at"] == [1_000]


def test_the_scheduler_pulls_every_connector_again_at_each_tick(tmp_path: Path) -> None:
    import asyncio

    store = ops.CursorStore(tmp_path)

    async def body() -> list[ops.SyncReport]:
        reports: list[ops.SyncReport] = []
        stop = asyncio.Event()

        def seen(report: ops.SyncReport) -> None:
            reports.append(report)
            if len(reports) >= 4:
                stop.set()

        async with serving(SimulatorConfig(now=lambda: NOW)) as sim:
            chosen = [connector(GOOGLE, sim, FakeClock(), schedule_seconds=0.01),
                      connector("ga4", sim, FakeClock(), schedule_seconds=0.01)]
            await ops.Scheduler(chosen, store, Recording(), seen).forever(stop)
        return reports

    reports = run(body)
    platforms = [r.platform for r in reports]
    assert platforms.count("GOOGLE_ADS") >= 2 or platforms.count("WEB_ANALYTICS") >= 2
    assert {"GOOGLE_ADS", "WEB_ANALYTICS"} <= set(platforms)
    assert all(r.error is None for r in reports)
    assert set(p.name for p in tmp_path.iterdir()) == {"google_ads.json", "web_analytics.json"}
