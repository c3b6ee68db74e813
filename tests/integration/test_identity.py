"""Probabilistic matching and undoing a join through the real pipeline: a slice of FEBRL1 as
CRM profiles, the worker, the match job reading ClickHouse, persons read back from ClickHouse
against the ground truth; then one matched pair unlinked: the person splits, and
``touchstream identity why`` shows the match (rule and field weights) before and the split
after."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.identity_pipeline import evaluate, load, persons, wait
from streams.ops import identity as ops
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration

ORIGINALS = 150  # FEBRL1 records rec-0 .. rec-149, originals and duplicates


def _why(pipeline: Pipeline, identifier: str) -> str:
    done = subprocess.run([sys.executable, "-m", "streams.cli", "identity", "why", identifier],
                          env={**pipeline.env, "COLUMNS": "200"}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_febrl1_slice_matches_through_the_pipeline_and_an_unlink_splits_the_person(
        pipeline: Pipeline) -> None:
    frame, true = load("febrl1")
    keep = {f"rec-{i}-" for i in range(ORIGINALS)}
    frame = frame[[any(str(r).startswith(k) for k in keep) for r in frame.index]]
    true = {p for p in true if p[0] in frame.index and p[1] in frame.index}
    assert len(frame) == 2 * ORIGINALS and len(true) == ORIGINALS
    pipeline.start_worker()
    q = pipeline.querier()
    result = evaluate(pipeline.settings, q, frame, true, timeout=300)
    assert result["precision"] >= 0.99, result
    assert result["recall"] >= 0.95, result
    assert result["matches"] >= 0.95 * ORIGINALS and result["refused"] == 0, result

    # one matched pair with a date of birth on both records (FEBRL leaves some empty):
    # explained by its match, with the rule and the field weights
    dated = set(frame.index[frame["date_of_birth"].notna()])
    pair = min(sorted(g) for g in persons(q)
               if len(g) == 2 and tuple(sorted(g)) in true and set(g) <= dated)
    a, b = (f"record_id:{r}" for r in pair)
    before = _why(pipeline, a)
    assert "fellegi_sunter" in before and b in before, before
    assert "date_of_birth" in before and "p=" in before, before
    explained = ops.why(q, a)
    assert explained.identifiers == sorted([a, b])
    (edge,) = explained.edges
    assert edge["rule"] == "fellegi_sunter" and edge["probability"] >= 0.9
    assert {"first_name", "last_name", "total"} <= set(edge["weights"])

    ops.send(pipeline.settings, [ops.change_record("unlink", [a, b], "test: not the same")])
    wait(lambda: ((n := q.sql("SELECT count() FROM identity_links FINAL WHERE kind = 'split' "
                              "AND reason = 'test: not the same'").rows[0][0]) == 2, n),
         120, "the split rows")

    def split() -> tuple[bool, object]:
        groups = [g for g in persons(q) if set(g) & set(pair)]
        return sorted(groups) == sorted([[pair[0]], [pair[1]]]), groups

    wait(split, 120, "two profiles, one per record")
    after = _why(pipeline, a)
    assert "unlink" in after and "split" in after and "test: not the same" in after, after
    assert "fellegi_sunter" not in after, after
    assert ops.why(q, a).person_id != ops.why(q, b).person_id
    # the match job leaves the undone pair undone
    run = ops.match(q)
    assert tuple(sorted((a, b))) not in {(m.left, m.right) for m in run.matches}
    assert run.skipped >= 1
