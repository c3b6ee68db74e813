"""A benchmark-only worker whose one stage does nothing: the runtime's own cost.

``python -m benchmarks.noop_worker [--variant sink|nosink]`` runs the product's worker
(``agents.app.create_app``: the same ``faust.App`` settings, transport, ``Runtime``, web
views, garbage-collector tuning) with the product's stages left out and one no-op stage
(``noop``) on ``ad.metrics`` in their place, run by ``agents.runtime.stage.run_stage`` like
every product stage: batches from the conductor, Avro decoding with the topic's codec, the
position guard (seeded from ClickHouse), the group commit and acknowledgements.

Variants (the per-event work of the step; everything else is the same):

- ``sink``: one minimal row per event (``_topic``, ``_partition``, ``_offset``,
  ``_kafka_ts``) into the ``bench_noop`` table, one insert per write of the group commit,
  so a drain is measured from ClickHouse like the product slices';
- ``nosink``: no rows; the guard still reads ClickHouse on assignment, writes publish
  nothing and insert nothing: what the runtime costs around a step, without the sink;
- ``raw``: as ``nosink``, and the input is declared ``encoding="raw"`` (not decoded): the
  runtime alone (batches, guard, group commit, acknowledgements), without the codec.

Invariants: product code never imports this module; the product worker's behaviour does
not change (nothing here is registered by ``agents.app``); ``bench_noop`` is created by this
worker in its own (benchmark) database.
"""

from __future__ import annotations

import argparse
import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from typing import Any, Final, Literal
from unittest import mock

import faust

import agents.app
from agents.app import create_app, tune_gc, watch_gc
from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from streams import topics
from streams.io.kafka_admin import create_topics
from streams.io.migrate import migrate
from streams.kernel.records import BatchResult
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage
from streams.settings import Settings

log = logging.getLogger(__name__)

NAME: Final = "noop"
TOPIC: Final = topics.AD_METRICS
TABLE: Final = "bench_noop"
DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE}
(
    _topic       LowCardinality(String),
    _partition   UInt16,
    _offset      UInt64,
    _kafka_ts    DateTime64(3, 'UTC'),
    _ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (_topic, _partition, _offset)
"""

Variant = Literal["sink", "nosink", "raw"]
VARIANTS: Final[tuple[Variant, ...]] = ("sink", "nosink", "raw")


def rows(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """A minimal row per event: where it came from and when it was produced."""
    raws = events.raws
    columns: dict[str, list[object]] = {
        "_topic": [r.topic for r in raws],
        "_partition": [r.partition for r in raws],
        "_offset": [r.offset for r in raws],
        "_kafka_ts": [r.timestamp_ms for r in raws],
    }
    return Outcome(BatchResult(inserts={TABLE: columns}))


def processed(stats: dict[str, Any]) -> int:
    """Events the worker has processed and made durable, from its ``/stats`` (the
    ``events.processed`` counters of its inputs)."""
    counters: dict[str, int] = stats["counters"]
    return sum(int(v) for k, v in counters.items()
               if k == "events.processed" or k.startswith("events.processed{"))


def nothing(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    return Outcome()


def stage(variant: Variant) -> Stage:
    """The no-op stage. Every variant declares ``bench_noop`` as sunk, so every one runs the
    position guard."""
    return Stage(name=NAME, inputs=(Input(TOPIC, encoding="raw" if variant == "raw" else "avro"),),
                 step=rows if variant == "sink" else nothing, sunk=(TABLE,))


def stage_modules() -> list[str]:
    """The names under which ``agents.app`` holds the product's stage modules: every
    ``agents.*`` module with a ``register`` that returns what it subscribed (a
    ``BatchTopic`` or several). The web and metrics views' ``register`` returns None; they
    stay."""
    names = []
    for name, value in vars(agents.app).items():
        register = getattr(value, "register", None)
        if (isinstance(value, ModuleType) and value.__name__.startswith("agents.")
                and callable(register)
                and inspect.signature(register).return_annotation not in (None, "None")):
            names.append(name)
    return sorted(names)


@contextmanager
def only(variant: Variant) -> Iterator[None]:
    """``create_app`` registering the no-op stage instead of the product's stages (the web
    views stay: ``/health``, ``/sql`` and ``/stats`` are how the benchmark reads a run)."""

    def register(app: faust.App, runtime: Runtime) -> None:
        run_stage(app, runtime, stage(variant))

    def skip(app: faust.App, runtime: Runtime) -> None:
        return None

    names = stage_modules()
    if not names:
        raise RuntimeError("agents.app holds no stage modules: nothing to replace")
    swaps: dict[str, Any] = {name: SimpleNamespace(register=skip) for name in names}
    swaps[names[0]] = SimpleNamespace(register=register)
    with mock.patch.multiple(agents.app, **swaps):
        yield


def run(settings: Settings, variant: Variant) -> None:
    """As ``agents.app.run_worker``, with the no-op stage."""
    create_topics(settings)
    with only(variant):
        app, runtime = create_app(settings)
    migrate(runtime.clickhouse)  # dead_letters: the guard reads it
    runtime.clickhouse.command(DDL)
    worker = faust.Worker(app, loglevel=settings.log_level)
    worker.spinner = None
    tune_gc()
    watch_gc(runtime.latencies)
    try:
        worker.execute_from_commandline()
    finally:
        runtime.publisher.close()
        runtime.sink.close()
        runtime.clickhouse.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, default="sink")
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="[%(asctime)s] %(levelname)s %(name)s: %(message)s")
    run(settings, args.variant)


if __name__ == "__main__":
    main()
