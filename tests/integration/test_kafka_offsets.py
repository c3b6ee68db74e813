"""The offset look-ups the position guard seeds from, against the real broker."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.cimpl import NewTopic

from streams.io import kafka_admin
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_the_groups_commits_are_read_from_the_broker_without_joining(broker: str) -> None:
    settings = Settings(kafka_bootstrap_servers=broker)
    topic = f"t{uuid.uuid4().hex[:8]}.offsets"
    group = f"touchstream-test-{uuid.uuid4().hex[:8]}"
    admin = kafka_admin.admin_client(settings)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result()
    try:
        producer = Producer({"bootstrap.servers": broker})
        for i in range(10):
            producer.produce(topic, value=b"x", partition=i % 2)
        assert producer.flush(30) == 0
        assert kafka_admin.committed(settings, group, topic, [0, 1, 2]) == {}

        member = Consumer({"bootstrap.servers": broker, "group.id": group,
                           "enable.auto.commit": False})
        try:
            member.commit(offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 2)],
                          asynchronous=False)
        finally:
            member.close()
        assert kafka_admin.committed(settings, group, topic, [0, 1, 2]) == {0: 4, 1: 2}
        assert kafka_admin.committed(settings, group, topic, [1]) == {1: 2}
        # another group's commits are not this one's
        assert kafka_admin.committed(settings, group + "-other", topic, [0, 1]) == {}
    finally:
        admin.delete_topics([topic])[topic].result()
