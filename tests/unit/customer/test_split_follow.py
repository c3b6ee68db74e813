"""A split is followed by everything computed before it: the person's past event rows are
re-resolved to their parts (``split_events``), a merge's hand-over that arrives after a split
is divided as the split would have divided it, and the scheduled runs stop mapping a person a
split gave back to the one that had absorbed it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer import profile_stage, split_events
from streams.customer.attribution_rules import RULE_MODELS
from streams.customer.attribution_run import survivors
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

UNLINK = [("email", EMAIL), ("anonymous_id", ANON)]


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def latest_events(chain: Chain) -> dict[str, dict[str, Any]]:
    """``customer_events`` as ReplacingMergeTree(_version) on (kind, event_id) leaves it."""
    out: dict[str, dict[str, Any]] = {}
    for row in chain.column_rows("customer_events"):
        held = out.get(row["event_id"])
        if held is None or row["_version"] >= held["_version"]:
            out[row["event_id"]] = row
    return out


def with_history(codec: AvroCodec) -> Chain:
    """A chain whose profile stage reads the event rows the chain has written so far, as the
    worker reads them from ClickHouse."""
    box: list[Chain] = []

    def history(nodes: Sequence[str]) -> list[dict[str, Any]]:
        wanted = set(nodes)
        return [dict(r) for r in latest_events(box[0]).values()
                if wanted.intersection(r["identifiers"])]

    chain = Chain(codec, profiles=profile_stage.ProfileStagePolicy(history=history))
    box.append(chain)
    return chain


def persons(chain: Chain) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(p["identifiers"]): p for p in chain.profiles().values()}


def test_a_split_moves_the_past_event_rows_of_each_part_to_its_person(codec: AvroCodec) -> None:
    chain = with_history(codec)
    chain.produce([touch("tp1", T0, "paid_search", anonymous_id=ANON),
                   touch("tp2", T0 + HOUR, "email", email=EMAIL, anonymous_id=ANON),
                   convert("cv1", T0 + 2 * HOUR, 100.0, email=EMAIL),
                   convert("cv2", T0 + 3 * HOUR, 50.0, anonymous_id=ANON)])
    chain.drain()
    (held,) = {r["person_id"] for r in latest_events(chain).values()}
    chain.produce([change("unlink", UNLINK, T0 + 4 * HOUR, reason="shared laptop")])
    chain.drain()
    assert not chain.dead
    parts = persons(chain)
    anon, jane = parts[f"anonymous_id:{ANON}",], parts[f"email:{EMAIL}",]
    assert anon["person_id"] == held  # the part with the oldest identifier keeps the id
    events = latest_events(chain)
    # each row with the part of its strongest remaining identifier: what the profiles hold
    assert {e: r["person_id"] for e, r in events.items()} == {
        "tp1": held, "tp2": jane["person_id"], "cv1": jane["person_id"], "cv2": held}
    moved = [r for r in chain.column_rows("customer_events") if r["event_id"] == "tp2"]
    assert len(moved) == 2 and moved[1]["_version"] > moved[0]["_version"]
    assert moved[1]["_offset"] == moved[0]["_offset"]  # the identity stage's position stays
    # a redelivered split notice writes nothing again
    rows = len(chain.column_rows("customer_events"))
    chain.produce([change("unlink", UNLINK, T0 + 5 * HOUR)])
    chain.drain()
    assert len(chain.column_rows("customer_events")) == rows


def test_a_forgotten_identifiers_own_events_leave_the_person(codec: AvroCodec) -> None:
    chain = with_history(codec)
    chain.produce([touch("tp1", T0, "paid_search", anonymous_id=ANON),
                   touch("tp2", T0 + HOUR, "email", email=EMAIL, anonymous_id=ANON),
                   convert("cv1", T0 + 2 * HOUR, 100.0, email=EMAIL)])
    chain.drain()
    (held,) = {r["person_id"] for r in latest_events(chain).values()}
    chain.produce([change("forget", [("email", EMAIL)], T0 + 4 * HOUR, reason="erasure")])
    chain.drain()
    events = latest_events(chain)
    assert {e: r["person_id"] for e, r in events.items()} == {"tp1": held, "tp2": held,
                                                              "cv1": ""}


def test_rows_already_with_their_part_are_not_written_again() -> None:
    row = {name: None for name in split_events.COLUMNS}
    rows = [{**row, "event_id": "a", "person_id": "p1", "identifiers": ["email:x"],
             "_version": 3},
            {**row, "event_id": "b", "person_id": "p1", "identifiers": ["anonymous_id:n",
                                                                     "email:y"], "_version": 4},
            {**row, "event_id": "c", "person_id": "p1", "identifiers": ["email:y"],
             "_version": 9}]
    out = split_events.reresolved(rows, {"p1": ["email:x"], "p2": ["email:y",
                                                                   "anonymous_id:n"]}, 7)
    # a: stays; b: email is stronger than anonymous_id; c: newer than the split
    assert (out["event_id"], out["person_id"], out["_version"]) == (["b"], ["p2"], [7])


def test_a_hand_over_arriving_after_a_split_is_divided_by_the_split(codec: AvroCodec) -> None:
    """jane (email) and anon-1 are two persons; one touchpoint joins them (anon-1 absorbed
    into jane) and an unlink of that very edge follows at once, before the profile stage has
    folded anon-1's handed-over profile into jane's."""
    chain = Chain(codec)
    chain.produce([touch("tp0", T0, "direct", email=EMAIL),
                   touch("tp1", T0 + HOUR, "paid_search", anonymous_id=ANON),
                   convert("cv0", T0 + 2 * HOUR, 40.0, anonymous_id=ANON)])
    chain.drain()
    assert len(chain.profiles()) == 2
    chain.produce([touch("tp2", T0 + 3 * HOUR, "email", email=EMAIL, anonymous_id=ANON)])
    raws, chain.pending = chain.pending, []
    computed = chain.run_batch(chain.stages[topics.TOUCHPOINTS], raws)
    chain.produce([*computed.outcome.result.outputs,
                   change("unlink", UNLINK, T0 + 4 * HOUR)])  # one identity batch
    chain.drain()
    assert not chain.dead
    parts = persons(chain)
    assert set(parts) == {(f"anonymous_id:{ANON}",), (f"email:{EMAIL}",)}
    anon, jane = parts[f"anonymous_id:{ANON}",], parts[f"email:{EMAIL}",]
    assert [t["touchpoint_id"] for t in anon["journey"]] == ["tp1"]
    assert [t["touchpoint_id"] for t in jane["journey"]] == ["tp0", "tp2"]
    assert (anon["conversions"], anon["revenue"]) == (1, {"USD": 40.0})
    assert (jane["touchpoints"], jane["conversions"]) == (2, 0)
    credits = latest_credits(chain)
    for model in RULE_MODELS:  # cv0's journey is anon-1's own again
        assert credits["cv0", model, "tp1"] == pytest.approx(1.0)
        assert credits.get(("cv0", model, "tp0"), 0.0) == 0.0


def test_a_split_gives_back_a_person_the_runs_no_longer_map_away() -> None:
    assert survivors([("b", "a", "merge"), ("c", "b", "merge")]) == {"b": "a", "c": "a"}
    # b was absorbed by a, then a split gave b its own part again: only c still maps
    assert survivors([("b", "a", "merge"), ("c", "a", "merge"), ("", "b", "split")]) == {
        "c": "a"}
    # merged away again after the split: mapped again
    assert survivors([("b", "a", "merge"), ("", "b", "split"), ("b", "a", "merge")]) == {
        "b": "a"}
