"""New customers' purchase folds of a whole batch (``rfm_columns.fold_new``) against the fold
per profile (``rfm.absorb_new_fields``): the same states and summaries on purchases of every
shape, None for a batch with a value that is not finite, and the scoring stage's outcome over
columns the same as message by message on such purchases."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from streams.contract.codec import AvroCodec
from streams.io.avro_fast import specialise
from streams.io.avro_profiles import ProfileReader
from streams.predictive import stage as pstage
from streams.predictive.contract import CUSTOMER_PROFILES
from streams.predictive.features_columns import (
    VOCABULARY,
    ProfileColumns,
    purchase_index,
    read_columns,
)
from streams.predictive.rfm import DAY_MS, absorb_new_fields
from streams.predictive.rfm_columns import _codes, compile_now, fold_new
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy
from streams.settings import Settings
from tests.unit.predictive.helpers import interaction, profile
from tests.unit.predictive.test_scoring_batch import Frames, encoded, run, same
from tests.unit.predictive.test_scoring_golden import GOLDEN, model_sets

T0 = 1_767_225_600_000
_VALUES = (None, 0.0, -0.0, -4.5, 1e300, 5e-324, 0.1, 0.2, 12.34, 99.99)
_CURRENCIES = (None, "", "USD", "EUR", "GBP", "¥en", "USD")


def buyers(n: int, seed: int) -> list[dict[str, Any]]:
    """Profiles whose purchases take every shape: no value, no or an empty currency, an id
    twice (with another value), baskets of one day in several currencies (ties between them
    included), negative, zero and tiny values, purchases after the profile's instant,
    conversions of other types, and none at all."""
    rng = random.Random(seed)
    out = []
    for p in range(n):
        recent = []
        at = T0 + rng.randrange(30) * DAY_MS
        ids: list[str] = []
        for i in range(rng.choice((0, 1, 2, 3, 6, 12, 25))):
            at += rng.choice((0, 1_000, DAY_MS // 3, DAY_MS, 9 * DAY_MS))
            if ids and rng.random() < 0.15:
                event = rng.choice(ids)
            else:
                event = f"cv_{p}_{i}" if rng.random() < 0.9 else f"é_{p}_{i}"
                ids.append(event)
            kind, type_ = rng.choice((("conversion", "purchase"), ("conversion", "purchase"),
                                      ("conversion", "purchase"), ("conversion", "lead"),
                                      ("touchpoint", "click")))
            recent.append(interaction(event, kind, at, type_, None, rng.choice(_VALUES),
                                      rng.choice(_CURRENCIES)))
        value = profile(f"p_{p}", version=1 + rng.randrange(9), recent=recent)
        cut = rng.random()
        if recent and cut < 0.2:  # the last purchases after the profile's instant
            value["updated_at"] = recent[len(recent) // 2]["occurred_at"]
        elif recent and cut < 0.3:  # all of them
            value["updated_at"] = recent[0]["occurred_at"] - DAY_MS
        out.append(value)
    return out


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return specialise(AvroCodec.from_settings(Settings()), CUSTOMER_PROFILES)


def columns_of(codec: AvroCodec, values: list[dict[str, Any]]) -> ProfileColumns:
    return ProfileReader(codec).read(encoded(codec, values),
                                     codec.decoder(CUSTOMER_PROFILES))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_states_and_summaries_as_the_fold_per_profile(codec: AvroCodec,
                                                               seed: int) -> None:
    values = buyers(300, seed)
    columns = columns_of(codec, values)
    folds = fold_new(columns, purchase_index(columns), "weeks")
    assert folds is not None
    made = 0
    for n, (_, _, bought) in enumerate(read_columns(columns)):
        assert folds.fields(n) == bought
        expected = absorb_new_fields(bought, values[n]["updated_at"], "weeks")
        # repr: the same key order, the sign of a zero and every float's last bit
        assert repr(folds.new(n)) == repr(expected)
        made += expected is not None
    assert made > 100
    assert len({f[1].currency for f in folds.made if f is not None and f[1]}) >= 4
    # every purchase, those after the profile's instant too (kept, not summarised)
    every = np.flatnonzero((columns.kind == VOCABULARY.index("conversion"))
                           & (columns.type == VOCABULARY.index("purchase")))
    folds = fold_new(columns, every, "weeks")
    assert folds is not None
    later = 0
    for n, value in enumerate(values):
        expected = absorb_new_fields(folds.fields(n), value["updated_at"], "weeks")
        assert repr(folds.new(n)) == repr(expected)
        later += expected is not None and expected[1] is None
    assert later > 3


def test_a_value_not_finite_leaves_the_batch_to_the_fold_per_profile(codec: AvroCodec) -> None:
    for bad in (math.inf, -math.inf, math.nan):
        values = buyers(20, 4)
        values[7]["recent"] = [interaction("x", "conversion", T0, "purchase", None, bad, "USD")]
        values[7]["updated_at"] = T0
        columns = columns_of(codec, values)
        assert fold_new(columns, purchase_index(columns), "weeks") is None
        # one without a currency does not count: its value is never read
        values[7]["recent"][0]["currency"] = None
        columns = columns_of(codec, values)
        assert fold_new(columns, purchase_index(columns), "weeks") is not None


def test_an_empty_batch_and_one_without_purchases(codec: AvroCodec) -> None:
    columns = columns_of(codec, [profile("p_1")])
    folds = fold_new(columns, purchase_index(columns), "weeks")
    assert folds is not None and folds.made == [None] and folds.fields(0) == []


@pytest.mark.parametrize("kind", ["rules", "models"])
def test_the_stage_over_columns_as_message_by_message(codec: AvroCodec, kind: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """New customers folded for the batch, known ones (a later version of the same person,
    in the same batch or a later one) by the exact fold, a value not finite dead-lettered:
    the same rows, records, states and dead letters as message by message."""
    models: Models = model_sets(GOLDEN)[kind]
    values = buyers(160, 5)
    again = [{**v, "version": int(v["version"]) + 1,
              "recent": v["recent"] + [interaction(f"n_{i}", "conversion",
                                                   int(v["updated_at"]), "purchase", None,
                                                   2.5, "USD")]}
             for i, v in enumerate(values[:60] + values[150:160])]
    bad = profile("p_bad", recent=[interaction("x", "conversion", T0, "purchase", None,
                                               math.inf, "USD")])
    # persons 150..159 twice in one batch, 0..59 again in later batches
    raws = encoded(codec, values + again[60:] + again[:30] + [bad] + again[30:60])
    batches = [raws[i:i + 70] for i in range(0, len(raws), 70)]
    calls: list[bool] = []

    def counted(*args: Any) -> Any:
        got = fold_new(*args)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(pstage, "fold_new", counted)
    frames = Frames(codec)
    by_message = run(codec, ScoringPolicy(lambda: models), batches)
    by_batch = run(codec, ScoringPolicy(lambda: models, read_batch=frames), batches)
    assert frames.read == len(batches)
    assert calls.count(False) >= 1 and calls.count(True) >= 2  # both ways taken
    for a, b in zip(by_message, by_batch, strict=True):
        same(a, b)
    dead = [d.raw.key_str for c in by_batch for d in c.dead]
    assert dead == ["p_bad"]
    states = [v for c in by_batch for _, v in
              c.outcome.changes[pstage.STATES].values()]
    assert sum(bool(s is not None and s["rfm"]["ids"]) for s in states) > 100


def test_the_kernels_compile_on_empty_input() -> None:
    """What the batch reader runs as it is made (``compile_now``): nothing read, nothing
    made."""
    compile_now()
    none = np.zeros(0, dtype=np.int64)
    code, distinct = _codes(np.zeros(0, dtype=np.uint8), none, none)
    assert len(code) == len(distinct) == 0
