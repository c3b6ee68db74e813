"""The lead features as a matrix from the columns (``features_columns.read_columns``): each
profile's row read as ``read_profile``'s dict (the same keys in the same order, the same
floats bit for bit, chat details included), ``feature_values`` the same list as the dict's,
and ``feature_matrix`` the same model input as ``Scorer.matrix`` over the dicts; rows of
another kind, or of two batches, go key by key."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from streams.contract.codec import AvroCodec
from streams.io.avro_fast import specialise
from streams.io.avro_profiles import ProfileReader, available
from streams.kernel.records import Raw
from streams.predictive import contract as names
from streams.predictive.features import FEATURES, read_profile
from streams.predictive.features_columns import (
    FeatureRow,
    feature_matrix,
    feature_values,
    read_columns,
)
from streams.predictive.model import Scorer
from streams.settings import Settings
from tests.unit.predictive.test_profile_decoding import varied
from tests.unit.predictive.test_scoring_golden import GOLDEN


def _bits(values: Sequence[float]) -> bytes:
    return struct.pack(f"{len(values)}d", *values)


def _batch(values: Sequence[dict[str, Any]]) -> list[FeatureRow]:
    codec = specialise(AvroCodec.from_settings(Settings()), names.CUSTOMER_PROFILES)
    assert available(codec)
    raws = [Raw(names.CUSTOMER_PROFILES, 0, i, int(v["updated_at"]),
                str(v["person_id"]).encode(), codec.encode(names.CUSTOMER_PROFILES, v))
            for i, v in enumerate(values)]
    columns = ProfileReader(codec).read(raws, codec.decoder(names.CUSTOMER_PROFILES))
    return [features for features, _, _ in read_columns(columns)]


@pytest.fixture(scope="module")
def profiles() -> list[dict[str, Any]]:
    return varied(120, seed=23)


@pytest.fixture(scope="module")
def rows(profiles: list[dict[str, Any]]) -> list[FeatureRow]:
    return _batch(profiles)


def _dicts(profiles: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    return [read_profile(p, int(p["updated_at"]), [])[0] for p in profiles]


def test_each_row_reads_as_the_dict(profiles: list[dict[str, Any]],
                                    rows: list[FeatureRow]) -> None:
    detailed = 0
    for row, expected in zip(rows, _dicts(profiles), strict=True):
        assert isinstance(row, FeatureRow) and list(row) == list(expected) == list(FEATURES)
        got = [row[name] for name in row]
        assert all(type(v) is float for v in got)
        assert _bits(got) == _bits(list(expected.values()))
        assert _bits(feature_values(row)) == _bits(list(expected.values()))
        assert row.get("no_such_feature", -1.0) == -1.0
        detailed += not math.isnan(row["chat_escalations_90d"])
    assert detailed  # some profiles carried chat figures, written back into their rows


def test_dict_values_unchanged_by_feature_values() -> None:
    features = {"b": 2.0, "a": 1.0}
    assert feature_values(features) == [2.0, 1.0]


def test_the_model_input_as_from_the_dicts(profiles: list[dict[str, Any]],
                                           rows: list[FeatureRow]) -> None:
    scorer = Scorer.load(GOLDEN / "lead", contributions="path")
    expected = scorer.matrix(_dicts(profiles))
    got = feature_matrix(rows, scorer.feature_names)
    assert got is not None and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()
    some = rows[5:40:3]
    names_ = tuple(reversed(FEATURES[:9]))
    part = feature_matrix(some, names_)
    assert part is not None
    assert part.tobytes() == np.array([[r[n] for n in names_] for r in some]).tobytes()


def test_other_rows_go_key_by_key(profiles: list[dict[str, Any]],
                                  rows: list[FeatureRow]) -> None:
    dicts: list[Mapping[str, float]] = list(_dicts(profiles[:3]))
    assert feature_matrix([*rows[:2], dicts[0]], FEATURES) is None
    assert feature_matrix(dicts, FEATURES) is None
    assert feature_matrix([], FEATURES) is None
    other = _batch(profiles[:4])  # another batch's matrix
    assert feature_matrix([rows[0], other[1]], FEATURES) is None
    assert feature_matrix(rows[:2], (*FEATURES, "not_a_feature")) is None
