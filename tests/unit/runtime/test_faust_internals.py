"""The private members of Faust and aiokafka that ``agents.runtime.transport`` relies on.

The batching consumer replaces Faust's drain loop and reuses its bookkeeping; a Faust or
aiokafka release that changes any of it must fail here, loudly, before it misbehaves in a
worker. The source of each method the transport copies or overrides is pinned by hash: when
one changes, read the new upstream version, carry the change over to the transport, and
update the hash.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import aiokafka
import faust
import pytest
from faust.transport import consumer as faust_consumer
from faust.transport.conductor import Conductor
from faust.transport.drivers import aiokafka as faust_aiokafka

from agents.runtime import transport

#: upstream methods whose behaviour the transport reproduces or overrides
PINNED: dict[str, tuple[Any, str]] = {
    "faust Consumer._drain_messages": (faust_consumer.Consumer._drain_messages, "44a2500309e83c63"),
    "faust AIOKafkaConsumerThread._create_worker_consumer": (
        faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer, "c2701bfc3e6f6cad"),
    "faust Topic._compile_decode": (faust.topics.Topic._compile_decode, "6474178f8c211c05"),
    # the commit of a guarded partition replaces their arithmetic and their books
    "faust Consumer._new_offset": (faust_consumer.Consumer._new_offset, "1d2c7ea89a7ad4f1"),
    "faust Consumer.ack": (faust_consumer.Consumer.ack, "5fcf41cf45153475"),
    "faust Consumer.on_partitions_revoked": (
        faust_consumer.Consumer.on_partitions_revoked, "d04b7ae72c6fc206"),
}


def test_the_versions_the_transport_was_written_for() -> None:
    assert faust.__version__ == "0.15.3"
    assert aiokafka.__version__ == "0.14.0"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_upstream_methods_it_copies_are_unchanged(name: str) -> None:
    method, digest = PINNED[name]
    source = inspect.getsource(method)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == digest, (
        f"{name} changed upstream: re-read it and carry the change over to "
        "agents/runtime/transport.py")


def _signature(obj: Any) -> list[str]:
    return list(inspect.signature(obj).parameters)


def test_the_private_methods_it_calls_keep_their_signatures() -> None:
    consumer = faust_aiokafka.Consumer
    assert _signature(consumer._wait_next_records) == ["self", "timeout"]
    assert _signature(consumer._add_gap) == ["self", "tp", "offset_from", "offset_to"]
    assert _signature(consumer._to_message) == ["self", "tp", "record"]
    assert _signature(consumer._new_consumer_thread) == ["self"]
    assert _signature(faust.App._new_transport) == ["self"]
    for public in ("wait_first", "perform_seek", "on_buffer_full", "on_buffer_drop",
                   "track_message", "commit", "highwater"):
        assert callable(getattr(consumer, public)), public


def test_the_private_attributes_it_reads_are_still_set_upstream() -> None:
    faust_consumer_source = inspect.getsource(faust_consumer)
    for attribute in ("_read_offset", "_committed_offset", "_commit_every", "_n_acked",
                      "_buffered_partitions", "_acked", "_acked_index", "_gap",
                      "_active_partitions", "_paused_partitions"):
        assert f"self.{attribute}" in faust_consumer_source, attribute
    assert "self._tp_index" in inspect.getsource(Conductor)
    start = inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    assert "self._fetch_min_bytes" in start and "self._fetch_max_wait_ms" in start


def test_the_transport_overrides_what_it_means_to() -> None:
    assert transport.BatchingConsumer._drain_messages is not faust_aiokafka.Consumer._drain_messages
    assert transport.BatchingTransport.Consumer is transport.BatchingConsumer
    assert transport.BatchTopic._compile_decode is not faust.topics.Topic._compile_decode
    for name in ("ack", "_new_offset", "on_partitions_revoked"):
        assert getattr(transport.BatchingConsumer, name) is not getattr(
            faust_aiokafka.Consumer, name), name
