"""Agreement with ChannelAttribution (a dev dependency) on its own 10,000-path example, Data.csv.

ChannelAttribution's heuristic models and transition matrices are deterministic: they must agree
exactly. Its markov_model estimates removal effects by simulating the chain, so its credits carry
sampling noise; it is run with one fold of 2,000,000 simulated paths and a step limit of 1,000
(the default cuts paths at the longest observed one, which biases the result), and each channel's
exact credit must lie within 1 % or within four standard errors of that simulation, whichever is
wider; together the channels must be off by less than 1 % of all conversions.
``python -m benchmarks.attribution_bench --reference`` measures the agreement with 10,000,000
simulated paths.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streams.customer.attribution_paths import Paths, parse_paths
from streams.customer.attribution_rules import rule_fractions
from streams.customer.markov import markov_attribution, transition_probabilities

pd = pytest.importorskip("pandas")
with contextlib.redirect_stdout(io.StringIO()):  # it prints an advert on import
    ca: Any = pytest.importorskip("ChannelAttribution")


def data_csv() -> Path:
    """Data.csv as installed with the channelattribution package (no download)."""
    dist = importlib.metadata.distribution("channelattribution")
    found = [f for f in dist.files or [] if f.name == "Data.csv"]
    assert found, "channelattribution installs its example data"
    return Path(str(dist.locate_file(found[0])))


@pytest.fixture(scope="module")
def data() -> Any:
    return pd.read_csv(data_csv(), sep=";")


@pytest.fixture(scope="module")
def paths(data: Any) -> Paths:
    return Paths.from_sequences(parse_paths(data["path"].tolist()), data["total_conversions"],
                                data["total_conversion_value"], data["total_null"])


def quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, flg_pro=False, **kw)


def test_heuristic_models_agree_exactly(data: Any, paths: Paths) -> None:
    ref = quiet(ca.heuristic_models, data, "path", "total_conversions", var_value="total_conversion_value")
    ref = ref.set_index("channel_name")
    path_of = np.repeat(np.arange(len(paths)), paths.lengths)
    pairs = (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch"))
    for ours, theirs in pairs:
        frac = rule_fractions(ours, paths.offsets, paths.codes)  # type: ignore[arg-type]
        conv = np.bincount(paths.codes, weights=frac * paths.conversions[path_of])
        value = np.bincount(paths.codes, weights=frac * paths.values[path_of])
        for i, name in enumerate(paths.channels):
            assert conv[i] == pytest.approx(ref.loc[name, f"{theirs}_conversions"], rel=1e-9, abs=1e-9)
            assert value[i] == pytest.approx(ref.loc[name, f"{theirs}_value"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("order", [1, 3])
def test_transition_matrix_agrees_exactly(data: Any, paths: Paths, order: int) -> None:
    ref = quiet(ca.transition_matrix, data, "path", "total_conversions", "total_null", order=order)
    names = dict(zip(ref["channels"]["id_channel"].astype(str), ref["channels"]["channel_name"], strict=True))

    def state(s: str) -> str:
        return s if s.startswith("(") else ",".join(names[i] for i in s.split())

    theirs = {(state(a), state(b)): p for a, b, p in ref["transition_matrix"].itertuples(index=False)}
    # Its transition_matrix keeps self-loops (its markov_model drops them, as we do): without
    # them every other probability of the state grows by 1 / (1 - p(self)).
    stay = {a: p for (a, b), p in theirs.items() if a == b}
    theirs = {(a, b): p / (1 - stay.get(a, 0.0)) for (a, b), p in theirs.items() if a != b}
    ours = transition_probabilities(paths, order)
    assert len(ours) == len(theirs) > (100 if order == 1 else 4000)
    assert ours == pytest.approx(theirs, rel=1e-9)


@pytest.mark.parametrize("order", [1, 3])
def test_markov_credits_agree_with_its_simulation(data: Any, paths: Paths, order: int) -> None:
    simulations = 2_000_000
    res = quiet(ca.markov_model, data, "path", "total_conversions", var_value="total_conversion_value",
                var_null="total_null", order=order, nsim_start=simulations, max_step=1000, nfold=1, ncore=1,
                seed=1, verbose=False)
    ref = (res["result"] if isinstance(res, dict) else res).set_index("channel_name")
    ours = markov_attribution(paths, order)
    converted = simulations * ours.conversion_probability
    for i, name in enumerate(paths.channels):
        effect = ours.removal_effects[i]
        # The simulation counts converting paths through the channel: binomial(converted, effect).
        se = np.sqrt((1 - effect) / (effect * converted))
        tolerance = max(0.01, 4 * se)
        assert ours.conversions[i] == pytest.approx(ref.loc[name, "total_conversions"], rel=tolerance)
        # A simulated conversion's value is drawn too, which adds noise: 1.5 times the tolerance.
        assert ours.values[i] == pytest.approx(ref.loc[name, "total_conversion_value"], rel=1.5 * tolerance)
    total = float(data["total_conversions"].sum())
    theirs = ref.loc[list(paths.channels), "total_conversions"].to_numpy()
    assert float(np.abs(ours.conversions - theirs).sum()) < 0.01 * total
