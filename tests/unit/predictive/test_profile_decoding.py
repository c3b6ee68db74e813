"""The compiled decoder of ``customer.profiles`` (``streams.io.avro_fast``) against fastavro's:
the same records for the examples and for generated profiles, the same dead-letter reasons
for bad bytes, and older writer schemas still resolved."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer

from benchmarks.scoring_stage_bench import profiles
from streams.contract.codec import AvroCodec, frame
from streams.io.avro_fast import specialise
from streams.kernel.errors import InvalidMessage
from streams.predictive.contract import CUSTOMER_PROFILES
from streams.settings import Settings
from tests.unit.predictive.helpers import interaction, profile


def codecs() -> tuple[AvroCodec, AvroCodec]:
    plain = AvroCodec.from_settings(Settings())
    return plain, specialise(AvroCodec.from_settings(Settings()), CUSTOMER_PROFILES)


def examples() -> list[dict[str, Any]]:
    spec = AvroCodec.from_settings(Settings()).topics[CUSTOMER_PROFILES]
    return [json.loads(p.read_text()) for p in spec.example_paths()]


def varied(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """Profiles with every shape a field takes: chat attributes, nulls and values in each
    union, non-ASCII text, empty and full maps, a merged person."""
    rng = random.Random(seed)
    out = []
    for p in range(n):
        recent = []
        for i in range(rng.randint(0, 40)):
            item = interaction(f"e_{p}_{i}", rng.choice(("touchpoint", "conversion", "profile")),
                               1_767_225_600_000 + i * 3_600_000 * rng.randint(1, 9),
                               rng.choice((None, "click", "purchase", "visit")),
                               rng.choice((None, "chat", "email", "Søcial ☂")),
                               rng.choice((None, 0.0, -1.5, 1e300, round(rng.random() * 99, 2))),
                               rng.choice((None, "EUR", "")))
            item["campaign_id"] = rng.choice((None, "", f"c{i}"))
            if rng.random() < 0.3:
                item["attributes"] = {"intent": "cancel", "sentiment_mean": str(rng.random()),
                                      "messages": str(rng.randint(0, 30)), "ü": "é"}
            else:
                item["attributes"] = {}
            recent.append(item)
        out.append(profile(f"p_{p}", version=rng.randrange(2**40), recent=recent,
                           identifiers=tuple(f"email:{j}@x" for j in range(rng.randint(0, 3))),
                           attributes={"opt_out": "true"} if p % 3 == 0 else {},
                           tags=["opt_out:email"] if p % 4 == 0 else [],
                           revenue={"EUR": 1.25} if p % 2 else {},
                           scores={"score.lead": 55.0} if p % 5 == 0 else {},
                           merged_into="p_0" if p % 7 == 0 else None))
    return out


def test_the_same_records_as_fastavro() -> None:
    plain, fast = codecs()
    values = examples() + varied(300) + profiles(200)
    encoded = [plain.encode(CUSTOMER_PROFILES, v) for v in values]
    expected = plain.decode_many(CUSTOMER_PROFILES, encoded)
    got = fast.decode_many(CUSTOMER_PROFILES, encoded)
    assert got == expected
    # the same order of keys too (maps and records as written)
    assert [json.dumps(g) for g in got] == [json.dumps(e) for e in expected]
    assert all(isinstance(g, dict) for g in got)
    latest = fast.topics[CUSTOMER_PROFILES].latest.id
    assert fast._readers[CUSTOMER_PROFILES, latest].compiled is not None  # cavro read them


def _reason(result: dict[str, Any] | InvalidMessage) -> str:
    assert isinstance(result, InvalidMessage), result
    return result.reason


@pytest.mark.parametrize("damage", ["truncated", "trailing", "bad_utf8", "bad_union", "empty"])
def test_bad_bytes_are_undecodable(damage: str) -> None:
    plain, fast = codecs()
    good = plain.encode(CUSTOMER_PROFILES, varied(2)[1])
    header, body = good[:5], good[5:]
    bad = {"truncated": good[:-3], "trailing": good + b"\x00", "empty": header,
           "bad_utf8": header + body[:1] + b"\xff" + body[2:],
           # merged_into is the last field: a union index of 5 does not exist
           "bad_union": good[:-1] + b"\x0a" if good[-1] == 0 else good + b"\x0a"}[damage]
    before, after = plain.decode_many(CUSTOMER_PROFILES, [bad]), \
        fast.decode_many(CUSTOMER_PROFILES, [bad])
    assert _reason(after[0]) == "undecodable"
    assert _reason(before[0]) == "undecodable"
    assert fast.decode_many(CUSTOMER_PROFILES, [good, bad, good])[::2] == \
        plain.decode_many(CUSTOMER_PROFILES, [good, good])


def test_framing_and_unknown_ids_as_before() -> None:
    plain, fast = codecs()
    for data in (None, b"\x01\x00\x00\x00\x7c", b"\x00\x00", frame(999_999, b"\x00")):
        assert _reason(fast.decode_many(CUSTOMER_PROFILES, [data])[0]) == \
            _reason(plain.decode_many(CUSTOMER_PROFILES, [data])[0])


def test_an_older_writer_schema_is_still_resolved() -> None:
    plain, fast = codecs()
    spec = plain.topics[CUSTOMER_PROFILES]
    v1 = next(v for v in spec.versions if v.id != spec.latest.id)
    value = varied(3)[2]
    for item in value["recent"]:
        item.pop("attributes", None)
    buffer = io.BytesIO()  # what a producer still on v1 writes
    schemaless_writer(buffer, parse_schema(v1.schema), value)
    data = frame(v1.id, buffer.getvalue())
    got = fast.decode_many(CUSTOMER_PROFILES, [data])
    assert got == plain.decode_many(CUSTOMER_PROFILES, [data])
    assert isinstance(got[0], dict) and all(i["attributes"] == {} for i in got[0]["recent"])


def test_a_negative_union_branch_is_refused() -> None:
    """fastavro reads union branch -1 as the last branch (Python indexing); the compiled
    decoder refuses it, as the Avro specification has no such branch."""
    plain, fast = codecs()
    good = plain.encode(CUSTOMER_PROFILES, varied(2)[1])
    assert good[-1] == 0  # merged_into: branch 0, null
    bad = good[:-1] + b"\x01" + b"\x02p"  # branch -1 (zigzag 1), then the string "p"
    assert isinstance(plain.decode_many(CUSTOMER_PROFILES, [bad])[0], dict)
    assert _reason(fast.decode_many(CUSTOMER_PROFILES, [bad])[0]) == "undecodable"


def test_damaged_bytes_decode_as_fastavro_does_or_are_refused() -> None:
    """Random damage (bytes changed, dropped, inserted): the compiled decoder gives the same
    record as fastavro or, as fastavro does, a dead letter; it parts from fastavro only on a
    negative union branch (above)."""
    plain, fast = codecs()
    rng = random.Random(5)
    goods = [plain.encode(CUSTOMER_PROFILES, v) for v in varied(30)]
    damaged = []
    for _ in range(3000):
        data = bytearray(rng.choice(goods))
        for _ in range(rng.randint(1, 3)):
            i, what = rng.randrange(5, len(data)), rng.random()
            if what < 0.5:
                data[i] = rng.randrange(256)
            elif what < 0.75:
                del data[i]
            else:
                data.insert(i, rng.randrange(256))
        damaged.append(bytes(data))
    both = zip(plain.decode_many(CUSTOMER_PROFILES, damaged),
               fast.decode_many(CUSTOMER_PROFILES, damaged), strict=True)
    refused = decoded = 0
    for before, after in both:
        if isinstance(after, InvalidMessage):
            refused += 1
            assert after.reason == "undecodable"
            assert isinstance(before, InvalidMessage) or "not valid for a union" in after.detail
        else:
            decoded += 1
            assert after == before
    assert refused > 1000 and decoded > 100  # both kinds were tried
