"""The local broker commands against a real broker of their own (not the session's)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from streams.io import kafka_local
from streams.settings import Settings

pytestmark = pytest.mark.integration


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def test_up_reuses_status_reports_and_down_stops(tmp_path: Path) -> None:
    port = _free_port_pair()
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}", local_state_dir=tmp_path)
    assert not kafka_local.status(settings).answering
    try:
        first = kafka_local.up(settings)
        assert first.answering and first.pid is not None
        assert (tmp_path / "kafka" / f"127.0.0.1-{port}" / "data" / "meta.properties").exists()
        again = kafka_local.up(settings)  # already answering: reused, not restarted
        assert again.pid == first.pid
        # bound to loopback only
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        assert kafka_local.down(settings)
    after = kafka_local.status(settings)
    assert not after.running and not after.answering


def test_refuses_to_manage_a_remote_cluster() -> None:
    with pytest.raises(kafka_local.KafkaLocalError, match="loopback"):
        kafka_local.local_kafka(Settings(kafka_bootstrap_servers="kafka.example.com:9092"))
