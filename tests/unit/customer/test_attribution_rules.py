"""Rule-based models: each rule on hand-made journeys, sums, revenue, columns, batch = per conversion."""

from __future__ import annotations

import random

import numpy as np
import pytest

from streams.customer.attribution import (
    DAY_MS,
    Conversion,
    ConversionTable,
    Touchpoint,
    TouchTable,
    build_journeys,
)
from streams.customer.attribution_rules import (
    COLUMNS,
    RULE_MODELS,
    Credit,
    Model,
    attribute,
    channel_totals,
    credit_columns,
    journey_fractions,
    rule_credits,
    rule_fractions,
)

CONV = Conversion("c1", "p", 30 * DAY_MS, 200.0, "EUR")


def credits_of(channels: list[str], model: Model, ages_days: list[float] | None = None,
               **kw: float) -> list[float]:
    ages = ages_days or [float(len(channels) - i) for i in range(len(channels))]
    touches = [Touchpoint(f"t{i}", "p", CONV.occurred_at - int(a * DAY_MS), ch, None)
               for i, (ch, a) in enumerate(zip(channels, ages, strict=True))]
    rows = attribute(CONV, touches, [model], **kw)  # type: ignore[arg-type]
    return [c.credit for c in sorted(rows, key=lambda c: c.touchpoint_id)]


def test_first_last_and_linear() -> None:
    chans = ["paid_search", "email", "direct", "display"]
    assert credits_of(chans, "first_touch") == [1, 0, 0, 0]
    assert credits_of(chans, "last_touch") == [0, 0, 0, 1]
    assert credits_of(chans, "linear") == [0.25] * 4


def test_last_non_direct_skips_direct_unless_all_are_direct() -> None:
    assert credits_of(["email", "paid_search", "direct", "direct"], "last_non_direct") == [0, 1, 0, 0]
    assert credits_of(["direct", "direct"], "last_non_direct") == [0, 1]
    assert credits_of(["direct", "email"], "last_non_direct") == [0, 1]


def test_position_based_40_20_40_with_one_and_two_touches() -> None:
    assert credits_of(["a"], "position_based") == [1.0]
    assert credits_of(["a", "b"], "position_based") == [0.5, 0.5]
    assert credits_of(["a", "b", "c"], "position_based") == pytest.approx([0.4, 0.2, 0.4])
    assert credits_of(["a", "b", "c", "d", "e"], "position_based") == pytest.approx([0.4, 0.2 / 3, 0.2 / 3,
                                                                                      0.2 / 3, 0.4])


def test_time_decay_halves_the_weight_every_half_life() -> None:
    got = credits_of(["a", "b", "c"], "time_decay", ages_days=[14, 7, 0])
    assert got == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    got = credits_of(["a", "b"], "time_decay", ages_days=[3, 0], half_life_ms=3 * DAY_MS)
    assert got == pytest.approx([1 / 3, 2 / 3])
    # Touches years old still share the credit rather than vanishing to 0/0.
    assert sum(credits_of(["a", "b"], "time_decay", ages_days=[29.5, 29], half_life_ms=60_000)) == \
        pytest.approx(1.0)


def random_data(seed: int) -> tuple[list[Touchpoint], list[Conversion]]:
    rng = random.Random(seed)
    channels = ["paid_search", "email", "direct", "display", "organic_search"]
    touches = [Touchpoint(f"t{i}", f"p{rng.randrange(40)}", rng.randrange(0, 60) * DAY_MS // 2,
                          rng.choice(channels), rng.choice([None, "cmp1", "cmp2"])) for i in range(500)]
    conversions = [Conversion(f"c{i}", f"p{rng.randrange(45)}", rng.randrange(0, 60) * DAY_MS // 2,
                              round(rng.uniform(0, 100), 2), rng.choice(["EUR", "USD"])) for i in range(120)]
    return touches, conversions


