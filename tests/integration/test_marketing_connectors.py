"""Connector sync against the platform simulator, through the real broker and worker: the
KPIs in ClickHouse equal what the simulator served, the latest restatement winning; rejected
rows land in ``dead_letters`` with their reasons; a second sync resumes from the cursors."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from streams import topics
from streams.cli.connectors import simulator_settings
from streams.io.kafka_admin import end_offsets
from streams.io.query import Querier
from streams.marketing.connectors.base import reread_start
from streams.ops import connectors as ops
from streams.simulators.platforms import ACCOUNTS, DEVICES, GOOGLE, Simulator, SimulatorConfig, running
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration


def worker_querier(pipeline: Pipeline) -> Querier:
    """A querier through the worker, which holds the embedded engine: after a backlog the
    worker may answer its health check late, and the querier must not open the engine."""
    for _ in range(60):
        querier = pipeline.querier()
        if querier.via_worker:
            return querier
        time.sleep(0.5)
    raise AssertionError("the worker does not answer")


def served_google(sim: Simulator, days: int) -> dict[tuple[str, str, int], tuple[Any, ...]]:
    """What the simulator serves now for every Google ad, device and hour of the reporting
    days the connector reads (from ``days`` before today, UTC)."""
    _, tz, _ = ACCOUNTS[GOOGLE]
    now = sim.today(GOOGLE)
    out: dict[tuple[str, str, int], tuple[Any, ...]] = {}
    for ad in sim.ads[GOOGLE]:
        for device, share in DEVICES:
            for day, hour in sim.hours(GOOGLE, reread_start(time.time(), days), now.date()):
                local = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
                imps, clicks, cost, conv, value = sim.figures(GOOGLE, ad, day, hour, share, device)
                out[ad.ad_id, device, int(local.timestamp() * 1000)] = (
                    imps, clicks, cost / 1e6, conv, value)
    return out


def test_sync_lands_what_the_simulator_served(pipeline: Pipeline, tmp_path: Path) -> None:
    # the simulator restates fewer days than the connectors re-read, whatever the time zone
    config = SimulatorConfig(seed=11, restatement_days=2, bad_rows=True)
    with running(config) as sim:
        settings = simulator_settings(pipeline.settings, sim.url).model_copy(update={
            "connectors_state_dir": tmp_path / "cursors", "connectors_initial_days": 4,
            "connectors_restatement_days": 3, "meta_poll_seconds": 0.01,
            "meta_throttle_pause_seconds": 0.05})
        connectors = ops.connectors_from_settings(settings)
        assert sorted(c.platform for c in connectors) == [
            "EMAIL", "GOOGLE_ADS", "META", "WEB_ANALYTICS"]
        pipeline.start_worker()
        first = asyncio.run(ops.run(settings, once=True, connectors=connectors))
        assert all(r.error is None for r in first), first
        before = served_google(sim, 4)
        store = ops.CursorStore(settings.effective_connectors_state_dir)
        saved = store.load("GOOGLE_ADS").next_start
        second = asyncio.run(ops.run(settings, once=True,
                                     connectors=ops.connectors_from_settings(settings)))
        after = served_google(sim, 4)
    # the second pull read from the saved cursor (the restatement window), not from scratch
    by = {r.platform: r for r in second}
    assert 0 < by["GOOGLE_ADS"].metrics < {r.platform: r for r in first}["GOOGLE_ADS"].metrics
    assert store.load("GOOGLE_ADS").next_start == saved
    restated = [k for k in after if after[k][3] != before[k][3]]
    assert restated, "the simulator restated nothing: the test would prove nothing"

    pipeline.wait_sunk({topics.AD_METRICS: end_offsets(pipeline.settings, topics.AD_METRICS)})
    q = worker_querier(pipeline)
    rows = q.sql(
        "SELECT ad_id, device, toUnixTimestamp64Milli(interval_start), impressions, clicks, "
        "spend, conversions, conversion_value FROM campaign_kpis FINAL "
        "WHERE platform = 'GOOGLE_ADS'").rows
    got = {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}
    assert set(got) == set(after)
    for key, want in after.items():
        assert got[key][:2] == want[:2], key
        assert got[key][2:] == pytest.approx(want[2:], abs=1e-6), key
    platforms = dict(q.sql("SELECT platform, count() FROM campaign_kpis FINAL "
                           "GROUP BY platform").rows)
    assert set(platforms) == {"GOOGLE_ADS", "META", "EMAIL", "WEB_ANALYTICS"}

    rejects = sum(r.rejects for r in first + second)
    assert rejects > 0

    def dead_lettered() -> bool:
        n = q.sql("SELECT count() FROM dead_letters WHERE has(mapKeys(headers), "
                  "'touchstream.connector.platform')").rows[0][0]
        return bool(n == rejects)

    eventually(dead_lettered, timeout=60)
    reasons = {r[0] for r in q.sql("SELECT reason FROM dead_letters").rows}
    assert "clicks (9) exceed impressions (5)" in reasons
    assert any("ISO 4217" in r for r in reasons)
