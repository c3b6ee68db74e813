from __future__ import annotations

import pytest

from streams.io.producer import PRODUCER_CONFIG, ProduceReport, TokenBucket, producer_config
from streams.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_full_bucket_does_not_wait() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_debt_waits_one_interval_per_token() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, burst=1, clock=clock)
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.1)
    assert bucket.take() == pytest.approx(0.2)


def test_refill_over_time_is_capped_by_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100.0, burst=2, clock=clock)
    bucket.take(2)
    clock.now += 60  # a minute idle earns only `burst` tokens
    assert bucket.take(2) == 0.0
    assert bucket.take() == pytest.approx(0.01)


def test_steady_rate_is_smooth() -> None:
    """Simulated with sleeps advancing the clock: 1,000 events at 500/s take ~2 s and no
    100 ms window gets more than its share plus the small burst."""
    clock = FakeClock()
    bucket = TokenBucket(500.0, clock=clock)
    sent_at: list[float] = []

    def sleep(seconds: float) -> None:
        clock.now += seconds

    start = clock.now
    for _ in range(1000):
        bucket.acquire(sleep=sleep)
        sent_at.append(clock.now)
        clock.now += 0.0001  # the work of producing one record
    assert clock.now - start == pytest.approx(2.0, rel=0.02)
    windows: dict[int, int] = {}
    for t in sent_at:
        windows[int((t - start) * 10)] = windows.get(int((t - start) * 10), 0) + 1
    assert max(windows.values()) <= 50 + 5 + 1  # rate * 0.1 s + burst + edge


def test_default_burst_is_ten_ms() -> None:
    assert TokenBucket(10_000.0, clock=FakeClock()).burst == 100
    assert TokenBucket(5.0, clock=FakeClock()).burst == 1.0


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0.0)


def test_producer_config_layers_throughput_over_connection() -> None:
    conf = producer_config(Settings(kafka_bootstrap_servers="broker:9093"))
    assert conf["bootstrap.servers"] == "broker:9093"
    assert conf["partitioner"] == "murmur2_random"
    assert conf["enable.idempotence"] is True
    assert conf["acks"] == "all"
    assert PRODUCER_CONFIG["compression.type"] == "lz4"


def test_report_rate() -> None:
    report = ProduceReport(counts={"chat.events": 300, "ad.metrics": 100}, seconds=2.0)
    assert report.total == 400
    assert report.rate == 200.0
    assert ProduceReport(counts={}, seconds=0.0).rate == 0.0
