"""``identity why`` from identity_links rows alone agrees with the graph the stage holds, before
and after a split; identifiers typed by an operator become the stored node keys."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from streams.contract.codec import AvroCodec
from streams.customer import identity_stage
from streams.customer.identifiers import hash_value
from streams.ops.identity import change_record, explain_rows, parse_identifier
from streams.settings import Settings
from tests.unit.customer.stage_chain import Chain
from tests.unit.customer.test_identity_changes import ANON, EMAIL, HOUR, T0, change, touch


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def link_rows(chain: Chain) -> list[dict[str, Any]]:
    return [{**r, "offset": r["_offset"]} for r in chain.column_rows("identity_links")]


def graph_why(chain: Chain, node: str) -> tuple[str, tuple[str, ...], set[tuple[str, str]]]:
    explained = identity_stage.explain(chain.memory[identity_stage.NAME].lookup, node)
    assert explained is not None
    return explained.person_id, explained.identifiers, {(e.a, e.b) for e in explained.edges}


def test_why_from_the_rows_matches_the_graph_through_merges_and_a_split(
        codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce([touch("t1", T0, "direct", anonymous_id=ANON),
                   touch("t2", T0 + 1, "direct", email="bob@mail.org", device_id="d-1"),
                   touch("t3", T0 + 2, "email", email=EMAIL, anonymous_id=ANON),
                   touch("t4", T0 + 3, "email", email=EMAIL, device_id="d-1")])
    chain.drain()
    for node in (f"email:{EMAIL}", "device_id:d-1"):
        explained = explain_rows(node, link_rows(chain))
        person, identifiers, edges = graph_why(chain, node)
        assert (explained.person_id, tuple(explained.identifiers)) == (person, identifiers)
        assert {(r["a"], r["b"]) for r in explained.edges} == edges
        assert all(r["rule"] == "same_event" and r["source_event"] for r in explained.edges)
    chain.produce([change("unlink", [("email", EMAIL), ("device_id", "d-1")], T0 + 4 * HOUR,
                          reason="wrong device")])
    chain.drain()
    for node in (f"email:{EMAIL}", "device_id:d-1", f"anonymous_id:{ANON}"):
        explained = explain_rows(node, link_rows(chain))
        person, identifiers, edges = graph_why(chain, node)
        assert (explained.person_id, tuple(explained.identifiers)) == (person, identifiers)
        assert {(r["a"], r["b"]) for r in explained.edges} == edges
    explained = explain_rows("device_id:d-1", link_rows(chain))
    assert [r["kind"] for r in explained.removals] == ["unlink", "split", "split"]
    assert explained.removals[0]["reason"] == "wrong device"


def test_a_forgotten_identifier_has_no_person_in_the_rows(codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce([touch("t1", T0, "direct", email=EMAIL, anonymous_id=ANON)])
    chain.drain()
    chain.produce([change("forget", [("email", EMAIL)], T0 + HOUR)])
    chain.drain()
    explained = explain_rows(f"email:{EMAIL}", link_rows(chain))
    assert explained.person_id is None and not explained.edges
    assert explained.forgotten_at is not None
    anon = explain_rows(f"anonymous_id:{ANON}", link_rows(chain))
    assert anon.person_id == graph_why(chain, f"anonymous_id:{ANON}")[0]
    assert anon.identifiers == [f"anonymous_id:{ANON}"]


def test_typed_identifiers_become_stored_node_keys() -> None:
    plain = Settings()
    assert parse_identifier(" Jane@Mail.org", plain) == "email:jane@mail.org"
    assert parse_identifier("+44 20 7946 0018", plain) == "phone:+442079460018"
    assert parse_identifier("record_id:rec-1-org", plain) == "record_id:rec-1-org"
    assert parse_identifier("anonymous_id: a1 ", plain) == "anonymous_id:a1"
    with pytest.raises(ValueError, match="kind:value"):
        parse_identifier("cus_1", plain)
    hashed = Settings(customer_hash_identifiers=True, customer_hash_salt=SecretStr("s"))
    assert parse_identifier("jane@mail.org", hashed) == "email:" + hash_value("jane@mail.org",
                                                                              b"s")


def test_change_records_are_valid_observations(codec: AvroCodec) -> None:
    record = change_record("unlink", ["email:a@mail.org", "anonymous_id:x"], "oops", T0)
    value = codec.decode(record.topic, codec.encode(record.topic, record.value))
    assert record.key == "identity" and value["kind"] == "unlink"
    assert [(i["kind"], i["value"]) for i in value["identifiers"]] == [
        ("email", "a@mail.org"), ("anonymous_id", "x")]
    assert value["attributes"] == {"reason": "oops"}
