"""The one exception that means "this message is bad".

``InvalidMessage`` is raised (chained) at the decode/validate boundary. A message that
raises it is dead-lettered with ``reason`` and the pipeline moves on. Any other exception is
an infrastructure fault: it is retried and never dead-lettered.
"""

from __future__ import annotations

from typing import Literal

Reason = Literal[
    "not_framed",  # not the Confluent wire format (no magic byte / too short)
    "unknown_schema",  # schema id not known to the registry
    "wrong_schema",  # schema id belongs to another record type than the topic's
    "undecodable",  # bytes do not decode with the writer schema
    "invalid_field",  # decoded, but a field breaks the contract (empty id, text missing, ...)
    "processing_failed",  # valid by the contract, yet processing it raised (a poison message)
]


class InvalidMessage(Exception):
    """A message that can never be processed as it is; its reason goes to the dead letter."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


class Unavailable(Exception):
    """A dependency (schema registry, ClickHouse, the broker) cannot be reached or answers
    with a transient failure: the work is retried once it answers, never dead-lettered."""
