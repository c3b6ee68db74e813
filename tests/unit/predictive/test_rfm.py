"""The RFM fold: BG/NBD conventions, redelivery, order, currencies, and CDNOW end to end."""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest

from streams.predictive import clv_cdnow, rfm
from streams.predictive.rfm import Conversion, RfmSummary

DAY = rfm.DAY_MS


def purchase(cid: str, day: float, value: float, currency: str = "USD", kind: str = "purchase",
             customer: str | None = "c1") -> Conversion:
    return {"conversion_id": cid, "occurred_at": int(day * DAY), "type": kind, "value": value,
            "currency": currency, "identifiers": {"customer_id": customer, "email": "a@example.com"}}


def fold(conversions: list[Conversion]) -> rfm.RfmState:
    state = rfm.empty_state()
    for conversion in conversions:
        state = rfm.absorb(state, conversion)
    return state


HISTORY = [purchase("a", 10, 20.0), purchase("b", 17.5, 10.0), purchase("c", 17.2, 5.0),
           purchase("d", 31, 30.0), purchase("e", 40, 99.0)]


def test_summary_follows_the_bgnbd_conventions() -> None:
    summary = rfm.summarise(fold(HISTORY[:4]), as_of_ms=45 * DAY)
    # Occasions on days 10, 17 (two orders: one occasion of 15.0) and 31.
    assert summary == RfmSummary(frequency=2, recency=21.0, T=35.0, monetary_value=22.5,
                                 currency="USD", unit="days")


def test_weeks_divide_the_times_by_seven() -> None:
    summary = rfm.summarise(fold(HISTORY[:4]), as_of_ms=45 * DAY, unit="weeks")
    assert summary is not None
    assert [summary.recency, summary.T] == pytest.approx([3.0, 5.0])


def test_a_single_purchase_has_no_repeat() -> None:
    summary = rfm.summarise(fold(HISTORY[:1]), as_of_ms=12 * DAY)
    assert summary == RfmSummary(0, 0.0, 2.0, 0.0, "USD", "days")


def test_as_of_counts_only_purchases_up_to_its_day() -> None:
    state = fold(HISTORY)
    assert rfm.summarise(state, as_of_ms=9 * DAY) is None
    assert rfm.summarise(state, as_of_ms=31 * DAY + DAY - 1) == RfmSummary(2, 21.0, 21.0, 22.5, "USD", "days")
    summary = rfm.summarise(state, as_of_ms=40 * DAY)
    assert summary is not None and summary.frequency == 3


def test_redelivery_changes_nothing() -> None:
    state = fold(HISTORY)
    for conversion in HISTORY:
        assert rfm.absorb(state, conversion) is state
    assert rfm.absorb_many(state, HISTORY) is state
    assert fold(HISTORY + HISTORY) == state


def test_order_of_arrival_does_not_matter() -> None:
    expected = fold(HISTORY)
    shuffled = list(HISTORY)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert fold(shuffled) == expected


def test_a_late_earlier_purchase_becomes_the_first_occasion() -> None:
    state = fold(HISTORY[:4])
    late = rfm.absorb(state, purchase("z", 3, 1.0))
    summary = rfm.summarise(late, as_of_ms=45 * DAY)
    assert summary == RfmSummary(3, 28.0, 42.0, (20.0 + 15.0 + 30.0) / 3, "USD", "days")


def test_absorb_is_pure() -> None:
    state = fold(HISTORY[:2])
    before = copy.deepcopy(state)
    after = rfm.absorb(state, HISTORY[3])
    assert state == before and after != before


def test_batch_equals_one_at_a_time() -> None:
    assert rfm.absorb_many(rfm.empty_state(), HISTORY) == fold(HISTORY)
    assert rfm.absorb_many(rfm.empty_state(), HISTORY + HISTORY[::-1]) == fold(HISTORY)


def test_other_conversion_types_are_ignored() -> None:
    state = fold(HISTORY[:2])
    assert rfm.absorb(state, purchase("s", 20, 0.0, kind="signup")) is state
    custom = rfm.absorb(state, purchase("s", 20, 9.0, kind="subscription"),
                        purchase_types=frozenset({"purchase", "subscription"}))
    assert custom is not state


def test_non_finite_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        rfm.absorb(rfm.empty_state(), purchase("n", 1, float("nan")))


def test_state_survives_a_json_round_trip() -> None:
    state = fold(HISTORY)
    restored = json.loads(json.dumps(state))
    assert restored == state
    assert rfm.absorb(restored, HISTORY[0]) is restored
    assert rfm.summarise(restored, 50 * DAY) == rfm.summarise(state, 50 * DAY)


