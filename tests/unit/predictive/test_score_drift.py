"""The score-drift insight in the embedded engine: its PSI is the one ``drift`` computes over
the same ten bins, and a population that moved reads as a major shift."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.insights import run_insight
from streams.io.migrate import migrate
from streams.predictive.contract import CUSTOMER_SCORES_TABLE
from streams.predictive.drift import psi_from_fractions
from streams.predictive.scoring import SCORE_COLUMNS

DAY_MS = 86_400_000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[ClickHouse]:
    with ClickHouse(f"chdb://{tmp_path / 'ch'}") as clickhouse:
        migrate(clickhouse)
        yield clickhouse


def insert(clickhouse: ClickHouse, kind: str, scores: list[float], scored_at: list[int],
           prefix: str | None = None) -> None:
    n = len(scores)
    person = prefix if prefix is not None else f"p{kind}"
    values: dict[str, list[Any]] = {"person_id": [f"{person}{i}" for i in range(n)], "kind": [kind] * n,
              "score": scores, "probability": [None] * n, "label": [""] * n,
              "reasons": [[]] * n, "details": [{}] * n, "model_version": ["m"] * n,
              "profile_version": [1] * n, "scored_at": scored_at, "_topic": ["t"] * n,
              "_partition": [0] * n, "_offset": list(range(n)), "_version": [1] * n}
    assert set(values) == set(SCORE_COLUMNS)
    clickhouse.insert(CUSTOMER_SCORES_TABLE, values)


def fractions(scores: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    bins = np.minimum(9, np.floor(np.maximum(scores, 0) / 10)).astype(int)
    return np.bincount(bins, minlength=10) / scores.size


def test_psi_matches_the_python_one_and_flags_a_shift(engine: ClickHouse) -> None:
    now = int(time.time() * 1000)
    rng = np.random.default_rng(1)
    old, new = rng.uniform(0, 60, 400), rng.uniform(30, 100, 300)  # the leads got hotter
    insert(engine, "lead", [*old, *new], [now - 20 * DAY_MS] * 400 + [now - DAY_MS] * 300)
    same_old, same_new = rng.uniform(0, 100, 500), rng.uniform(0, 100, 500)
    insert(engine, "churn", [*same_old, *same_new], [now - 15 * DAY_MS] * 500 + [now - 2 * DAY_MS] * 500)
    rows = {r["kind"]: r for r in run_insight(engine, "score_drift").dicts()}
    expected = psi_from_fractions(fractions(old), fractions(new))
    assert rows["lead"]["psi"] == pytest.approx(expected, abs=1e-3)
    assert rows["lead"]["verdict"] == "major shift"
    assert (rows["lead"]["recent_rows"], rows["lead"]["reference_rows"]) == (300, 400)
    assert rows["churn"]["psi"] < 0.1 and rows["churn"]["verdict"] == "stable"


def test_top_leads_put_each_persons_scores_on_one_line(engine: ClickHouse) -> None:
    now = int(time.time() * 1000)
    insert(engine, "lead", [91.0, 40.0, 75.0], [now] * 3, prefix="p")
    insert(engine, "churn", [10.0, 80.0], [now] * 2, prefix="p")
    rows = run_insight(engine, "top_leads", {"limit": "2"}).dicts()
    assert [(r["person_id"], r["lead_score"], r["churn_risk"]) for r in rows] == [
        ("p0", 91.0, 10.0), ("p2", 75.0, None)]
