"""The data-driven attribution on the real broker and engine: simulated people's touchpoints and
conversions go through the worker (identity resolution joins each person's identifiers); the
worker's schedule writes Markov and Shapley runs; then ``touchstream attribution run`` writes a
new version, equal to the models computed on the simulator's ground truth, and a second run
supersedes the first while the earlier versions stay as history."""

from __future__ import annotations

import time
from typing import Any

import pytest
from click.testing import CliRunner

from streams.customer.attribution import DAY_MS
from streams.customer.attribution_run import RunPolicy, Window, compute, tables_from_rows
from streams.io.clickhouse import ClickHouse
from streams.io.producer import produce_records
from streams.ops import attribution as ops
from streams.settings import get_settings
from streams.simulators.customers import T0, Person, customers
from tests.integration.conftest import Pipeline
from tests.integration.test_customer import _wait

pytestmark = pytest.mark.integration

UNTIL = T0 + 60 * DAY_MS  # every simulated conversion is before it


def _truth(people: list[Person]) -> Any:
    """The models on the simulator's own persons (no identity resolution involved)."""
    touches = [(f"p{p.index}", t["touchpoint_id"], t["occurred_at"], t["channel"],
                t["campaign_id"]) for p in people for t in p.touchpoints]
    conversions = [(f"p{p.index}", c["conversion_id"], c["occurred_at"], c["value"],
                    c["currency"]) for p in people for c in p.conversions]
    t, c = tables_from_rows(touches, conversions)
    return compute(t, c, Window(UNTIL - 400 * DAY_MS, UNTIL),
                   RunPolicy(orders=(1, 3), replicates=0))


def _credits(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], float]:
    # (model, order, level, measure, currency, channel, campaign) -> credit
    return {tuple(r[:7]): float(r[7]) for r in rows}


def test_scheduled_and_on_demand_runs_are_versions_and_the_latest_wins(pipeline: Pipeline) -> None:
    people, identity_phase, converted = customers(40, seed=31)
    # the schedule every 3 s over a window that holds the simulated data (early 2026)
    pipeline.env.update({"TOUCHSTREAM_CUSTOMER_ATTRIBUTION_INTERVAL_MINUTES": "0.05",
                         "TOUCHSTREAM_CUSTOMER_ATTRIBUTION_WINDOW_DAYS": "3650",
                         "TOUCHSTREAM_CUSTOMER_ATTRIBUTION_REPLICATES": "10"})
    pipeline.start_worker()
    encode = pipeline.codec.encode
    produce_records(pipeline.settings, identity_phase, encode=encode)
    produce_records(pipeline.settings, converted, encode=encode)
    n_conversions = sum(len(p.conversions) for p in people)
    querier = pipeline.querier()

    def converted_all() -> tuple[bool, Any]:
        n = querier.sql("SELECT count() FROM customer_events FINAL "
                        "WHERE kind = 'conversion'").rows[0][0]
        return n == n_conversions, n

    _wait(converted_all, 180, "every conversion resolved", pipeline)

    def scheduled() -> tuple[bool, Any]:
        # a run after every conversion was in: its conversions measure adds up to all of them
        rows = querier.sql(
            "SELECT run_id, sum(credit) FROM attribution_model_credits FINAL "
            "WHERE model = 'markov' AND measure = 'conversions' GROUP BY run_id").rows
        return any(round(total) == n_conversions for _, total in rows), rows

    runs = _wait(scheduled, 120, "a scheduled run over every conversion", pipeline)
    scheduled_runs = {r[0] for r in runs}
    pipeline.stop_workers()

    # on demand, on the store the worker left
    get_settings.cache_clear()
    env = {**pipeline.env, "TOUCHSTREAM_CLICKHOUSE_URL": str(pipeline.settings.clickhouse_url)}
    args = ["attribution", "run", "--since", "400d", "--until", "2026-03-02",
            "--order", "1,3", "--replicates", "20"]
    from streams.cli import main

    try:
        first = CliRunner().invoke(main, args, env=env)
        assert first.exit_code == 0, first.output
        assert "markov-3" in first.output and "shapley" in first.output
        time.sleep(0.01)
        get_settings.cache_clear()
        second = CliRunner().invoke(main, [*args, "--replicates", "0"], env=env)
        assert second.exit_code == 0, second.output
    finally:
        get_settings.cache_clear()
    first_id = first.output.split()[1].rstrip(":")
    second_id = second.output.split()[1].rstrip(":")
    assert first_id.startswith("ar-") and second_id.startswith("ar-") and first_id != second_id

    truth = _truth(people)
    want = {(c.model, c.order, c.level, c.measure, c.currency, c.channel, c.campaign_id): c.credit
            for c in truth.credits}
    with ClickHouse(str(pipeline.settings.clickhouse_url)) as ch:
        history = ch.query("SELECT run_id, count(), any(created_at) FROM "
                           "attribution_model_credits FINAL GROUP BY run_id").rows
        assert {r[0] for r in history} >= scheduled_runs | {first_id, second_id}
        latest = ops.latest(ch.query)
        # the second run supersedes the first for every model and order it computed
        assert {r[11] for r in latest} == {second_id}
        got = _credits([r[:8] for r in latest])
        assert got.keys() == want.keys()
        assert got == pytest.approx(want, abs=1e-6)
        # the first run is still there, with its intervals
        first_rows = ch.query(
            "SELECT count(), countIf(credit_low IS NOT NULL AND credit_low <= credit "
            "AND credit <= credit_high + 1e-9) FROM attribution_model_credits FINAL "
            "WHERE run_id = {r:String} AND model = 'markov'", {"r": first_id}).rows[0]
        assert first_rows[0] > 0 and first_rows[0] == first_rows[1]
    # sanity of the truth itself: every conversion had a journey
    assert truth.attributed == n_conversions
