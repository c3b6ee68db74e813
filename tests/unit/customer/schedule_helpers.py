"""What the tests of the scheduled customer jobs (attribution, matching) share."""

from __future__ import annotations

import time
from typing import Any

from streams.kernel.records import Raw
from streams.kernel.stage import Events

T0 = 1_767_225_600_000


def events(*partitions: int) -> Events:
    """One undecoded ``identity.links`` record on each of ``partitions``."""
    return Events([Raw("p.identity.links", p, i, T0, b"person", b"\x00") for i, p in
                   enumerate(partitions)], [{} for _ in partitions])


def finished(runner: Any, timeout: float = 30.0) -> None:
    """Wait until the runner's background run is done."""
    deadline = time.monotonic() + timeout
    while runner._future is not None and not runner._future.done():
        assert time.monotonic() < deadline
        time.sleep(0.01)
