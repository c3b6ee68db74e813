"""The worker's Prometheus metrics: ``GET /metrics`` in the Prometheus text format.

Everything ``/stats`` reports, with conventional names and units, plus what only the worker
knows at scrape time (consumer positions, table sizes, the models it loaded):

- Counters (``touchstream_*_total``) come from ``streams.kernel.metrics.Counters``; a metric
  the worker has not counted yet is absent, as Prometheus expects of labelled counters.
- Histograms come from ``Latencies``: each of its log-spaced buckets (5 % wide) is counted
  under the first of the fixed ``SECONDS_BUCKETS`` / ``COUNT_BUCKETS`` bounds at or above its
  upper edge, so a quantile is never reported early (a value within 5 % below a bound may
  count under the next); ``_sum`` is estimated from the upper edges (at most 5 % high),
  because ``Latencies`` keeps no sum.
- Consumer lag per topic and partition is the log end (highwater) minus the committed
  offset (the next one the group would read after a restart), else minus the read position:
  events not yet durable. Read from the Faust consumer without a broker round trip.
- Nothing here changes the worker's state; a scrape costs a few hundred microseconds.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from prometheus_client import generate_latest
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from agents.runtime.transport import consumer_books
from streams.kernel.metrics import Latencies

PREFIX: Final = "touchstream"
#: the classic text format (0.0.4), which every Prometheus 2.x and 3.x scrapes
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
SECONDS_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                          1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
COUNT_BUCKETS: Final = (1.0, 10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
                        10000.0, 50000.0)

#: counter name in ``Counters`` -> (Prometheus name without prefix and suffix, label, help)
COUNTERS: Final[Mapping[str, tuple[str, str, str]]] = {
    "events.consumed": ("events_consumed", "topic", "Events taken from an input topic."),
    "events.processed": ("events_processed", "topic", "Events computed into rows or outputs."),
    "events.dead_lettered": ("events_dead_lettered", "topic",
                             "Events written to the topic's dead-letter topic."),
    "events.duplicates": ("events_duplicates", "topic",
                          "Events produced again under an id already absorbed, skipped."),
    "dead_letters": ("dead_letters", "reason",
                     "Events dead-lettered, by reason (not_framed, invalid_field, ...)."),
    "rows.inserted": ("rows_inserted", "table", "Rows inserted into a ClickHouse table."),
    "inserts": ("inserts", "table", "Successful ClickHouse inserts."),
    "insert.retries": ("insert_retries", "table", "Failed ClickHouse inserts retried."),
    "publish.retries": ("publish_retries", "topic",
                        "Failed publishes of dead letters, outputs or changelogs, retried."),
    "outputs.produced": ("outputs_produced", "topic", "Output records published per source."),
    "batches": ("steps", "topic", "Steps computed per source topic."),
    "timer.errors": ("timer_errors", "timer", "Timer ticks that failed as a whole."),
    "timer.quarantined": ("timer_quarantined", "table",
                          "Table entries the timers skip after failing on them."),
}

#: ``Latencies`` label suffix -> (histogram name without prefix, unit kind, help)
HISTOGRAMS: Final[Mapping[str, tuple[str, str, str]]] = {
    "processing": ("step_wait_seconds", "ms",
                   "A message's wait for the computation of its step."),
    "processing_cpu": ("step_cpu_seconds", "ms", "CPU time of the step a message was in."),
    "cost_per_message": ("step_cost_per_message_seconds", "ms",
                         "A step's computation time divided by its size."),
    "in_worker": ("message_in_worker_seconds", "ms",
                  "From a message's arrival in the worker until it is durable."),
    # recorded once the runtime observes ``<agent>.produce_to_durable`` (Kafka timestamp to
    # durable); until then the dashboards read produce-to-sink from the rows
    "produce_to_durable": ("produce_to_durable_seconds", "ms",
                           "From a message's Kafka timestamp until it is durable."),
    "write": ("write_seconds", "ms", "One group-commit write (dead letters, sink, publish)."),
    "write_sink": ("write_sink_seconds", "ms", "The ClickHouse part of a write."),
    "write_publish": ("write_publish_seconds", "ms", "The Kafka publish part of a write."),
    "unavailable": ("unavailable_wait_seconds", "ms",
                    "Back-off waits of a step whose dependency was unavailable."),
    "step_events": ("step_events", "count", "Events in one computed step."),
    "write_events": ("write_events", "count", "Events made durable by one write."),
}


@dataclass(frozen=True)
class Partition:
    topic: str
    partition: int
    highwater: int | None  # the log end offset: the next offset to be written
    committed: int | None  # the committed offset: the next one the group reads after a restart
    position: int | None  # the next offset this worker reads

    @property
    def lag(self) -> int | None:
        done = self.committed if self.committed is not None else self.position
        if self.highwater is None or done is None:
            return None
        return max(0, self.highwater - done)


@dataclass(frozen=True)
class ModelFile:
    name: str
    path: Path
    sha256: str

    @classmethod
    def of(cls, name: str, path: Path) -> ModelFile:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else ""
        return cls(name, path, digest)


@dataclass(frozen=True)
class Snapshot:
    """What one scrape reads: plain data, so the rendering is a pure function of it."""

    app_id: str
    counters: Mapping[str, int]  # ``Counters.snapshot()``: ``metric{label}`` -> value
    buckets: Mapping[str, Mapping[int, int]]  # ``Latencies`` label -> fine bucket -> count
    table_keys: Mapping[str, int] = field(default_factory=dict)
    partitions: tuple[Partition, ...] = ()
    models: tuple[ModelFile, ...] = ()


def split_counter(key: str) -> tuple[str, str]:
    """``events.consumed{chat.events}`` -> (``events.consumed``, ``chat.events``)."""
    name, brace, rest = key.partition("{")
    return name, rest[:-1] if brace and rest.endswith("}") else ""


def latency_buckets(latencies: Latencies) -> dict[str, dict[int, int]]:
    """A copy of the fine buckets of every label (``Latencies`` has no public reader)."""
    with latencies._lock:
        return {label: dict(counts) for label, counts in latencies._buckets.items()}


def fine_upper(bucket: int) -> float:
    """The upper bound (ms) of a fine ``Latencies`` bucket."""
    return float(Latencies._FIRST_MS * Latencies._GROWTH ** bucket)


def fold(counts: Mapping[int, int], bounds: Iterable[float], scale: float
         ) -> tuple[list[tuple[str, float]], float]:
    """Cumulative ``(le, count)`` pairs over ``bounds`` (with ``+Inf``) and the estimated sum,
    for fine buckets whose upper edges are multiplied by ``scale`` (ms -> s: 0.001)."""
    bounds = list(bounds)
    per_bound = [0] * (len(bounds) + 1)
    total = 0.0
    for bucket, n in counts.items():
        upper = fine_upper(bucket) * scale
        total += upper * n
        # the first bound at or above the bucket's upper edge (1e-9: float noise at equality)
        index = next((i for i, b in enumerate(bounds) if upper <= b * (1 + 1e-9)), len(bounds))
        per_bound[index] += n
    running, out = 0, []
    for bound, n in zip([*bounds, math.inf], per_bound, strict=True):
        running += n
        out.append(("+Inf" if bound == math.inf else repr(float(bound)), float(running)))
    return out, total


def counter_families(counters: Mapping[str, int]) -> Iterator[Metric]:
    families: dict[str, CounterMetricFamily] = {}
    for key, value in sorted(counters.items()):
        metric, label = split_counter(key)
        known = COUNTERS.get(metric)
        if known is None:  # a counter added to the kernel later still shows up
            name, label_name, help_text = metric.replace(".", "_"), "label", f"{metric}."
        else:
            name, label_name, help_text = known
        family = families.get(name)
        if family is None:
            family = families[name] = CounterMetricFamily(f"{PREFIX}_{name}", help_text,
                                                          labels=[label_name])
        family.add_metric([label], float(value))
    yield from families.values()


def histogram_families(buckets: Mapping[str, Mapping[int, int]]) -> Iterator[Metric]:
    families: dict[str, HistogramMetricFamily] = {}

    def family(name: str, help_text: str, labels: list[str]) -> HistogramMetricFamily:
        if name not in families:
            families[name] = HistogramMetricFamily(f"{PREFIX}_{name}", help_text, labels=labels)
        return families[name]

    for label, counts in sorted(buckets.items()):
        if not counts:
            continue
        owner, _, kind = label.rpartition(".")
        if owner == "gc" and kind.startswith("gen"):
            folded, total = fold(counts, SECONDS_BUCKETS, 0.001)
            family("gc_pause_seconds", "Garbage-collection pauses of the worker process.",
                   ["generation"]).add_metric([kind[3:]], folded, total)
            continue
        known = HISTOGRAMS.get(kind)
        if known is None:  # an unknown label: a latency in ms by the kernel's convention
            folded, total = fold(counts, SECONDS_BUCKETS, 0.001)
            family("other_seconds", "Other latencies the worker records.",
                   ["agent", "kind"]).add_metric([owner, kind], folded, total)
            continue
        name, unit, help_text = known
        if unit == "ms":
            folded, total = fold(counts, SECONDS_BUCKETS, 0.001)
        else:
            folded, total = fold(counts, COUNT_BUCKETS, 1.0)
        family(name, help_text, ["agent"]).add_metric([owner], folded, total)
    yield from families.values()


def families(snapshot: Snapshot) -> Iterator[Metric]:
    """Every metric family of one scrape."""
    up = GaugeMetricFamily(f"{PREFIX}_worker_info", "The worker's app id (always 1).",
                           labels=["app_id"])
    up.add_metric([snapshot.app_id], 1.0)
    yield up
    yield from counter_families(snapshot.counters)
    yield from histogram_families(snapshot.buckets)
    keys = GaugeMetricFamily(f"{PREFIX}_table_keys", "Keys held in a worker table.",
                             labels=["table"])
    for table, n in sorted(snapshot.table_keys.items()):
        keys.add_metric([table], float(n))
    yield keys
    gauges = {
        "highwater": GaugeMetricFamily(f"{PREFIX}_consumer_highwater_offset",
                                       "Log end offset of an assigned partition.",
                                       labels=["topic", "partition"]),
        "committed": GaugeMetricFamily(f"{PREFIX}_consumer_committed_offset",
                                       "Offset committed by the group for a partition.",
                                       labels=["topic", "partition"]),
        "position": GaugeMetricFamily(f"{PREFIX}_consumer_position_offset",
                                      "Next offset this worker reads from a partition.",
                                      labels=["topic", "partition"]),
        "lag": GaugeMetricFamily(f"{PREFIX}_consumer_lag",
                                 "Events of a partition not yet durable (highwater - committed).",
                                 labels=["topic", "partition"]),
    }
    for p in sorted(snapshot.partitions, key=lambda p: (p.topic, p.partition)):
        labels = [p.topic, str(p.partition)]
        for name, value in (("highwater", p.highwater), ("committed", p.committed),
                            ("position", p.position), ("lag", p.lag)):
            if value is not None:
                gauges[name].add_metric(labels, float(value))
    yield from gauges.values()
    assigned = GaugeMetricFamily(f"{PREFIX}_consumer_assigned_partitions",
                                 "Partitions assigned to this worker.")
    assigned.add_metric([], float(len(snapshot.partitions)))
    yield assigned
    models = GaugeMetricFamily(f"{PREFIX}_model_info",
                               "Model files the worker loaded (always 1).",
                               labels=["model", "file", "sha256"])
    for m in snapshot.models:
        models.add_metric([m.name, m.path.name, m.sha256], 1.0)
    yield models


class _SnapshotCollector:
    def __init__(self, read: Any) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        yield from families(self._read())


def render(snapshot: Snapshot) -> bytes:
    """``snapshot`` alone in the Prometheus text format (no process metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(lambda: snapshot))
    return bytes(generate_latest(registry))


