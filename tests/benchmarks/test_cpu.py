"""The benchmark's CPU readings: taken over exactly the span a rate is measured on."""

from __future__ import annotations

import os
import time

import pytest

from benchmarks.run import CpuSampler


def test_cpu_is_interpolated_at_a_time_between_readings() -> None:
    sampler = CpuSampler(os.getpid(), None)
    sampler._readings = [(100.0, {"worker": 1.0, "machine": 10.0}),
                         (101.0, {"worker": 3.0, "machine": 12.0}),
                         (102.0, {"worker": 3.5, "machine": 16.0})]
    assert sampler.at(100.5) == {"worker": 2.0, "machine": 11.0}
    assert sampler.at(101.75) == {"worker": 3.375, "machine": 15.0}
    with pytest.raises(RuntimeError):
        sampler.at(99.0)  # before the first reading: no CPU figure rather than a wrong one
    with pytest.raises(RuntimeError):
        sampler.at(102.5)


def test_the_sampler_reads_this_process_until_stopped() -> None:
    sampler = CpuSampler(os.getpid(), None, interval=0.02)
    sampler.start()
    started = time.time()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # CPU for the worker's counter to grow by
        pass
    ended = time.time()
    time.sleep(0.05)
    sampler.stop()
    readings = len(sampler._readings)
    time.sleep(0.05)
    assert len(sampler._readings) == readings  # stopped
    spent = sampler.at(ended)["worker"] - sampler.at(started)["worker"]
    assert 0 < spent <= ended - started + 0.05
