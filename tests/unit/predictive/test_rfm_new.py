"""``rfm.absorb_new``: the fold of a person who bought nothing before, in one pass, against the
exact fold (``absorb_interactions`` then ``summarise``) it stands in for."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.predictive.rfm import (
    DAY_MS,
    absorb_interactions,
    absorb_new,
    absorb_new_fields,
    empty_state,
    summarise,
)
from streams.settings import Settings

T0 = 1_767_225_600_000


def _items(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for _ in range(rng.randint(0, 12)):
        out.append({"event_id": f"cv_{rng.randrange(8)}",  # ids repeat: bought twice
                    "occurred_at": T0 + rng.randrange(-5, 60) * DAY_MS // 3,
                    "value": rng.choice([None, 0.0, 9.99, round(rng.uniform(1, 400), 2), 12]),
                    "currency": rng.choice(["USD", "USD", "USD", "EUR", "", None])})
    return out


@pytest.mark.parametrize("seed", range(400))
def test_the_same_state_and_summary_as_the_exact_fold(seed: int) -> None:
    rng = random.Random(seed)
    items = _items(rng)
    as_of = T0 + rng.randrange(0, 20) * DAY_MS // 2
    empty = empty_state()
    exact = absorb_interactions(empty, items)
    got = absorb_new(items, as_of, rng.choice(["days", "weeks"]))
    if exact is empty:  # nothing counted
        assert got is None
        return
    assert got is not None
    state, summary = got
    assert state == exact and list(state["occasions"]) == list(exact["occasions"])
    assert summary == summarise(exact, as_of, summary.unit if summary else "days") \
        if summary is not None else summarise(exact, as_of, "days") is None
    for unit in ("days", "weeks"):
        again = absorb_new(items, as_of, unit)
        assert again is not None and again[1] == summarise(exact, as_of, unit)


def test_purchases_after_the_instant_are_kept_but_not_summarised() -> None:
    items = [{"event_id": "a", "occurred_at": T0 + 5 * DAY_MS, "value": 3.0, "currency": "USD"}]
    got = absorb_new(items, T0, "days")
    assert got is not None and got[1] is None and got[0]["ids"] == ["a"]


def test_a_non_finite_value_raises_even_when_its_id_came_before() -> None:
    items = [{"event_id": "a", "occurred_at": T0, "value": 3.0, "currency": "USD"},
             {"event_id": "a", "occurred_at": T0, "value": math.inf, "currency": "USD"}]
    with pytest.raises(ValueError, match="non-finite"):
        absorb_interactions(empty_state(), items)
    with pytest.raises(ValueError, match="non-finite"):
        absorb_new(items, T0, "weeks")


def test_the_stage_folds_a_known_person_without_purchases_in_one_pass_and_one_with_them_exactly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.predictive import stage as pstage
    from tests.unit.kernel.test_stage import Memory
    from tests.unit.predictive.test_stage import by_kind, engaged, raws_for, run

    avro = AvroCodec.from_settings(Settings())
    calls: list[str] = []

    def new(*args: Any) -> Any:
        calls.append("new")
        return absorb_new_fields(*args)

    def exact(*args: Any) -> Any:
        calls.append("exact")
        return absorb_interactions(*args)

    monkeypatch.setattr(pstage, "absorb_new_fields", new)
    monkeypatch.setattr(pstage, "absorb_interactions", exact)
    memory = Memory()
    run(avro, raws_for(avro, [engaged(purchases=0)]), memory)  # known now, nothing bought
    assert calls == []
    run(avro, raws_for(avro, [engaged(version=2, purchases=2)], first=1), memory)
    assert calls == ["new"]  # a state without purchases: the one-pass fold
    clv = by_kind(run(avro, raws_for(avro, [engaged(version=3, purchases=3)], first=2),
                      memory))["clv"]
    assert calls == ["new", "exact"]  # purchases in the state: the exact fold
    assert clv["details"]["frequency"] == "2"
    state = memory.tables[pstage.STATES]["p_1"]["rfm"]
    assert state["ids"] == ["cv_0", "cv_1", "cv_2"]
