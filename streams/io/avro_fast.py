"""Compiled Avro decoding (cavro, Cython) for the topics whose decoding dominates their stage.

fastavro's generic reader costs about 120 us for a 1.6 kB ``customer.profiles`` value (thirty
nested interaction records), more than the scoring that follows; cavro reads the same bytes in
about 45 us. ``specialise(codec, topic)`` makes the codec read that topic's messages written
with its latest schema through cavro (``AvroCodec.compile_decoder``); messages written with an
older schema are still resolved by fastavro.

Invariants:
- the same records as fastavro's reader: dicts for records, plain numbers for the temporal
  logical types (the codec hands the schema over with them removed), ``None`` for a null
  branch of a union, maps and arrays in their written order;
- every kind of bad bytes raises (truncated data, an impossible length or union branch, bytes
  left after the record, invalid UTF-8), which the codec dead-letters as ``undecodable``;
  a negative union branch too, which fastavro reads as the last branch (Python indexing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cavro

from streams.contract.codec import HEADER_SIZE, AvroCodec

_OPTIONS = cavro.Options(record_decodes_to_dict=True)
#: reads one byte: at the end of a message it must fail, else bytes were left after the record
_PROBE = cavro.Schema('"boolean"')


class TrailingBytes(ValueError):
    """A message longer than its record."""


def compiled(schema: dict[str, Any]) -> Callable[[bytes], Any]:
    """A decoder of one framed message (header + Avro binary) written with ``schema``."""
    reader_schema = cavro.Schema(schema, options=_OPTIONS)
    read, probe, memory = reader_schema.binary_read, _PROBE.binary_read, cavro.MemoryReader

    def decode(data: bytes) -> Any:
        reader = memory(memoryview(data)[HEADER_SIZE:])
        record = read(reader)
        try:
            probe(reader)
        except EOFError:
            return record
        raise TrailingBytes("bytes left after the record")

    return decode


def specialise(codec: AvroCodec, *logical_topics: str) -> AvroCodec:
    """``codec``, reading ``logical_topics`` with compiled decoders from now on."""
    for topic in logical_topics:
        codec.compile_decoder(topic, compiled)
    return codec