def consumer_partitions(consumer: Any) -> tuple[Partition, ...]:
    """Positions of the partitions assigned to a Faust consumer; () before it has started."""
    return tuple(Partition(*books) for books in consumer_books(consumer))


def loaded_models() -> tuple[ModelFile, ...]:
    """The model files the worker's stages load (``Runtime.create`` warms them up)."""
    from streams.text import intent, language

    return (ModelFile.of("intent", intent.MODEL_PATH),
            ModelFile.of("language", language.MODEL_PATH))


def register(app: Any, runtime: Any) -> None:
    """``GET /metrics`` on the worker's web server (behind its access guard, like ``/stats``:
    a ``read`` token beyond loopback)."""
    from faust.web import Request, Response, View

    models = loaded_models()

    def snapshot() -> Snapshot:
        return Snapshot(
            app_id=runtime.settings.app_id,
            counters=runtime.counters.snapshot(),
            buckets=latency_buckets(runtime.latencies),
            table_keys={name: len(table.data) for name, table in app.tables.items()},
            partitions=consumer_partitions(app.consumer),
            models=models,
        )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)

    @app.page("/metrics")
    class Metrics(View):  # type: ignore[misc]
        async def get(self, request: Request) -> Response:
            # aiohttp refuses a charset in ``content_type``: the header is set whole
            return self.bytes(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})


__all__ = ["Partition", "Snapshot", "families", "register", "render"]
