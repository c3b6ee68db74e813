"""``touchstream attribution``: the data-driven attribution models (Markov chain, Shapley), run on demand."""

from __future__ import annotations

import re

import click

from streams.cli.common import console, current_settings, fail, print_result
from streams.customer.attribution import DAY_MS
from streams.customer.attribution_run import (
    DATA_MODELS,
    SUMMARY_COLUMNS,
    DataModel,
    RunPolicy,
    Window,
    parse_orders,
    summary_rows,
)
from streams.io.clickhouse import ClickHouse
from streams.io.query import store_locked
from streams.ops import attribution as ops

SINCE = re.compile(r"^(\d+)([dhw])$")
HOUR_MS = 3_600_000


def since_ms(since: str) -> int:
    """``30d``, ``4w`` or ``72h`` in milliseconds."""
    found = SINCE.match(since.strip())
    if found is None:
        raise click.BadParameter(f"{since!r} is not like 30d, 4w or 72h")
    n, unit = int(found.group(1)), found.group(2)
    return n * {"d": DAY_MS, "w": 7 * DAY_MS, "h": HOUR_MS}[unit]


def until_ms(text: str) -> int:
    """An ISO date or time (UTC unless it says otherwise) in epoch milliseconds."""
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or time") from None
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() * 1000)


def models_of(text: str) -> tuple[DataModel, ...]:
    models = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in models if m not in DATA_MODELS]
    if unknown or not models:
        raise click.BadParameter(f"models are among {', '.join(DATA_MODELS)}")
    return tuple(m for m in DATA_MODELS if m in models)


@click.group("attribution")
def attribution_group() -> None:
    """Multi-touch attribution: run the Markov and Shapley models."""


@attribution_group.command("run")
@click.option("--since", default="30d", show_default=True,
              help="Conversions of this last period: 30d, 4w, 72h.")
@click.option("--until", default=None,
              help="End of the window (an ISO date or time in UTC, e.g. 2026-02-01); now if not given.")
@click.option("--order", "orders", default="1", show_default=True,
              help="Markov chain orders: 1, 2, 3, 1..3 or 1,3.")
@click.option("--models", default="markov,shapley", show_default=True,
              help="Models to run, comma-separated.")
@click.option("--replicates", type=click.IntRange(min=0), default=100, show_default=True,
              help="Bootstrap replicates of the Markov credits (0: no intervals).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
def run(since: str, until: str | None, orders: str, models: str, replicates: int,
        seed: int) -> None:
    """Compute the models over the window and write them as a new version."""
    settings = current_settings()
    try:
        policy = RunPolicy(models=models_of(models), orders=parse_orders(orders),
                           lookback_ms=int(settings.customer_lookback_days * DAY_MS),
                           replicates=replicates, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    end = ops.now_ms() if until is None else until_ms(until)
    window = Window(end - since_ms(since), end)
    try:
        with ClickHouse.from_settings(settings) as clickhouse:
            rid, result = ops.run(clickhouse.query, clickhouse.insert, window, policy)
    except Exception as exc:
        if not store_locked(exc, settings.effective_clickhouse_url):
            raise
        fail(f"the embedded store {settings.effective_clickhouse_url} is held by another "
             "process (a worker?): a worker runs the same models on its schedule "
             "(TOUCHSTREAM_CUSTOMER_ATTRIBUTION_INTERVAL_MINUTES); or stop it and run again, "
             "or use a ClickHouse server")
        return
    console.print(f"run {rid}: {result.conversions} conversions ({result.attributed} with a "
                  f"journey), {result.journeys} paths, {result.touchpoints} touchpoints; "
                  f"lookback {settings.customer_lookback_days:g} days")
    if not result.credits:
        console.print("nothing to attribute in that window: no version written")
        return
    print_result(f"attribution_model_credits, run {rid}", SUMMARY_COLUMNS, summary_rows(result))
