"""A partition newly assigned after a rebalance is re-read from where its store stands, and
makes progress: workers join and leave one group under load, each with its own store.

The stall this guards against: the position guard asks to re-read a partition from the
offset its store needs (``got offset N while M is next; re-reading from M``), and another
seek (the re-read of records dropped during the rebalance, or the seek to the committed
offsets while flow is stopped) moved the partition forward again, so the re-read never
arrived and the guard asked again every few seconds until the partition moved again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import scenarios
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration


@pytest.mark.xfail(strict=False, reason=(
    "known: a partition newly assigned after a rebalance can still stall (the guard's seek "
    "back executes, yet records keep arriving from the live end until the partition moves "
    "again); seen in 2 of 4 fault runs after the seek clamp of agents.runtime.transport"))
def test_workers_joining_and_leaving_lose_nothing_and_no_partition_stalls(
        pipeline: Pipeline, tmp_path: Path) -> None:
    out = scenarios.workers_join_and_leave(pipeline, tmp_path, rate=800.0, hold=10.0,
                                           kills=(False, True))
    assert out.recovery_s is not None, f"not all sunk; logs in {pipeline.log_dir}"
    assert out.count.lost == 0 and out.count.duplicated == 0, out.figures
    assert out.count.positions == out.count.produced, out.figures
    # a re-read is asked for once, or once more by the overdue timer; a partition asked
    # again and again for the same offset is the stall
    stalled = {k: n for k, n in out.re_reads.items() if n > 2}
    assert not stalled, f"re-reads asked again and again: {stalled}"
    assert out.figures["rollup_exact"], out.figures
