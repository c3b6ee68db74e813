"""The lifetime value's memo of purchases if alive (``scoring._if_alive``) read back for a
batch: the same (13, customers) array, bytes and layout, as computing it again, for customers
that repeat within the batch and across batches."""

from __future__ import annotations

import random

import numpy as np
import pytest

from streams.predictive import scoring
from streams.predictive.clv import purchases_if_alive, value_columns
from streams.predictive.models import CDNOW_CLV


def test_the_memo_gives_the_array_computed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "_IF_ALIVE", {})
    rng = random.Random(8)
    params = CDNOW_CLV.bgnbd
    for _ in range(5):  # later batches read customers of earlier ones from the memo
        pairs = [(float(rng.randrange(6)), rng.randrange(1, 80) / 7) for _ in range(150)]
        x = np.asarray([p[0] for p in pairs])
        T = np.asarray([p[1] for p in pairs])
        got = scoring._if_alive(params, x, T)
        expected = purchases_if_alive(params, scoring._IF_ALIVE_AT, x, T)
        assert got.shape == expected.shape == (13, 150)
        assert got.flags["C_CONTIGUOUS"] and got.tobytes() == expected.tobytes()
        # the values computed from it are those computed without it
        t_x, m = np.minimum(T, x), np.full(150, 20.0)
        with_memo = value_columns(params, CDNOW_CLV.gamma_gamma, x, t_x, T, m,
                                  scoring.WEEKS_12_MONTHS, "weeks", if_alive=got)
        without = value_columns(params, CDNOW_CLV.gamma_gamma, x, t_x, T, m,
                                scoring.WEEKS_12_MONTHS, "weeks")
        assert [a.tobytes() for a in with_memo] == [b.tobytes() for b in without]
