"""What every domain's processing step shares: decoding and validating a batch of raw Kafka
messages, and isolating the message that makes a whole batch fail.

A batch is decoded and validated message by message (a bad one becomes a dead letter and the
rest go on), then processed as a whole: sentiment is scored for all texts at once, state is
folded once per key, and each table gets one set of columns.

If processing a whole batch raises, the batch is processed again one message at a time, so
that the message that makes it fail (a poison message) is dead-lettered with the error as its
reason and every other message still goes through. An unavailable dependency is never a
message's fault: ``Unavailable`` (and a bare ``ConnectionError`` or ``TimeoutError``) goes up
to the runtime, which pauses and computes the step again; no message is dead-lettered for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from streams.kernel.deadletter import DeadLetter, dead_letter, dead_letter_columns
from streams.kernel.errors import InvalidMessage, Unavailable
from streams.kernel.records import BatchResult, Raw, empty_columns

Validator = Callable[[Raw, Mapping[str, Any]], None]
#: decodes the values of a batch of one topic; a bad value yields its InvalidMessage in its place
Decode = Callable[[Sequence[bytes | None]], list[dict[str, Any] | InvalidMessage]]

log = logging.getLogger(__name__)

#: failures of the infrastructure, not of a message: never dead-lettered
INFRASTRUCTURE: tuple[type[Exception], ...] = (Unavailable, ConnectionError, TimeoutError)


def poison(raw: Raw, exc: Exception, dlq_topic: str, now_ms: int) -> DeadLetter:
    """The dead letter of a message whose processing raised ``exc``; an infrastructure
    failure is re-raised instead: it is not the message's fault."""
    if isinstance(exc, INFRASTRUCTURE):
        raise exc
    log.exception("processing %s[%d]@%d failed", raw.topic, raw.partition, raw.offset,
                  exc_info=exc)
    return dead_letter(
        raw, InvalidMessage("processing_failed", f"{type(exc).__name__}: {exc}"), dlq_topic,
        now_ms,
    )


def merge(into: BatchResult, part: BatchResult) -> None:
    for table, cols in part.inserts.items():
        target = into.inserts.setdefault(table, empty_columns(list(cols)))
        for name, values in cols.items():
            target[name].extend(values)
    into.outputs.extend(part.outputs)
    into.processed += part.processed
    into.dead += part.dead
    into.duplicates += part.duplicates


class StepBatch(Protocol):
    result: BatchResult
    dead: list[DeadLetter]


B = TypeVar("B", bound=StepBatch)


def one_by_one(out: B, raws: Sequence[Raw], step: Callable[[Raw], B], dlq_topic: str,
                now_ms: int, absorb: Callable[[B], None] | None = None) -> B:
    """After a batch failed: ``step`` each message on its own into ``out``; a message whose
    step raises is dead-lettered as poison, the others are merged (``absorb`` carries their
    state forward). An infrastructure failure (``INFRASTRUCTURE``) propagates: the whole
    step is computed again once the dependency is back."""
    for raw in raws:
        try:
            one = step(raw)
        except INFRASTRUCTURE:
            raise
        except Exception as exc:
            letter = poison(raw, exc, dlq_topic, now_ms)
            poisoned = BatchResult(dead=1)
            poisoned.inserts["dead_letters"] = dead_letter_columns([letter])
            merge(out.result, poisoned)
            out.dead.append(letter)
            continue
        merge(out.result, one.result)
        if absorb is not None:
            absorb(one)
        out.dead.extend(one.dead)
    return out


@dataclass(slots=True)
class Decoded:
    raws: list[Raw] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def decode_batch(
    decode: Decode,
    raws: Sequence[Raw],
    validate: Validator,
    dlq_topic: str,
    now_ms: int,
) -> Decoded:
    out = Decoded()
    decoded = decode([raw.value for raw in raws])
    for raw, value in zip(raws, decoded, strict=True):
        try:
            if isinstance(value, InvalidMessage):
                raise value
            validate(raw, value)
        except InvalidMessage as exc:
            out.dead.append(dead_letter(raw, exc, dlq_topic, now_ms))
            continue
        out.raws.append(raw)
        out.values.append(value)
    return out


