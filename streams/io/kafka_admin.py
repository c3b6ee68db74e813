"""Topic administration: create every topic of the contract (inputs, outputs, dead letters)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams import topics
from streams.contract.manifest import load_topics, topic_config
from streams.settings import Settings

DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicPlan:
    name: str
    partitions: int
    config: dict[str, str]


def planned_topics(settings: Settings) -> list[TopicPlan]:
    """Physical topics this deployment needs, with partitions and configs from the manifests."""
    plans: list[TopicPlan] = []
    for spec in load_topics().values():
        partitions = spec.partitions or settings.topic_partitions
        plans.append(TopicPlan(settings.topic(spec.name), partitions, topic_config(spec)))
        if spec.dlq:
            plans.append(
                TopicPlan(
                    settings.topic(spec.dlq),
                    partitions,
                    {"cleanup.policy": "delete", "retention.ms": str(DLQ_RETENTION_MS)},
                )
            )
    return plans


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient({**settings.kafka_client_config(), "log_level": 3})


def create_topics(settings: Settings, *, timeout: float = 30.0) -> list[str]:
    """Create missing topics (existing ones are left as they are) and wait until every
    partition of every topic has a leader. Returns the created names."""
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    planned = planned_topics(settings)
    wanted = [p for p in planned if p.name not in existing]
    futures = admin.create_topics(
        [
            NewTopic(p.name, num_partitions=p.partitions,
                     replication_factor=settings.topic_replication_factor, config=p.config)
            for p in wanted
        ],
        operation_timeout=timeout,
    ) if wanted else {}
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS: another process won the race
                raise
    # A busy broker may answer metadata requests without the new topics for a while; a
    # worker that joins its group then gets no partitions until its next metadata refresh
    # (minutes). Just after a broker restart, partitions have no leader for a moment and
    # producers complain. Return once the broker lists every topic with all its partitions,
    # each with a leader.
    deadline = time.monotonic() + timeout
    counts = {p.name: p.partitions for p in planned}
    while True:
        listed = admin.list_topics(timeout=timeout).topics
        missing = [n for n, c in counts.items()
                   if n not in listed or len(listed[n].partitions) < c
                   or any(part.leader < 0 for part in listed[n].partitions.values())]
        if not missing:
            return sorted(created)
        if time.monotonic() > deadline:
            raise RuntimeError(f"topics without all partitions and leaders after {timeout:.0f} s: "
                               f"{missing}")
        time.sleep(0.2)


def delete_topics_with_prefix(settings: Settings, *prefixes: str, timeout: float = 30.0
                              ) -> list[str]:
    """Delete every topic whose name starts with one of ``prefixes`` (benchmark runs clean up
    after themselves: a local broker slows down as its data directory grows)."""
    admin = admin_client(settings)
    names = sorted(t for t in admin.list_topics(timeout=timeout).topics
                   if prefixes and t.startswith(prefixes))
    if not names:
        return []
    for future in admin.delete_topics(names, operation_timeout=timeout).values():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != 3:  # UNKNOWN_TOPIC_OR_PART: already gone
                raise
    return names


def input_topics() -> tuple[str, ...]:
    return topics.INPUTS



def _offsets_consumer(settings: Settings, **extra: Any) -> Consumer:
    """A group-less consumer for offset look-ups (nothing is committed)."""
    return Consumer({**settings.kafka_client_config(), "group.id": "touchstream-offsets",
                     "enable.auto.commit": False, "log_level": 3, **extra})


def _watermarks(settings: Settings, physical_topic: str, partitions: Iterable[int] | None,
                timeout: float) -> dict[int, tuple[int, int]]:
    consumer = _offsets_consumer(settings)
    try:
        if partitions is None:
            metadata = consumer.list_topics(physical_topic, timeout=timeout)
            partitions = sorted(metadata.topics[physical_topic].partitions)
        return {
            p: consumer.get_watermark_offsets(TopicPartition(physical_topic, p), timeout=timeout)
            for p in partitions
        }
    finally:
        consumer.close()


def end_offsets(settings: Settings, logical_topic: str, *, timeout: float = 10.0) -> dict[int, int]:
    """High watermark of every partition of a topic (the offset the next message gets)."""
    marks = _watermarks(settings, settings.topic(logical_topic), None, timeout)
    return {p: high for p, (_, high) in marks.items()}


def log_start(settings: Settings, physical_topic: str, partitions: Iterable[int],
              *, timeout: float = 10.0) -> dict[int, int]:
    """First offset still in the log, per partition (retention may have removed older ones)."""
    marks = _watermarks(settings, physical_topic, partitions, timeout)
    return {p: low for p, (low, _) in marks.items()}


def committed(settings: Settings, group: str, physical_topic: str, partitions: Iterable[int],
              *, timeout: float = 10.0) -> dict[int, int]:
    """The offsets ``group`` has committed on ``partitions`` as the broker holds them (absent:
    none). Reads only: the look-up neither joins the group nor commits."""
    consumer = _offsets_consumer(settings, **{"group.id": group})
    try:
        found = consumer.committed([TopicPartition(physical_topic, p) for p in partitions],
                                   timeout=timeout)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found if tp.error is None and tp.offset >= 0}


def first_offset_from(settings: Settings, physical_topic: str, partition: int, offset: int
                      ) -> int | None:
    """Offset of the first message the broker holds at or after ``offset`` (None: none)."""
    consumer = _offsets_consumer(settings, **{"isolation.level": "read_committed"})
    try:
        consumer.assign([TopicPartition(physical_topic, partition, offset)])
        for message in consumer.consume(1, timeout=5.0):
            if message.error() is None:
                found: int | None = message.offset()
                return found
        return None
    finally:
        consumer.close()
