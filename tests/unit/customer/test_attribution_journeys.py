"""Journeys: window, order, duplicates, and the batch path agreeing with the one-conversion path."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np

from streams.customer.attribution import (
    DAY_MS,
    Conversion,
    ConversionTable,
    Touchpoint,
    TouchTable,
    build_journeys,
    conversion_from_record,
    journey,
    non_converting,
    person_key,
    touchpoint_from_record,
)
from streams.customer.attribution_paths import channel_paths


def tp(tid: str, person: str, at: int, channel: str = "email") -> Touchpoint:
    return Touchpoint(tid, person, at, channel, f"c-{channel}")


def batch_ids(touches: list[Touchpoint], conversions: list[Conversion], lookback: int) -> list[list[str]]:
    table = TouchTable.from_touchpoints(touches)
    j = build_journeys(table, ConversionTable.from_conversions(conversions), lookback)
    return [[str(table.touchpoint_id[r]) for r in j.touch[a:b]]
            for a, b in zip(j.offsets[:-1].tolist(), j.offsets[1:].tolist(), strict=True)]


def test_window_is_closed_at_both_ends_and_other_persons_are_ignored() -> None:
    conv = Conversion("c1", "p", 100 * DAY_MS, 10.0, "EUR")
    touches = [tp("too-old", "p", 70 * DAY_MS - 1), tp("oldest", "p", 70 * DAY_MS),
               tp("at", "p", 100 * DAY_MS), tp("after", "p", 100 * DAY_MS + 1), tp("other", "q", 90 * DAY_MS),
               tp("mid", "p", 80 * DAY_MS)]
    assert [t.touchpoint_id for t in journey(conv, touches)] == ["oldest", "mid", "at"]
    assert batch_ids(touches, [conv], 30 * DAY_MS) == [["oldest", "mid", "at"]]
    assert batch_ids(touches, [conv], 10 * DAY_MS) == [["at"]]


def test_ties_are_broken_by_id_whatever_the_arrival_order_and_redeliveries_count_once() -> None:
    conv = Conversion("c1", "p", 50, 1.0, "EUR")
    touches = [tp("b", "p", 10), tp("a", "p", 10), tp("c", "p", 5), tp("b", "p", 10), tp("a", "p", 10)]
    for _ in range(5):
        random.Random(_).shuffle(touches)
        assert [t.touchpoint_id for t in journey(conv, touches)] == ["c", "a", "b"]
        assert batch_ids(touches, [conv], 100) == [["c", "a", "b"]]


def test_batch_journeys_equal_one_conversion_journeys_on_random_data() -> None:
    rng = random.Random(3)
    touches = [tp(f"t{i}", f"p{rng.randrange(30)}", rng.randrange(0, 200) * 1000, rng.choice("abc"))
               for i in range(600)]
    touches += touches[:50]  # redelivered
    conversions = [Conversion(f"c{i}", f"p{rng.randrange(35)}", rng.randrange(0, 200) * 1000, 1.0, "EUR")
                   for i in range(80)]
    expected = [[t.touchpoint_id for t in journey(c, touches, 40_000)] for c in conversions]
    assert batch_ids(touches, conversions, 40_000) == expected
    assert sum(map(len, expected)) > 200 and any(not e for e in expected)  # the data exercises both cases


def test_non_converting_paths_are_the_touches_after_the_last_conversion() -> None:
    touches = [tp("p1", "p", 1, "a"), tp("p2", "p", 5, "b"), tp("p3", "p", 9, "c"), tp("p4", "p", 12, "d"),
               tp("q1", "q", 3, "a"), tp("q2", "q", 4, "b"), tp("r1", "r", 1, "c")]
    conversions = [Conversion("c1", "p", 6, 2.0, "EUR"), Conversion("c2", "p", 10, 3.0, "EUR"),
                   Conversion("c3", "r", 0, 5.0, "EUR")]
    table, convs = TouchTable.from_touchpoints(touches), ConversionTable.from_conversions(conversions)
    j = build_journeys(table, convs, lookback_ms=6)
    offsets, rows = non_converting(j, table, convs)
    paths = [[str(table.touchpoint_id[r]) for r in rows[a:b]] for a, b in pairwise(offsets.tolist())]
    assert paths == [["p4"], ["q1", "q2"], ["r1"]]
    cp = channel_paths(table, convs, j)
    # c1 sees p1, p2 (p1 at 1 is 5 ms old); c2 sees p2, p3; c3 sees nothing.
    assert cp.paths.sequences() == [("a", "b"), ("b", "c"), ("d",), ("a", "b"), ("c",)]
    assert cp.paths.conversions.tolist() == [1, 1, 0, 0, 0] and cp.paths.nulls.tolist() == [0, 0, 1, 1, 1]
    assert cp.paths.values.tolist() == [2.0, 3.0, 0, 0, 0]
    assert (cp.unattributed, cp.unattributed_value) == (1, 5.0)


def test_records_are_read_as_the_schemas_define_them() -> None:
    record = {"touchpoint_id": "t1", "occurred_at": 5, "type": "ad_click", "channel": "paid_search",
              "campaign_id": "cmp", "identifiers": {"customer_id": None, "email": "a@x.io", "phone": "+1"}}
    t = touchpoint_from_record(record)
    assert (t.person_id, t.channel, t.campaign_id, t.type) == ("a@x.io", "paid_search", "cmp", "ad_click")
    assert touchpoint_from_record(record, person_id="cust-9").person_id == "cust-9"
    c = conversion_from_record({"conversion_id": "c", "occurred_at": 9, "type": "purchase", "value": 12.5,
                                "currency": "EUR", "identifiers": {"device_id": "d1"}})
    assert (c.person_id, c.value, c.currency) == ("d1", 12.5, "EUR")
    assert person_key({}) is None
    assert np.array_equal(TouchTable.from_touchpoints([t]).occurred_at, [5])


def test_a_time_span_too_long_to_multiply_falls_back_to_ranks() -> None:
    far = 2**61  # persons * span would overflow int64
    touches = [tp("a", "p", -far), tp("b", "p", 5), tp("c", "q", far - 10), tp("d", "q", far),
               tp("e", "p", 7)]
    conversions = [Conversion("c1", "p", 6, 1.0, "EUR"), Conversion("c2", "q", far, 1.0, "EUR"),
                   Conversion("c3", "p", far, 1.0, "EUR")]
    expected = [[t.touchpoint_id for t in journey(c, touches, 2**62)] for c in conversions]
    assert expected == [["a", "b"], ["c", "d"], ["a", "b", "e"]]
    assert batch_ids(touches, conversions, 2**62) == expected


def test_value_credits_stay_in_one_currency() -> None:
    touches = [tp("a", "p", 1, "email"), tp("b", "q", 1, "display"), tp("c", "r", 1, "email")]
    conversions = [Conversion("c1", "p", 2, 10.0, "EUR"), Conversion("c2", "q", 2, 7.0, "USD")]
    table, convs = TouchTable.from_touchpoints(touches), ConversionTable.from_conversions(conversions)
    cp = channel_paths(table, convs, build_journeys(table, convs))
    assert cp.currency.tolist() == ["EUR", "USD", None]
    eur = cp.in_currency("EUR")
    assert eur.values.tolist() == [10.0, 0.0, 0.0] and eur.conversions.tolist() == [1, 1, 0]
