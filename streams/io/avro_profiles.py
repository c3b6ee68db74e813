"""A batch of ``customer.profiles`` messages read into columns in one call (the scoring stage's
``Input.read_batch``).

The bodies go, one after the other, through a compiled reader that fills integer arrays
(``avro_profiles_kernel``: about 3 us a 1.6 kB profile against 45 for cavro's dicts); the
scoring step then computes its features over those columns
(``streams.predictive.features_columns``). Python objects are made only for what the step
reads one by one: person ids, profile attributes and tags, and the purchase and chat
interactions (``ProfileColumns.items``, a purchase's four fields as a tuple:
``ProfileColumns.purchases``); the purchases of new customers are folded from where their
fields are in the batch's bytes (``ProfileColumns.blob`` and ``spans``) without either; a
whole profile, when something reads all of it (the personalisation model), is decoded by
the message-wise decoder.

Invariants:
- ``read`` returns columns for every message of the batch or raises ``InvalidMessage``: a
  message not framed, written with another schema than the topic's latest, whose bytes are
  not exactly one record (``avro_profiles_kernel.decode``), or a profile that breaks the
  stage's contract rules; the runtime then reads that batch message by message, so a bad
  record is dead-lettered alone and an older schema is still resolved;
- the values are those of the message-wise decoder: strings decoded from the same bytes,
  doubles from the same 8 bytes, longs and maps in their written order;
- ``available(codec)``: the reader is compiled (numba, a dependency) and the topic's
  latest schema is the one the kernel reads (``customer_profile.v2``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from streams.contract.codec import HEADER_SIZE, MAGIC_BYTE, AvroCodec, plain_logical_types
from streams.io import avro_profiles_kernel as kernel
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.kernel.step import Decode
from streams.predictive import rfm_columns
from streams.predictive.contract import CUSTOMER_PROFILES
from streams.predictive.features_columns import (
    IDENTIFIER_KINDS,
    VOCABULARY,
    ProfileColumns,
    check,
)

#: the layout ``avro_profiles_kernel.decode`` reads, field by field
LAYOUT: Final = {
    "person_id": "string", "version": "long", "updated_at": "long", "first_seen": "long",
    "last_seen": "long", "identifiers": ["array", "string"], "attributes": ["map", "string"],
    "tags": ["array", "string"], "lifecycle_stage": "string", "channels": ["array", "string"],
    "touchpoints": "long", "conversions": "long", "revenue": ["map", "double"],
    "scores": ["map", "double"], "recent": ["array", {
        "event_id": "string", "kind": "string", "occurred_at": "long", "type": ["null", "string"],
        "channel": ["null", "string"], "campaign_id": ["null", "string"],
        "value": ["null", "double"], "currency": ["null", "string"],
        "attributes": ["map", "string"]}],
    "merged_into": ["null", "string"]}
_DOUBLE: Final = struct.Struct("<d")
#: the columns of ``I`` that ``ProfileColumns.spans`` holds, in its order
_SPANS: Final = [kernel.I_EVENT, kernel.I_EVENT_LEN, kernel.I_VALUE, kernel.I_CURRENCY,
                 kernel.I_CURRENCY_LEN]


def _shape(schema: Any) -> Any:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return [_shape(t) for t in schema]
    kind = schema["type"]
    if kind == "record":
        return {f["name"]: _shape(f["type"]) for f in schema["fields"]}
    if kind == "array":
        return ["array", _shape(schema["items"])]
    if kind == "map":
        return ["map", _shape(schema["values"])]
    return _shape(kind)


def available(codec: AvroCodec) -> bool:
    """The compiled reader can read the topic's latest schema."""
    latest = codec.topics[CUSTOMER_PROFILES].latest.schema
    return kernel.COMPILED and _shape(plain_logical_types(latest)) == LAYOUT


