"""A merge attributes again only the conversions whose journeys it changed."""

from __future__ import annotations

from collections import Counter

import pytest

from streams.contract.codec import AvroCodec
from streams.customer.attribution import DAY_MS
from streams.customer.attribution_rules import RULE_MODELS
from streams.customer.profile_stage import rejoined
from streams.settings import Settings
from tests.unit.customer.stage_chain import Chain
from tests.unit.customer.test_identity_changes import ANON, EMAIL, T0, convert, touch


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def test_a_merge_leaves_the_credits_of_untouched_journeys_as_they_are(codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce([touch("tp0", T0, "direct", email=EMAIL),
                   convert("cv0", T0 + 10 * DAY_MS, 40.0, email=EMAIL),
                   touch("tp1", T0 + 12 * DAY_MS, "paid_search", anonymous_id=ANON),
                   convert("cv1", T0 + 12 * DAY_MS + 1, 10.0, anonymous_id=ANON)])
    chain.drain()
    chain.produce([touch("tp2", T0 + 13 * DAY_MS, "email", email=EMAIL, anonymous_id=ANON)])
    chain.drain()
    (profile,) = chain.profiles().values()
    assert profile["conversions"] == 2
    rows = Counter(r["conversion_id"] for r in chain.column_rows("attribution_credits"))
    # cv0's journey (tp0) is the same after the merge: its one credit per model stands;
    # cv1 came with the absorbed person: attributed again over the joined journey
    assert rows["cv0"] == len(RULE_MODELS)
    assert rows["cv1"] == len(RULE_MODELS) + 2 * len(RULE_MODELS)
    persons = {r["person_id"] for r in chain.column_rows("attribution_credits")[-12:]}
    assert persons == {profile["person_id"]}


def test_rejoined_picks_the_absorbed_and_the_overlapped_conversions() -> None:
    converted = [{"event_id": "a", "occurred_at": 100}, {"event_id": "b", "occurred_at": 200},
                 {"event_id": "c", "occurred_at": 300}]
    other = {"converted": [{"event_id": "c", "occurred_at": 300}],
             "journey": [{"occurred_at": 150}]}
    assert [c["event_id"] for c in rejoined(converted, other, 60)] == ["b", "c"]
    assert [c["event_id"] for c in rejoined(converted, other, 10)] == ["c"]
    assert [c["event_id"] for c in rejoined(converted, other, 1000)] == ["b", "c"]