def test_every_model_sums_to_one_per_conversion_and_revenue_is_value_times_credit() -> None:
    touches, conversions = random_data(1)
    t, c = TouchTable.from_touchpoints(touches), ConversionTable.from_conversions(conversions)
    table = rule_credits(t, c, build_journeys(t, c, 10 * DAY_MS))
    assert len(table) > 0 and set(table.model.tolist()) == set(RULE_MODELS)
    sums: dict[tuple[str, str], float] = {}
    for row in table.rows():
        sums[(row.conversion_id, row.model)] = sums.get((row.conversion_id, row.model), 0.0) + row.credit
        value = next(x.value for x in conversions if x.conversion_id == row.conversion_id)
        assert row.revenue_credit == pytest.approx(value * row.credit)
        assert row.credit >= 0
    assert np.allclose(list(sums.values()), 1.0)
    with_touches = {cid for cid, _ in sums}
    assert len(with_touches) * len(RULE_MODELS) == len(sums) and len(with_touches) < len(conversions)


def test_batch_credits_equal_per_conversion_credits() -> None:
    touches, conversions = random_data(2)
    t, c = TouchTable.from_touchpoints(touches), ConversionTable.from_conversions(conversions)
    batch = rule_credits(t, c, build_journeys(t, c)).rows()
    single: list[Credit] = []
    for conv in conversions:
        single += attribute(conv, touches)
    key = lambda x: (x.conversion_id, x.model, x.touchpoint_id)  # noqa: E731
    assert len(batch) == len(single) > 1000
    for a, b in zip(sorted(batch, key=key), sorted(single, key=key), strict=True):
        assert (a.channel, a.campaign_id, a.occurred_at, a.currency) == (
            b.channel, b.campaign_id, b.occurred_at, b.currency)
        assert a.credit == pytest.approx(b.credit) and a.revenue_credit == pytest.approx(b.revenue_credit)


def test_columns_for_clickhouse() -> None:
    touches = [Touchpoint("t1", "p", CONV.occurred_at - DAY_MS, "email", "cmp"),
               Touchpoint("t2", "p", CONV.occurred_at - 1, "direct", None)]
    rows = attribute(CONV, touches, ["last_non_direct", "linear"])
    cols = credit_columns(rows, "rules-1")
    assert tuple(cols) == COLUMNS
    assert cols["model_version"] == ["rules-1"] * 4
    assert cols["touchpoint_id"] == ["t1", "t2", "t1", "t2"]
    assert cols["campaign_id"] == ["cmp", None, "cmp", None]
    assert cols["credit"] == [1.0, 0.0, 0.5, 0.5] and cols["revenue_credit"] == [200.0, 0.0, 100.0, 100.0]
    assert cols["occurred_at"] == [CONV.occurred_at - DAY_MS, CONV.occurred_at - 1] * 2
    t, c = TouchTable.from_touchpoints(touches), ConversionTable.from_conversions([CONV])
    table = rule_credits(t, c, build_journeys(t, c), ["last_non_direct", "linear"])
    assert credit_columns(table, "rules-1") == cols
    assert channel_totals(table, "linear") == {"direct": (0.5, 100.0), "email": (0.5, 100.0)}


def test_the_one_journey_fractions_equal_the_array_fractions() -> None:
    rng = random.Random(5)
    names = ["direct", "email", "paid_search"]
    for _ in range(300):
        n = rng.randint(1, 12)
        channels = [rng.choice(names) for _ in range(n)]
        ages = sorted((rng.randrange(0, 40 * DAY_MS) for _ in range(n)), reverse=True)
        codes = np.array([names.index(c) for c in channels], dtype=np.int64)
        for model in RULE_MODELS:
            want = rule_fractions(model, np.array([0, n], dtype=np.int64), codes,
                                  np.array(ages, dtype=np.int64), direct=0)
            got = journey_fractions(model, channels, ages)
            assert got == pytest.approx(want.tolist(), rel=1e-12, abs=1e-15), model
