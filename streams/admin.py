"""Topic administration: create every topic of the contract (inputs, outputs, dead letters)."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams import topics
from streams.contract import load_topics, topic_config
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
    """Create missing topics; existing ones are left as they are. Returns the created names."""
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [p for p in planned_topics(settings) if p.name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(p.name, num_partitions=p.partitions,
                     replication_factor=settings.topic_replication_factor, config=p.config)
            for p in wanted
        ],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS: another process won the race
                raise
    return sorted(created)


def input_topics() -> tuple[str, ...]:
    return topics.INPUTS


def end_offsets(settings: Settings, logical_topic: str, *, timeout: float = 10.0) -> dict[int, int]:
    """High watermark of every partition of a topic (the offset the next message gets)."""
    from confluent_kafka import Consumer, TopicPartition

    name = settings.topic(logical_topic)
    consumer = Consumer({**settings.kafka_client_config(), "group.id": "touchstream-offsets",
                         "enable.auto.commit": False, "log_level": 3})
    try:
        metadata = consumer.list_topics(name, timeout=timeout)
        partitions = sorted(metadata.topics[name].partitions)
        return {
            p: consumer.get_watermark_offsets(TopicPartition(name, p), timeout=timeout)[1]
            for p in partitions
        }
    finally:
        consumer.close()
