"""Hand-overs and forwarded events that arrive after the person they are for changed again.

The profile stage receives, on one person's partition, records from two producers: the
identity stage (its events, merge and split notices, in graph order) and the profile stage
itself (``detached`` parts of a split, ``absorbed`` profiles of a merge, events forwarded from
a person merged away). The second kind can arrive after a later notice of the first; these
tests play such orders record by record and check that each final part holds exactly its own
events, value and credits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer.attribution_rules import RULE_MODELS
from streams.kernel.records import OutputRecord
from streams.settings import Settings
from tests.unit.customer.stage_chain import Chain
from tests.unit.customer.test_identity_changes import (
    ANON,
    EMAIL,
    HOUR,
    T0,
    change,
    convert,
    latest_credits,
    touch,
)

DEVICE = "dev-7"


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def by_ids(chain: Chain) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(p["identifiers"]): p for p in chain.profiles().values()}


def identity_batch(chain: Chain, records: Iterable[OutputRecord]) -> list[OutputRecord]:
    """One identity batch over ``records``: the ``customer.events`` records it sends."""
    chain.produce(records)
    raws, chain.pending = chain.pending, []
    computed = chain.run_batch(chain.stages[topics.IDENTITY_OBSERVATIONS], raws)
    return [o for o in computed.outcome.result.outputs if o.topic == topics.CUSTOMER_EVENTS]


def profile_batch(chain: Chain, records: Iterable[OutputRecord]) -> list[OutputRecord]:
    """One profile-stage batch over ``records``: the ``customer.events`` records it sends."""
    chain.produce(records)
    raws, chain.pending = chain.pending, []
    computed = chain.run_batch(chain.stages[topics.CUSTOMER_EVENTS], raws)
    return [o for o in computed.outcome.result.outputs if o.topic == topics.CUSTOMER_EVENTS]


def three_identifiers(chain: Chain) -> None:
    """One person: anon-1 (tp1), anon-1 with jane (tp2), jane with a device (tp3), the device
    alone (tp4); jane buys for 100, the device for 30."""
    chain.produce([touch("tp1", T0, "paid_search", anonymous_id=ANON),
                   touch("tp2", T0 + HOUR, "email", email=EMAIL, anonymous_id=ANON),
                   touch("tp3", T0 + 2 * HOUR, "social", email=EMAIL, device_id=DEVICE),
                   touch("tp4", T0 + 3 * HOUR, "display", device_id=DEVICE),
                   convert("cv1", T0 + 4 * HOUR, 100.0, email=EMAIL),
                   convert("cv2", T0 + 5 * HOUR, 30.0, device_id=DEVICE)])
    chain.drain()
    assert len(chain.profiles()) == 1


def check_three_parts(chain: Chain) -> None:
    parts = by_ids(chain)
    assert set(parts) == {(f"anonymous_id:{ANON}",), (f"email:{EMAIL}",),
                          (f"device_id:{DEVICE}",)}
    anon, jane, device = (parts[f"anonymous_id:{ANON}",], parts[f"email:{EMAIL}",],
                          parts[f"device_id:{DEVICE}",])
    journeys = {k: [t["touchpoint_id"] for t in p["journey"]] for k, p in
                (("anon", anon), ("jane", jane), ("device", device))}
    assert journeys == {"anon": ["tp1"], "jane": ["tp2", "tp3"], "device": ["tp4"]}
    assert (anon["touchpoints"], jane["touchpoints"], device["touchpoints"]) == (1, 2, 1)
    assert (jane["conversions"], jane["revenue"]) == (1, {"USD": 100.0})
    assert (device["conversions"], device["revenue"]) == (1, {"USD": 30.0})
    assert (anon["conversions"], anon["revenue"]) == (0, {})
    assert sorted(e["event_id"] for e in device["recent"]) == ["cv2", "tp4"]
    credits = latest_credits(chain)
    for model in RULE_MODELS:  # each conversion credited over its own part's journey only
        assert credits["cv2", model, "tp4"] == pytest.approx(1.0)
        for other in ("tp1", "tp2", "tp3"):
            assert credits.get(("cv2", model, other), 0.0) == 0.0
        assert sum(credits.get(("cv1", model, t), 0.0) for t in ("tp2", "tp3")) == \
            pytest.approx(1.0)
        assert credits.get(("cv1", model, "tp4"), 0.0) == 0.0
        assert credits.get(("cv1", model, "tp1"), 0.0) == 0.0


def test_a_part_split_again_before_its_hand_over_arrives_divides_it(codec: AvroCodec
                                                                     ) -> None:
    """anon-1 | jane is unlinked (the part jane + device goes out as ``detached``), then jane
    | device, and the second split's notice reaches the new person before its part does."""
    chain = Chain(codec)
    three_identifiers(chain)
    first, second = identity_batch(chain, [
        change("unlink", [("email", EMAIL), ("anonymous_id", ANON)], T0 + 6 * HOUR),
        change("unlink", [("email", EMAIL), ("device_id", DEVICE)], T0 + 7 * HOUR)])
    assert (first.value["kind"], second.value["kind"]) == ("split", "split")
    (detached,) = [o for o in profile_batch(chain, [first]) if o.value["kind"] == "detached"]
    assert detached.key == second.key  # the part of jane, whose person splits again
    chain.produce(profile_batch(chain, [second]))  # the second split arrives first
    chain.produce([detached])
    chain.drain()
    assert not chain.dead
    check_three_parts(chain)


def test_a_part_split_again_after_its_hand_over_arrived(codec: AvroCodec) -> None:
    """The same two splits in the order they were decided: the result is the same."""
    chain = Chain(codec)
    three_identifiers(chain)
    first, second = identity_batch(chain, [
        change("unlink", [("email", EMAIL), ("anonymous_id", ANON)], T0 + 6 * HOUR),
        change("unlink", [("email", EMAIL), ("device_id", DEVICE)], T0 + 7 * HOUR)])
    chain.produce(profile_batch(chain, [first]))
    chain.drain()  # the part of jane is installed
    chain.produce([second])
    chain.drain()
    assert not chain.dead
    check_three_parts(chain)
