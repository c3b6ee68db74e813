"""Counters a worker keeps and reports on its HTTP ``/stats`` view and in its logs."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal

Metric = Literal[
    "events.consumed",
    "events.processed",
    "events.dead_lettered",
    "rows.inserted",
    "inserts",
    "insert.retries",
    "outputs.produced",
    "batches",
]


class Counters:
    """Thread-safe monotonic counters keyed by (metric, label)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[Metric, str]] = Counter()

    def incr(self, metric: Metric, label: str = "", value: int = 1) -> None:
        with self._lock:
            self._values[(metric, label)] += value

    def get(self, metric: Metric, label: str = "") -> int:
        with self._lock:
            return self._values[(metric, label)]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                f"{metric}{'{' + label + '}' if label else ''}": value
                for (metric, label), value in sorted(self._values.items())
            }