def _vocabulary(words: Sequence[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    encoded = [w.encode() for w in words]
    bounds = np.cumsum([0, *(len(w) for w in encoded)]).astype(np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), bounds


class ProfileReader:
    """``read(raws, decode)``: a batch of ``customer.profiles`` as ``ProfileColumns``."""

    def __init__(self, codec: AvroCodec) -> None:
        self._codec = codec
        self._words = _vocabulary(VOCABULARY)
        self._id_words = _vocabulary(IDENTIFIER_KINDS)
        self._header: bytes | None = None  # the latest schema's framing (looked up once)
        # compiled now (or read from numba's cache), not on the first batch
        kernel.decode(np.frombuffer(b"", dtype=np.uint8), *(np.zeros(0, dtype=np.int64),) * 2,
                      *self._words, *self._id_words, *(np.zeros((0, c), dtype=np.int64)
                                                       for c in (14, 15, 4, 2)))
        rfm_columns.compile_now()  # the new customers' fold over these columns too

    def _latest(self) -> bytes:
        """The framing of the schema the kernel reads: the topic's writer id, provided the
        schema registered under it is the contract's latest (a registry may hold a newer one,
        which the message-wise decoder resolves)."""
        if self._header is None:
            source = self._codec.source
            schema_id = source.writer_id(CUSTOMER_PROFILES)
            if source.schema(schema_id) == self._codec.topics[CUSTOMER_PROFILES].latest.schema:
                self._header = bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big")
            else:
                self._header = b""  # no message is framed so: every batch message by message
        return self._header

    def read(self, raws: Sequence[Raw], decode: Decode) -> ProfileColumns:
        header = self._latest()
        datas: list[bytes] = []
        for raw in raws:
            data = raw.value
            if data is None or not header or data[:HEADER_SIZE] != header:
                raise InvalidMessage("undecodable", "not framed with the latest schema's id")
            datas.append(data)
        blob = b"".join(datas)
        lengths = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
        ends = np.cumsum(lengths)
        starts = ends - lengths + HEADER_SIZE
        size = len(blob)
        # bounds no batch exceeds: an interaction takes 9 bytes at least, a map entry 2, a tag 1
        P = np.empty((len(datas), 14), dtype=np.int64)
        I = np.empty((size // 9 + 1, 15), dtype=np.int64)  # noqa: E741 - as the kernel names it
        M = np.empty((size // 2 + 1, 4), dtype=np.int64)
        T = np.empty((size + 1, 2), dtype=np.int64)
        bad = kernel.decode(np.frombuffer(blob, dtype=np.uint8), starts, ends, *self._words,
                            *self._id_words, P, I, M, T)
        if bad >= 0:
            raise InvalidMessage("undecodable", f"message {bad} of the batch is not one record")
        columns = _columns(blob, P, I[:int(P[-1, kernel.P_RECENT_END])] if len(datas) else I[:0],
                           M, T, raws, decode)
        check(columns, raws)
        return columns


def _text(blob: bytes, start: int, n: int) -> str:
    return blob[start:start + n].decode()


def _map(blob: bytes, entries: list[list[int]]) -> dict[str, str]:
    return {blob[ks:ks + kn].decode(): blob[vs:vs + vn].decode() for ks, kn, vs, vn in entries}


def _columns(blob: bytes, P: Any, I: Any, M: Any, T: Any, raws: Sequence[Raw],  # noqa: E741
             decode: Decode) -> ProfileColumns:
    k = kernel
    entries = M[:int(P[:, k.P_ATTR_END].max(initial=0))].tolist()  # one conversion, then slices
    strings = T[:int(P[:, k.P_TAGS_END].max(initial=0))].tolist()
    # each a column of P as a list: no lookup of the kernel's column names per profile
    attributes = [_map(blob, entries[a:b]) if b > a else {}
                  for a, b in zip(P[:, k.P_ATTR].tolist(), P[:, k.P_ATTR_END].tolist(),
                                  strict=True)]
    tags = [[_text(blob, s, n) for s, n in strings[a:b]] if b > a else []
            for a, b in zip(P[:, k.P_TAGS].tolist(), P[:, k.P_TAGS_END].tolist(), strict=True)]

    def items(index: Any, with_attributes: bool) -> list[dict[str, Any]]:
        out = []
        for (event, event_n, _, at, _, _, _, value, currency, currency_n, attr, attr_end, _, _,
             _) in I[index].tolist():
            one = {"event_id": blob[event:event + event_n].decode(), "occurred_at": at,
                   "value": None if value < 0 else _DOUBLE.unpack_from(blob, value)[0],
                   "currency": None if currency_n < 0
                   else blob[currency:currency + currency_n].decode()}
            if with_attributes:
                one["attributes"] = _map(blob, M[attr:attr_end].tolist())
            out.append(one)
        return out

    def purchases(index: Any) -> list[tuple[str, int, float | None, str | None]]:
        return [(blob[event:event + event_n].decode(), at,
                 None if value < 0 else _DOUBLE.unpack_from(blob, value)[0],
                 None if currency_n < 0 else blob[currency:currency + currency_n].decode())
                for event, event_n, _, at, _, _, _, value, currency, currency_n, *_
                in I[index].tolist()]

    def whole(i: int) -> dict[str, Any]:
        value = decode([raws[i].value])[0]
        if isinstance(value, InvalidMessage):
            raise value
        return value

    return ProfileColumns(
        person_id=[blob[a:a + n].decode() for a, n in zip(
            P[:, k.P_PERSON].tolist(), P[:, k.P_PERSON_LEN].tolist(), strict=True)],
        version=P[:, k.P_VERSION].tolist(), updated_at=P[:, k.P_UPDATED].copy(),
        merged=(P[:, k.P_MERGED_LEN] > 0).tolist(),
        first_seen=P[:, k.P_FIRST_SEEN].tolist(), touchpoints=P[:, k.P_TOUCHPOINTS].tolist(),
        attributes=attributes, tags=tags, identifier_kinds=P[:, k.P_ID_KINDS].copy(),
        profile=I[:, k.I_PROFILE].copy(), occurred_at=I[:, k.I_AT].copy(),
        kind=I[:, k.I_KIND].copy(), type=I[:, k.I_TYPE].copy(), channel=I[:, k.I_CHANNEL].copy(),
        channel_first=I[:, k.I_CHANNEL_FIRST].copy(),
        attribute_count=I[:, k.I_ATTR_END] - I[:, k.I_ATTR], items=items, purchases=purchases,
        whole=whole, blob=blob, spans=I[:, _SPANS])
