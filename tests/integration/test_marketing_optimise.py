"""Optimisation against the pipeline: history synced from the platform simulator into
ClickHouse, a live cycle's recommendations published and sunk into ``recommendations``,
one approved and applied through the Google Ads connector (the simulator records the mutation
once, under the request id, even when approved twice), one rejected; the audit trail in
ClickHouse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streams import topics
from streams.cli.connectors import simulator_settings
from streams.io.kafka_admin import end_offsets
from streams.io.positions import sunk_next
from streams.marketing import contract as names
from streams.ops import connectors as sync
from streams.ops import optimise as ops
from streams.ops.optimise_apply import transition
from streams.simulators.platforms import SimulatorConfig, running
from tests.integration.conftest import Pipeline, eventually
from tests.integration.test_marketing_connectors import worker_querier

pytestmark = pytest.mark.integration


def test_recommendations_are_audited_and_an_approval_applies_once(pipeline: Pipeline,
                                                                   tmp_path: Path) -> None:
    with running(SimulatorConfig(seed=1, history_days=40, campaigns=3)) as sim:
        settings = simulator_settings(pipeline.settings, sim.url).model_copy(update={
            "connectors_state_dir": tmp_path / "cursors", "connectors_initial_days": 38,
            "meta_poll_seconds": 0.01, "meta_throttle_pause_seconds": 0.01})
        pipeline.start_worker()
        reports = asyncio.run(sync.run(settings, once=True))
        assert all(r.error is None for r in reports), reports
        pipeline.wait_sunk({topics.AD_METRICS: end_offsets(settings, topics.AD_METRICS)},
                           timeout=180)
        q = worker_querier(pipeline)

        def query(sql: str, params: object) -> list[dict[str, object]]:
            return q.sql(sql, params).dicts()  # type: ignore[arg-type]

        def sunk() -> None:
            ends = end_offsets(settings, names.RECOMMENDATIONS)
            eventually(lambda: all(
                sunk_next(q.sql, settings.topic(names.RECOMMENDATIONS),
                          (names.RECOMMENDATIONS_TABLE,), ends).get(p, 0) >= end
                for p, end in ends.items()), timeout=60)

        done = ops.cycle(query, ops.now_ms(), days=35, dry_run=False)
        assert done is not None
        budgets = [(rid, r) for rid, r in zip(done.submitted, done.result.outcome.accepted,
                                              strict=True)
                   if r.action == "set_budget" and r.campaign_id.startswith("GOOGLE_ADS:")]
        assert len(budgets) >= 2, done.result.outcome
        ops.Publishing(settings).publish(done.records)
        sunk()
        pending = query("SELECT request_id, status, dry_run FROM recommendations FINAL", {})
        assert {(r["request_id"], r["status"]) for r in pending} >= {
            (rid, "pending") for rid, _ in budgets}

        connectors = {c.platform: c for c in sync.connectors_from_settings(settings)}
        (rid, rec), (other, _) = budgets[0], budgets[1]
        ledger, records, outcome = transition(query, rid, "approve", "ana", "looks right",
                                              ops.now_ms(), connectors)
        assert ledger.requests[rid].status == "applied", outcome
        assert [r.value["status"] for r in records] == ["approved", "applied"]
        campaign = rec.campaign_id.split(":")[1]
        assert rec.proposed is not None
        assert sim.state[campaign]["budget_micros"] == round(rec.proposed * 1_000_000)
        assert rid in sim.mutations and len(sim.applied) == 1
        ops.Publishing(settings).publish(records)
        rejected = transition(query, other, "reject", "ana", "not this week", ops.now_ms(),
                              connectors)[1]
        ops.Publishing(settings).publish(rejected)
        sunk()
        # approving again: nothing more is sent, nothing more is recorded
        again = transition(query, rid, "approve", "ana", "twice", ops.now_ms(), connectors)
        assert again[1] == [] and len(sim.applied) == 1

    trail = query("SELECT request_id, status, actor, reason FROM recommendations FINAL "
                  "WHERE request_id IN ({a:String}, {b:String}) ORDER BY at, "
                  "indexOf(['pending', 'approved', 'rejected', 'applied'], status)",
                  {"a": rid, "b": other})
    assert [(r["request_id"], r["status"]) for r in trail if r["request_id"] == rid] == [
        (rid, "pending"), (rid, "approved"), (rid, "applied")]
    assert [(r["status"], r["actor"]) for r in trail if r["request_id"] == other] == [
        ("pending", "optimiser"), ("rejected", "ana")]
    assert [r["reason"] for r in trail if r["request_id"] == other][1] == "not this week"
    assert query("SELECT count() AS n FROM campaign_levers FINAL", {})[0]["n"] != 0
