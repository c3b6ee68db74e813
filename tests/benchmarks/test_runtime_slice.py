"""The runtime slice's pieces without Kafka: the no-op stage computed as the runtime computes
it, the worker that registers only it, and how a drain's progress becomes a rate."""

from __future__ import annotations

import math
from typing import Any

import pytest

import agents.app
from benchmarks import noop_worker
from benchmarks.peer_faust import PeerProgress
from benchmarks.run import progress_rate
from streams.contract.codec import AvroCodec
from streams.kernel.records import Raw
from streams.kernel.stage import Value, compute
from streams.settings import Settings
from streams.simulators.chat import ad_metrics


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raws(codec: AvroCodec, n: int) -> list[Raw]:
    records = list(ad_metrics(n, seed=3))
    return [Raw("bench.ad.metrics", i % 2, 100 + i, 1_700_000_000_000 + i, r.key.encode(),
                codec.encode(noop_worker.TOPIC, r.value)) for i, r in enumerate(records)]


def run(variant: noop_worker.Variant, codec: AvroCodec, batch: list[Raw]) -> Any:
    stage = noop_worker.stage(variant)

    def lookup(table: str, key: str) -> Value | None:
        raise AssertionError("the no-op stage reads no state")

    return compute(stage, batch, {"bench.ad.metrics": codec.decoder(noop_worker.TOPIC)},
                   {"bench.ad.metrics": stage.inputs[0]}, lookup, lambda t: t + ".dlq",
                   1_700_000_001_000)


def test_the_sink_variant_writes_one_row_per_event_and_dead_letters_bad_bytes(
        codec: AvroCodec) -> None:
    batch = raws(codec, 5)
    batch[2] = Raw(batch[2].topic, 0, batch[2].offset, batch[2].timestamp_ms, None, b"junk")
    computed = run("sink", codec, batch)
    rows = computed.outcome.result.inserts[noop_worker.TABLE]
    assert rows["_offset"] == [100, 101, 103, 104]
    assert rows["_partition"] == [0, 1, 1, 0]
    assert rows["_kafka_ts"] == [1_700_000_000_000 + i for i in (0, 1, 3, 4)]
    assert rows["_topic"] == ["bench.ad.metrics"] * 4
    assert [d.raw.offset for d in computed.dead] == [102]  # decoded with the topic's codec
    assert computed.outcome.result.processed == 4
    assert noop_worker.stage("sink").sunk == (noop_worker.TABLE,)  # the position guard runs


def test_the_sinkless_variants_write_nothing_and_raw_does_not_decode(codec: AvroCodec) -> None:
    batch = raws(codec, 3)
    batch[1] = Raw(batch[1].topic, 0, batch[1].offset, 0, None, b"junk")
    nosink = run("nosink", codec, batch)
    assert noop_worker.TABLE not in nosink.outcome.result.inserts
    assert len(nosink.dead) == 1 and nosink.outcome.result.processed == 2
    raw = run("raw", codec, batch)
    assert not raw.dead and raw.outcome.result.processed == 3
    assert raw.outcome.result.inserts.get(noop_worker.TABLE) is None
    assert all(noop_worker.stage(v).sunk == (noop_worker.TABLE,) for v in noop_worker.VARIANTS)


def test_only_swaps_every_product_stage_for_the_noop_stage_and_puts_them_back() -> None:
    names = noop_worker.stage_modules()
    assert {"conversation", "marketing", "deadletters"} <= set(names)
    assert "web" not in names  # the views stay: the benchmark reads the worker through them
    product = [getattr(agents.app, name) for name in names]
    with noop_worker.only("nosink"):
        swapped = [getattr(agents.app, name) for name in names]
        assert all(now is not then for now, then in zip(swapped, product, strict=True))
        assert all(module.register(None, None) is None for module in swapped[1:])
        assert vars(agents.app)["web"].__name__.startswith("agents.web")
    assert [getattr(agents.app, name) for name in names] == product


def test_processed_sums_the_events_processed_counters_only() -> None:
    stats = {"counters": {"events.processed{ad.metrics}": 7, "events.processed{other}": 3,
                          "events.consumed{ad.metrics}": 11, "events.processed_late": 100}}
    assert noop_worker.processed(stats) == 10
    assert noop_worker.processed({"counters": {}}) == 0


def test_progress_rate_spans_the_first_reading_with_events_to_the_first_complete_one() -> None:
    readings = [(10.0, 0), (10.5, 0), (11.0, 1_000), (12.0, 5_000), (13.0, 9_000),
                (13.5, 10_000), (14.0, 10_000)]
    rate, start, end, events = progress_rate(readings, 10_000)
    assert (start, end, events) == (11.0, 13.5, 9_000)
    assert rate == pytest.approx(9_000 / 2.5)
    with pytest.raises(ValueError):
        progress_rate(readings[:-2], 10_000)  # never complete
    with pytest.raises(ValueError):
        progress_rate([(1.0, 0), (2.0, 0)], 10)


def test_the_peer_progress_gives_a_rate_only_over_a_span() -> None:
    progress = PeerProgress.from_json({"events": 1_001, "first": 100.0, "last": 102.0})
    assert progress.rate() == pytest.approx(500.0)
    assert math.isnan(PeerProgress.from_json({"events": 0, "first": None, "last": None}).rate())
    assert math.isnan(PeerProgress.from_json({"events": 1, "first": 5.0, "last": 5.0}).rate())
    with pytest.raises(ValueError):
        PeerProgress.from_json({"events": -1, "first": None, "last": None})
    with pytest.raises(KeyError):
        PeerProgress.from_json({"first": 1.0})
