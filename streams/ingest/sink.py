"""What ingest hands events to: anything with ``async send(events, dead_letters)``.

``send`` returns once every event and every dead letter is stored (for Kafka: acknowledged
by the brokers) and raises ``DeliveryError`` when some are not. Calls start storing in call
order, so events sent by one caller keep their order. A sink may make ``send`` wait while it
is saturated: that wait is how ingest slows its readers down.

Events go to ``topic``; dead letters (input that failed validation, see
``streams.ingest.deadletters``) go to ``dlq_topic`` in the pipeline's dead-letter format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from streams.kernel.deadletter import DeadLetter


class DeliveryError(RuntimeError):
    """Some events or dead letters of a ``send`` were not stored."""


class EventSink(Protocol):
    topic: str  # physical topic of the events
    dlq_topic: str  # physical dead-letter topic

    async def send(self, events: Sequence[Mapping[str, Any]],
                   dead_letters: Sequence[DeadLetter] = ()) -> None:
        """Store every event (Avro-ready ChatEvent records) and dead letter; raise
        DeliveryError if not."""
        ...
