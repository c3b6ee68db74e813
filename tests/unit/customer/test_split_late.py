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
PHONE = "+14155552671"


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


def observed(chain: Chain, records: Iterable[OutputRecord]) -> list[OutputRecord]:
    """The ``identity.observations`` the inputs stage makes of ``records`` (touchpoints)."""
    chain.produce(records)
    raws, chain.pending = chain.pending, []
    return chain.run_batch(chain.stages[topics.TOUCHPOINTS], raws).outcome.result.outputs


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


def late_event_of_a_merged_person(chain: Chain) -> tuple[OutputRecord, list[OutputRecord]]:
    """jane (tp0) and anon-1 (tp1, a 40 USD purchase) are two persons; tpl, an event of
    anon-1's, is held back while a touchpoint of both merges anon-1 into jane (the hand-over
    is folded in); the held event, then the rest."""
    chain.produce([touch("tp0", T0, "direct", email=EMAIL)])
    chain.drain()
    chain.produce([convert("cv0", T0 + 2 * HOUR, 40.0, anonymous_id=ANON)])
    raws, chain.pending = chain.pending, []
    (cv0,) = chain.run_batch(chain.stages[topics.CONVERSIONS], raws).outcome.result.outputs
    first = identity_batch(chain, [*observed(chain, [
        touch("tp1", T0 + HOUR, "paid_search", anonymous_id=ANON),
        touch("tpl", T0 + HOUR + 60_000, "social", anonymous_id=ANON)]), cv0])
    held = [o for o in first if o.value["event_id"] == "tpl"]
    chain.produce([o for o in first if o.value["event_id"] != "tpl"])
    chain.drain()
    joined = identity_batch(chain, observed(chain, [
        touch("tp2", T0 + 3 * HOUR, "email", email=EMAIL, anonymous_id=ANON)]))
    return held[0], joined


def test_an_event_forwarded_late_from_a_merged_person_lands_once_on_the_survivor(
        codec: AvroCodec) -> None:
    chain = Chain(codec)
    held, joined = late_event_of_a_merged_person(chain)
    chain.produce(joined)
    chain.drain()  # anon-1 retired, its profile folded into jane's
    merged_away = held.key
    chain.produce([held])
    chain.drain()
    assert not chain.dead
    (jane,) = chain.profiles().values()  # anon-1 is no live profile again (no ghost)
    assert merged_away != jane["person_id"]
    assert [t["touchpoint_id"] for t in jane["journey"]] == ["tp0", "tp1", "tpl", "tp2"]
    assert (jane["touchpoints"], jane["conversions"], jane["revenue"]) == (4, 1, {"USD": 40.0})
    chain.produce([held])  # delivered again: recognised
    chain.drain()
    (again,) = chain.profiles().values()
    assert again["touchpoints"] == 4
    credits = latest_credits(chain)
    assert credits["cv0", "linear", "tpl"] == pytest.approx(1 / 3)  # tp0, tp1, tpl before cv0


def test_an_event_forwarded_before_a_split_reaches_the_part_holding_its_identifier(
        codec: AvroCodec) -> None:
    """The held event reaches anon-1 (merged away) and is forwarded to jane; before the
    forwarded copy arrives, anon-1 is unlinked from jane again (anon-1's part takes its id
    back): the copy must land on anon-1's part, not on jane's."""
    chain = Chain(codec)
    held, joined = late_event_of_a_merged_person(chain)
    chain.produce(joined)
    chain.drain()
    (forwarded,) = profile_batch(chain, [held])
    split = identity_batch(chain, [change("unlink", [("email", EMAIL), ("anonymous_id", ANON)],
                                          T0 + 4 * HOUR)])
    chain.produce(split)
    chain.drain()
    chain.produce([forwarded])
    chain.drain()
    assert not chain.dead
    parts = by_ids(chain)
    assert set(parts) == {(f"anonymous_id:{ANON}",), (f"email:{EMAIL}",)}
    anon, jane = parts[f"anonymous_id:{ANON}",], parts[f"email:{EMAIL}",]
    assert [t["touchpoint_id"] for t in anon["journey"]] == ["tp1", "tpl"]
    assert [t["touchpoint_id"] for t in jane["journey"]] == ["tp0", "tp2"]
    assert (anon["touchpoints"], anon["conversions"]) == (2, 1)
    assert jane["touchpoints"] == 2
    credits = latest_credits(chain)
    assert credits["cv0", "linear", "tpl"] == pytest.approx(1 / 2)  # tp1, tpl
    assert credits.get(("cv0", "linear", "tp0"), 0.0) == 0.0


