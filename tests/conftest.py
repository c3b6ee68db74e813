"""Shared fixtures.

Unit tests must not reach Kafka or ClickHouse servers: an autouse guard refuses TCP
connections for tests not marked ``integration`` (the WebSocket tests in ``tests/ingest`` let
loopback through for the servers they start themselves). Integration tests get a fresh topic
prefix, consumer group and ClickHouse data directory each.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
                              ) -> Iterator[None]:
    if request.node.get_closest_marker("integration") is not None:
        yield
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise RuntimeError(
                f"unit test tried to connect to {address!r}: mark it `integration`"
            )
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
