"""An attribution run against ClickHouse: read the window's journeys, compute, write a version.

``run`` reads the touchpoints and conversions of a window from ``customer_events`` (FINAL:
the latest resolution of each event) and the merges from ``identity_links``, so that a
journey spans every identifier of a person, also those resolved before a merge to a person
merged away since (``attribution_run.load``), computes (``attribution_run.compute``) and
inserts the version into ``attribution_model_credits``; ``latest`` reads the current version
back.

The ClickHouse client is the caller's: a server's, or the embedded store when no worker holds
it (the worker runs the same computation on its schedule, in its own process).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from streams.customer.attribution_run import (
    Query,
    RunPolicy,
    RunResult,
    Window,
    compute,
    load,
    run_columns,
    run_id,
)
from streams.customer.contract import ATTRIBUTION_MODEL_CREDITS_TABLE

Insert = Callable[[str, Mapping[str, Sequence[Any]]], None]

LATEST_SQL: Final = f"""
SELECT model, markov_order, level, measure, currency, channel, campaign_id, credit, credit_low,
       credit_high, removal_effect, run_id, created_at
FROM {ATTRIBUTION_MODEL_CREDITS_TABLE} FINAL
WHERE (model, markov_order, run_id) IN (
    SELECT model, markov_order, argMax(run_id, created_at)
    FROM {ATTRIBUTION_MODEL_CREDITS_TABLE} GROUP BY model, markov_order)
ORDER BY model, markov_order, level, measure, currency, credit DESC, channel, campaign_id
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def run(query: Query, insert: Insert, window: Window, policy: RunPolicy,
        created_at_ms: int | None = None) -> tuple[str, RunResult]:
    """Compute a run over ``window`` and write it as a new version; returns its id."""
    touches, conversions = load(query, window, policy.lookback_ms)
    result = compute(touches, conversions, window, policy)
    created = now_ms() if created_at_ms is None else created_at_ms
    columns = run_columns(result, created)
    if columns["run_id"]:
        insert(ATTRIBUTION_MODEL_CREDITS_TABLE, columns)
    return run_id(created, window, policy), result


def latest(query: Query) -> list[tuple[Any, ...]]:
    """The current version of every model and order (the latest run of each), row by row."""
    return query(LATEST_SQL, {}).rows