def test_money_is_measured_in_one_currency() -> None:
    state = fold([purchase("a", 1, 10.0, "EUR"), purchase("b", 2, 20.0, "EUR"),
                  purchase("c", 3, 500.0, "JPY"), purchase("d", 4, 40.0, "EUR")])
    main = rfm.summarise(state, 10 * DAY)
    assert main is not None and main.currency == "EUR"
    assert (main.frequency, main.monetary_value) == (3, 30.0)
    yen = rfm.summarise(state, 10 * DAY, currency="JPY")
    assert yen is not None and yen.monetary_value == 500.0


def test_fold_by_person_keys_by_the_first_identifier() -> None:
    anonymous: Conversion = {"conversion_id": "x", "occurred_at": 0, "type": "purchase", "value": 1.0,
                             "currency": "USD", "identifiers": {"email": "", "device_id": "dev-9"}}
    nobody: Conversion = {"conversion_id": "y", "occurred_at": 0, "type": "purchase", "value": 1.0,
                          "currency": "USD"}
    conversions = [*HISTORY[:2], purchase("q", 5, 3.0, customer="c2"), anonymous, nobody]
    changed = rfm.fold_by_person({}, conversions)
    assert sorted(changed) == ["c1", "c2", "dev-9"]
    assert rfm.fold_by_person(changed, conversions) == {}


def test_cdnow_transactions_fold_into_the_published_summary() -> None:
    """The 6,919 CDNOW purchases give the 2,357 published (x, t_x, T, mean spend) rows."""
    states = rfm.fold_by_person({}, clv_cdnow.sample_conversions())
    as_of = clv_cdnow.day_ms(clv_cdnow.CALIBRATION_END)
    ordered = sorted(states, key=int)
    summaries = [rfm.summarise(states[c], as_of, unit="weeks") for c in ordered]
    assert all(s is not None for s in summaries)
    x, t_x, T, m = rfm.summary_arrays(s for s in summaries if s is not None)
    published = clv_cdnow.summary()
    assert len(ordered) == 2357
    np.testing.assert_array_equal(x, published[0])
    for ours, theirs in zip((t_x, T, m), published[1:], strict=True):
        np.testing.assert_allclose(ours, theirs, atol=0.0051)  # published to two decimals


def _as_conversions(items: list[dict[str, object]], state: rfm.RfmState) -> list[Conversion]:
    """What the scoring stage made of a profile's purchase interactions before
    ``absorb_interactions`` (one ``Conversion`` each, those absorbed left out)."""
    return [{"conversion_id": str(i["event_id"]), "occurred_at": int(str(i["occurred_at"])),
             "type": "purchase", "value": float(str(i["value"])), "currency": str(i["currency"])}
            for i in items if i.get("value") is not None and i.get("currency")
            and not rfm.absorbed(state, str(i["event_id"]))]


def test_absorb_interactions_is_absorb_many_of_the_purchases() -> None:
    rng = random.Random(5)
    for _ in range(300):
        state = rfm.empty_state()
        for _ in range(rng.randint(1, 3)):  # a person's successive profiles
            items: list[dict[str, object]] = [
                {"event_id": f"e{rng.randrange(12)}", "occurred_at": rng.randrange(40) * DAY // 3,
                 "value": rng.choice((None, 0.0, round(rng.uniform(1, 90), 2))),
                 "currency": rng.choice((None, "", "USD", "EUR"))}
                for _ in range(rng.randint(0, 8))]
            expected = rfm.absorb_many(state, _as_conversions(items, state))
            got = rfm.absorb_interactions(state, items)
            assert got == expected
            assert (got is state) == (expected is state)  # unchanged: the same object
            state = got
    assert state["ids"]  # the cases did absorb purchases


def test_absorb_interactions_refuses_a_non_finite_value_not_absorbed_yet() -> None:
    state = rfm.absorb_interactions(rfm.empty_state(), [
        {"event_id": "a", "occurred_at": DAY, "value": 5.0, "currency": "USD"}])
    assert rfm.absorb_interactions(state, [  # absorbed already: not read again
        {"event_id": "a", "occurred_at": DAY, "value": float("nan"), "currency": "USD"}]) is state
    with pytest.raises(ValueError, match="non-finite"):
        rfm.absorb_interactions(state, [
            {"event_id": "b", "occurred_at": DAY, "value": float("inf"), "currency": "USD"}])


def test_absorb_interactions_leaves_a_new_persons_state_alone() -> None:
    empty = rfm.empty_state()
    items: list[dict[str, object]] = [
        {"event_id": "b", "occurred_at": 2 * DAY, "value": 5.0, "currency": "USD"},
        {"event_id": "a", "occurred_at": DAY, "value": 7.0, "currency": "USD"},
        {"event_id": "b", "occurred_at": 2 * DAY, "value": 5.0, "currency": "USD"}]  # twice
    got = rfm.absorb_interactions(empty, items)
    assert empty == rfm.empty_state()  # the state given is not changed (pure)
    assert got["ids"] == ["a", "b"] and got["occasions"] == {"1": {"USD": 7.0},
                                                             "2": {"USD": 5.0}}
