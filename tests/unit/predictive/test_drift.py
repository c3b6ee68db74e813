"""PSI: equal distributions near zero, shifted ones large; the insight SQL agrees with Python."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from streams.predictive.drift import (
    SCORE_PSI_BY_DAY_SQL,
    BinnedReference,
    bin_fractions,
    drift_reference,
    drift_report,
    psi,
    psi_between,
    reference_bins,
)


def test_same_distribution_is_stable_and_a_shift_is_not() -> None:
    rng = np.random.default_rng(3)
    train = rng.normal(size=20_000)
    assert psi_between(train, rng.normal(size=20_000)) < 0.01
    assert 0.1 < psi_between(train, rng.normal(0.5, 1.0, size=20_000)) < 0.5
    assert psi_between(train, rng.normal(2.0, 1.0, size=20_000)) > 1.0


def test_quantile_bins_from_training_are_even_and_merge_ties() -> None:
    rng = np.random.default_rng(4)
    ref = reference_bins(rng.uniform(size=10_000), bins=10)
    assert len(ref.cuts) == 9
    assert ref.fractions[:-1] == pytest.approx([0.1] * 10, abs=0.002)
    assert ref.fractions[-1] == 0.0
    discrete = reference_bins(np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3], dtype=float))
    assert discrete.cuts == (1.0, 2.0, 3.0)
    assert discrete.fractions == pytest.approx((0.4, 0.2, 0.2, 0.2, 0.0))


def test_missing_values_have_their_own_bin() -> None:
    ref = BinnedReference((1.0,), (0.5, 0.5, 0.0))
    assert bin_fractions(ref.cuts, [0.0, 2.0, np.nan, np.nan]).tolist() == [0.25, 0.25, 0.5]
    assert psi(ref, [0.0, 2.0, np.nan, np.nan]) > 0.5


def test_report_covers_features_and_score() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5000, 2))
    ref = drift_reference(("a", "b"), x, rng.uniform(0, 100, 5000))
    recent = np.column_stack([rng.normal(size=3000), rng.normal(1.5, 1.0, size=3000)])
    report = drift_report(ref, ("a", "b"), recent, rng.uniform(0, 100, 3000))
    assert report["a"] < 0.02 and report["b"] > 0.5 and report["score"] < 0.02
    assert type(ref).from_dict(ref.to_dict()) == ref


# Runs in a child process: the embedded engine admits one data path per process, and another
# test of the same run may already hold one.
_RUN_SQL = """
import json, sys
from chdb import session
job = json.load(sys.stdin)
s = session.Session()
try:
    s.query("CREATE TABLE lead_scores (person_id String, scored_at DateTime64(3, 'UTC'), "
            "score Float64, model_version String) ENGINE = MergeTree ORDER BY scored_at")
    s.query("INSERT INTO lead_scores VALUES " + job["values"])
    sys.stdout.write(str(s.query(job["sql"], "CSV", params=job["params"])))
finally:
    s.close()
"""


def test_score_psi_sql_matches_the_python_psi() -> None:
    rng = np.random.default_rng(6)
    ref = reference_bins(rng.uniform(0, 100, 10_000))
    day1 = rng.uniform(0, 100, 400)
    day2 = rng.uniform(60, 100, 300)  # shifted up, and the low bins empty
    rows = [(f"p{i}", f"2026-03-01 {i % 24:02d}:00:00", s, "v1") for i, s in enumerate(day1.tolist())]
    rows += [(f"q{i}", f"2026-03-02 {i % 24:02d}:30:00", s, "v1") for i, s in enumerate(day2.tolist())]
    rows += [("other", "2026-03-02 10:00:00", 1.0, "v0")]  # another model's score is left out
    job = {"values": ",".join(f"('{p}', '{t}', {s!r}, '{v}')" for p, t, s, v in rows),
           "sql": SCORE_PSI_BY_DAY_SQL,
           "params": {"cuts": repr(list(ref.cuts)), "expected": repr(list(ref.fractions[:-1])),
                      "model_version": "v1", "start": "2026-03-01 00:00:00", "end": "2026-03-03 00:00:00"}}
    done = subprocess.run([sys.executable, "-c", _RUN_SQL], input=json.dumps(job), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = [line.split(",") for line in done.stdout.strip().splitlines()]
    assert [(d.strip('"'), int(n)) for d, n, _ in lines] == [("2026-03-01", 400), ("2026-03-02", 300)]
    assert float(lines[0][2]) == pytest.approx(psi(ref, day1), rel=1e-9)
    assert float(lines[1][2]) == pytest.approx(psi(ref, day2), rel=1e-9)
    assert float(lines[1][2]) > 1.0
