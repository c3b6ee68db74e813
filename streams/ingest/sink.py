"""What ingest hands events to: anything with ``async send(events)``.

``send`` returns once every event is stored (for Kafka: acknowledged by the brokers) and
raises ``DeliveryError`` when some are not. Calls start storing in call order, so events
sent by one caller keep their order. A sink may make ``send`` wait while it is saturated:
that wait is how ingest slows its readers down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class DeliveryError(RuntimeError):
    """Some events of a ``send`` were not stored."""


class EventSink(Protocol):
    async def send(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Store every event (Avro-ready ChatEvent records); raise DeliveryError if not."""
        ...