def test_a_hand_over_forwarded_by_a_merged_person_is_not_divided_by_an_older_split(
        codec: AvroCodec) -> None:
    """A phone's person is merged into anon-1, jane splits (jane | a device), then anon-1 is
    merged into jane; the phone person's hand-over reaches anon-1 after anon-1 was merged away
    and goes on to jane. jane's split came before anon-1 joined her: it must not divide the
    phone person's profile (no part of that split holds its identifiers)."""
    chain = Chain(codec)
    chain.produce([touch("tp0", T0, "direct", email=EMAIL),
                   touch("tpd", T0 + 1, "display", email=EMAIL, device_id=DEVICE),
                   touch("tpd2", T0 + 2, "display", device_id=DEVICE),
                   touch("tp1", T0 + HOUR, "paid_search", anonymous_id=ANON),
                   touch("tpx", T0 + 2 * HOUR, "social", phone=PHONE),
                   convert("cvx", T0 + 3 * HOUR, 25.0, phone=PHONE)])
    chain.drain()
    assert len(chain.profiles()) == 3
    j1, j2 = observed(chain, [
        touch("tpj1", T0 + 4 * HOUR, "email", anonymous_id=ANON, phone=PHONE),
        touch("tpj2", T0 + 6 * HOUR, "email", email=EMAIL, anonymous_id=ANON)])
    notices = identity_batch(chain, [  # merge (phone into anon-1), split of jane, merge
        j1, change("unlink", [("email", EMAIL), ("device_id", DEVICE)], T0 + 5 * HOUR), j2])
    chain.produce(notices)
    chain.drain()
    assert not chain.dead
    parts = by_ids(chain)
    whole = (f"anonymous_id:{ANON}", f"email:{EMAIL}", f"phone:{PHONE}")
    assert set(parts) == {whole, (f"device_id:{DEVICE}",)}
    jane = parts[whole]
    assert (jane["conversions"], jane["revenue"]) == (1, {"USD": 25.0})
    assert sorted(t["touchpoint_id"] for t in jane["journey"]) == [
        "tp0", "tp1", "tpd", "tpj1", "tpj2", "tpx"]
    assert [t["touchpoint_id"] for t in parts[f"device_id:{DEVICE}",]["journey"]] == ["tpd2"]


def test_a_part_merged_away_before_its_hand_over_arrives_goes_on_to_the_survivor(
        codec: AvroCodec) -> None:
    """anon-1 | jane is unlinked (jane's part goes out as ``detached``), then jane joins an
    older person (a phone's) and is merged into it before her part arrives: the part must
    reach the phone's person, and jane's id must not come back as a profile of its own."""
    chain = Chain(codec)
    chain.produce([touch("tps", T0, "direct", phone=PHONE),
                   touch("tp1", T0 + HOUR, "paid_search", anonymous_id=ANON),
                   touch("tp2", T0 + 2 * HOUR, "email", email=EMAIL, anonymous_id=ANON),
                   convert("cv1", T0 + 3 * HOUR, 60.0, email=EMAIL)])
    chain.drain()
    assert len(chain.profiles()) == 2
    (tpj,) = observed(chain, [touch("tpj", T0 + 5 * HOUR, "social", email=EMAIL,
                                    phone=PHONE)])
    notices = identity_batch(chain, [
        change("unlink", [("email", EMAIL), ("anonymous_id", ANON)], T0 + 4 * HOUR), tpj])
    chain.produce(notices)  # the split's part is sent after the merge notice is read
    chain.drain()
    assert not chain.dead
    parts = by_ids(chain)
    assert set(parts) == {(f"anonymous_id:{ANON}",), (f"email:{EMAIL}", f"phone:{PHONE}")}
    anon, both = parts[f"anonymous_id:{ANON}",], parts[f"email:{EMAIL}", f"phone:{PHONE}"]
    assert [t["touchpoint_id"] for t in anon["journey"]] == ["tp1"]
    assert [t["touchpoint_id"] for t in both["journey"]] == ["tps", "tp2", "tpj"]
    assert (both["conversions"], both["revenue"]) == (1, {"USD": 60.0})
    assert (anon["conversions"], anon["revenue"]) == (0, {})
    credits = latest_credits(chain)
    assert credits["cv1", "linear", "tp2"] == pytest.approx(1 / 2)  # tps, tp2
    assert credits.get(("cv1", "linear", "tp1"), 0.0) == 0.0


def test_an_event_forwarded_before_its_identifier_was_forgotten_lands_nowhere(
        codec: AvroCodec) -> None:
    """As above, but anon-1 is forgotten (an erasure) before the forwarded copy arrives: the
    event of anon-1 alone belongs to no one any more, and jane does not take it."""
    chain = Chain(codec)
    held, joined = late_event_of_a_merged_person(chain)
    chain.produce(joined)
    chain.drain()
    (forwarded,) = profile_batch(chain, [held])
    chain.produce(identity_batch(chain, [change("forget", [("anonymous_id", ANON)],
                                                T0 + 4 * HOUR)]))
    chain.drain()
    chain.produce([forwarded])
    chain.drain()
    assert not chain.dead
    (jane,) = chain.profiles().values()
    assert jane["identifiers"] == [f"email:{EMAIL}"]
    assert [t["touchpoint_id"] for t in jane["journey"]] == ["tp0", "tp2"]
    assert (jane["touchpoints"], jane["conversions"]) == (2, 0)
