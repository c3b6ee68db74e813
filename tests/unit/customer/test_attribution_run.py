"""An attribution run, pure: rows in, journeys across merged persons, Markov and Shapley credits
out as additive, versioned rows."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest

from streams.customer.attribution import DAY_MS, build_journeys
from streams.customer.attribution_paths import channel_paths
from streams.customer.attribution_run import (
    RUN_COLUMNS,
    RunPolicy,
    Window,
    compute,
    parse_orders,
    run_columns,
    run_id,
    summary_rows,
    survivors,
    tables_from_rows,
)
from streams.customer.markov import markov_attribution, markov_bootstrap
from streams.customer.shapley import shapley_attribution
from streams.kernel.paths import SCHEMAS_DIR

D = DAY_MS
T0 = 1_767_225_600_000  # 2026-01-01


def _sample(seed: int = 3, persons: int = 300) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    rng = np.random.default_rng(seed)
    channels = ["email", "paid_search", "display", "direct"]
    touches: list[tuple[object, ...]] = []
    conversions: list[tuple[object, ...]] = []
    for p in range(persons):
        at = T0 + int(rng.integers(0, 20)) * D
        for k in range(int(rng.integers(1, 6))):
            ch = channels[int(rng.integers(0, 4))]
            campaign = f"{ch}-{int(rng.integers(0, 2))}" if ch != "direct" else None
            touches.append((f"p{p}", f"t{p}-{k}", at, ch, campaign))
            at += int(rng.integers(1, 3)) * D
        if rng.random() < 0.4:
            conversions.append((f"p{p}", f"c{p}", at, float(rng.integers(10, 100)),
                                "EUR" if rng.random() < 0.7 else "USD"))
    return touches, conversions


def test_a_journey_spans_the_persons_merged_into_one() -> None:
    merged = survivors([("b", "a"), ("c", "b"), ("x", "x")])
    assert merged == {"b": "a", "c": "a"}
    touches = [("a", "t1", T0, "email", None), ("c", "t2", T0 + D, "paid_search", "k1"),
               ("z", "t3", T0 + D, "display", None)]
    conversions = [("b", "v1", T0 + 2 * D, 90.0, "EUR")]
    t, c = tables_from_rows(touches, conversions, merged)
    result = compute(t, c, Window(T0, T0 + 10 * D), RunPolicy(replicates=0))
    shapley = {(r.channel, r.campaign_id): r.credit for r in result.credits
               if r.model == "shapley" and r.level == "campaign" and r.measure == "conversions"}
    # one journey (email, paid_search) of the one person a, b and c are; z never converted
    assert shapley == {("email", ""): 0.5, ("paid_search", "k1"): 0.5, ("display", ""): 0.0}
    assert (result.conversions, result.attributed, result.journeys) == (1, 1, 2)


def test_the_window_bounds_conversions_and_the_lookback_bounds_journeys() -> None:
    touches = [("a", "old", T0 - 40 * D, "display", None), ("a", "t1", T0 - 5 * D, "email", None),
               ("b", "t2", T0, "paid_search", None)]
    conversions = [("a", "in", T0 + D, 10.0, "EUR"), ("b", "before", T0 - D, 5.0, "EUR"),
                   ("b", "after", T0 + 11 * D, 5.0, "EUR")]
    t, c = tables_from_rows(touches, conversions)
    result = compute(t, c, Window(T0, T0 + 10 * D), RunPolicy(models=("shapley",)))
    conv = {r.channel: r.credit for r in result.credits
            if r.level == "channel" and r.measure == "conversions"}
    assert result.conversions == 1
    assert conv["email"] == 1.0 and conv["display"] == 0.0  # 40 days is past the lookback


def test_credits_are_additive_and_match_the_models_called_directly() -> None:
    touches, conversions = _sample()
    t, c = tables_from_rows(touches, conversions)
    window = Window(T0, T0 + 60 * D)
    policy = RunPolicy(orders=(1, 3), replicates=30, seed=5)
    result = compute(t, c, window, policy)
    value: dict[str, float] = defaultdict(float)
    for row in conversions:
        value[str(row[4])] += float(row[3])  # type: ignore[arg-type]
    sums: dict[tuple[object, ...], float] = defaultdict(float)
    for r in result.credits:
        sums[r.model, r.order, r.level, r.measure, r.currency] += r.credit
        if r.low is not None and r.high is not None:
            assert r.low - 1e-9 <= r.high
    assert result.attributed == len(conversions) > 50
    for model, order in (("markov", 1), ("markov", 3), ("shapley", 0)):
        levels = ("channel",) if model == "markov" else ("channel", "campaign")
        for level in levels:
            assert sums[model, order, level, "conversions", ""] == pytest.approx(len(conversions))
            for currency, total in value.items():
                assert sums[model, order, level, "revenue", currency] == pytest.approx(total)
    # the same numbers as the models called on the same paths
    journeys = build_journeys(t, c, policy.lookback_ms)
    paths = channel_paths(t, c, journeys)
    direct = markov_attribution(paths.in_currency("EUR"), 3)
    mine = {(r.channel, r.measure): r.credit for r in result.credits
            if r.model == "markov" and r.order == 3 and r.currency in ("", "EUR")}
    for i, name in enumerate(direct.channels):
        assert mine[name, "conversions"] == pytest.approx(direct.conversions[i])
        assert mine[name, "revenue"] == pytest.approx(direct.values[i])
    boot = markov_bootstrap(paths.in_currency("USD"), 1, 30, 5)
    usd = {r.channel: (r.low, r.high) for r in result.credits
           if r.model == "markov" and r.order == 1 and r.currency == "USD"}
    assert usd == {n: pytest.approx((boot.values_low[i], boot.values_high[i]))
                   for i, n in enumerate(boot.estimate.channels)}
    shap = shapley_attribution(paths.in_currency("EUR"))
    assert {r.channel: r.credit for r in result.credits if r.model == "shapley"
            and r.level == "channel" and r.currency == "EUR"} == pytest.approx(
        dict(zip(shap.channels, shap.values.tolist(), strict=True)))


def test_campaign_credits_with_one_campaign_per_channel_equal_the_channel_credits() -> None:
    touches, conversions = _sample(seed=9)
    one = [(p, i, at, ch, f"{ch}-only") for p, i, at, ch, _ in touches]
    t, c = tables_from_rows(one, conversions)
    result = compute(t, c, Window(T0, T0 + 60 * D), RunPolicy(models=("shapley",)))
    by_level: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for r in result.credits:
        by_level[r.level][r.channel, r.measure + r.currency] = r.credit
    assert by_level["campaign"] == pytest.approx(by_level["channel"])


def test_no_conversion_no_credits() -> None:
    t, c = tables_from_rows([("a", "t", T0, "email", None)], [])
    result = compute(t, c, Window(T0, T0 + D))
    assert result.credits == () and run_columns(result, T0)["run_id"] == []


def test_rows_carry_the_version_and_fill_the_table() -> None:
    touches, conversions = _sample(persons=40)
    t, c = tables_from_rows(touches, conversions)
    window = Window(T0, T0 + 60 * D)
    policy = RunPolicy(orders=(2,), replicates=5)
    result = compute(t, c, window, policy)
    cols = run_columns(result, T0 + 100)
    n = len(result.credits)
    assert set(cols) == set(RUN_COLUMNS) and all(len(v) == n for v in cols.values())
    assert set(cols["run_id"]) == {run_id(T0 + 100, window, policy)}
    assert set(cols["markov_order"]) == {0, 2} and set(cols["_version"]) == {T0 + 100}
    ddl = (SCHEMAS_DIR / "clickhouse" / "0013_attribution_runs.sql").read_text()
    body = ddl[ddl.index("(") + 1: ddl.index("ENGINE")]
    declared = {m.group(1) for m in re.finditer(r"^\s+(\w+)\s+\S", body, re.M)}
    assert declared - {"_ingested_at"} == set(RUN_COLUMNS)
    # the id: the same run, the same id; a later run or other parameters, another
    assert run_id(T0, window, policy) == run_id(T0, window, policy)
    assert len({run_id(T0, window, policy), run_id(T0 + 1, window, policy),
                run_id(T0, window, RunPolicy(orders=(1,)))}) == 3
    printed = summary_rows(result)
    assert {r[0] for r in printed} == {"markov-2", "shapley"}


def test_orders_and_policy_are_checked() -> None:
    assert parse_orders("1..3") == (1, 2, 3)
    assert parse_orders("3,1") == (1, 3)
    assert parse_orders(" 2 ") == (2,)
    for bad in ("0", "1..4", "x", ""):
        with pytest.raises(ValueError):
            parse_orders(bad)
    with pytest.raises(ValueError):
        RunPolicy(models=("linear",))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Window(2, 1)
