"""Multi-touch attribution on one core: 1,000,000 touchpoints, 100,000 conversions, every model.

Generates a seeded population (250,000 persons, several touches each, a realistic channel mix,
campaigns on paid channels, conversions after touches), then times: journeys (30-day window),
the six rule-based models for every conversion, ClickHouse columns of their credits, channel
paths, Markov removal effects at orders 1, 2 and 3, a bootstrap of the order-1 Markov credits,
and Shapley values; then a whole attribution run (``attribution_run.compute``: what
``touchstream attribution run`` and the worker's schedule do after reading ClickHouse) from
rows as ClickHouse returns them, at order 1, with the bootstrap, and at orders 1 to 3.
Merges slice ``attribution`` into benchmarks/results/latest.json.

``--coverage N`` also simulates N data sets of 5,000 journeys from a known first-order chain
and counts how often the 95 % bootstrap intervals cover the credits that chain implies.

``--reference`` also measures agreement with ChannelAttribution (dev dependency) on its
Data.csv: Markov credits at orders 1 and 3 against its simulation with 10,000,000 paths.

``python -m benchmarks.attribution_bench [--touchpoints 1000000] [--conversions 100000]
[--bootstrap 100] [--reference] [--coverage 100]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from streams.customer.attribution import DAY_MS, ConversionTable, TouchTable, build_journeys
from streams.customer.attribution_paths import channel_paths
from streams.customer.attribution_rules import credit_columns, rule_credits
from streams.customer.attribution_run import RunPolicy, Window, compute, tables_from_rows
from streams.customer.markov import markov_attribution, markov_bootstrap
from streams.customer.shapley import shapley_attribution

RESULTS = Path(__file__).parent / "results" / "latest.json"
CHANNELS = ("paid_search", "paid_social", "display", "email", "organic_search", "direct", "referral", "chat")
MIX = (0.22, 0.16, 0.12, 0.15, 0.14, 0.12, 0.06, 0.03)
PAID = {"paid_search", "paid_social", "display", "email"}
START_MS = 1_767_225_600_000  # 2026-01-01


def generate(touchpoints: int, conversions: int, seed: int = 11) -> tuple[TouchTable, ConversionTable]:
    rng = np.random.default_rng(seed)
    persons = touchpoints // 4
    # Touches per person: heavy-tailed, every person at least one.
    weights = rng.lognormal(0.0, 0.8, persons)
    per = 1 + rng.multinomial(touchpoints - persons, weights / weights.sum())
    person = np.repeat(np.arange(persons), per)
    # A person's touches follow each other by ~2 days on average from a start within 120 days.
    gaps = rng.exponential(2 * DAY_MS, touchpoints)
    run_start = np.repeat(np.cumsum(per) - per, per)
    cum = np.cumsum(gaps)
    first = np.repeat(rng.uniform(0, 120 * DAY_MS, persons), per)
    at = (START_MS + first + cum - cum[run_start]).astype(np.int64)
    channel = rng.choice(len(CHANNELS), size=touchpoints, p=MIX)
    campaign = np.empty(touchpoints, dtype=object)
    paid = np.isin(channel, [CHANNELS.index(c) for c in PAID])
    ids = rng.integers(0, 40, touchpoints)
    campaign[paid] = [f"{CHANNELS[c]}-{i}"
                      for c, i in zip(channel[paid].tolist(), ids[paid].tolist(), strict=True)]
    shuffle = rng.permutation(touchpoints)  # arrival order is not time order
    names = np.array([f"person-{p:07d}" for p in range(persons)], dtype=object)
    tids = np.array([f"tp-{i:08d}" for i in range(touchpoints)], dtype=object)
    touches = TouchTable(tids[shuffle], names[person[shuffle]], at[shuffle],
                         channel[shuffle].astype(np.int64), campaign[shuffle], CHANNELS)
    # A conversion follows a random touch (so active persons convert more) by ~1 day.
    after = rng.choice(touchpoints, size=conversions)
    conv_at = at[after] + rng.exponential(DAY_MS, conversions).astype(np.int64)
    value = np.round(rng.lognormal(4.0, 0.9, conversions), 2)
    currency = np.where(rng.random(conversions) < 0.8, "EUR", "USD").astype(object)
    cids = np.array([f"cv-{i:07d}" for i in range(conversions)], dtype=object)
    who = names[person[after]]
    # 5 % convert without a tracked touch (their journeys are empty).
    untracked = rng.random(conversions) < 0.05
    who[untracked] = [f"untracked-{i:07d}" for i in range(int(untracked.sum()))]
    return touches, ConversionTable(cids, who, conv_at, value, currency)


def timed(out: dict[str, float], name: str, fn: Any, *args: Any, **kw: Any) -> Any:
    started = time.perf_counter()
    result = fn(*args, **kw)
    out[name] = round(time.perf_counter() - started, 3)
    return result


def reference_agreement() -> dict[str, float]:
    """Largest relative difference of our Markov credits from ChannelAttribution's on Data.csv."""
    import contextlib
    import importlib
    import importlib.metadata
    import io

    from streams.customer.attribution_paths import Paths, parse_paths

    pd: Any = importlib.import_module("pandas")  # ChannelAttribution's own dependency
    with contextlib.redirect_stdout(io.StringIO()):  # it prints an advert on import
        ca: Any = importlib.import_module("ChannelAttribution")
    dist = importlib.metadata.distribution("channelattribution")
    csv = next(f for f in dist.files or [] if f.name == "Data.csv")
    data = pd.read_csv(str(dist.locate_file(csv)), sep=";")
    paths = Paths.from_sequences(parse_paths(data["path"].tolist()), data["total_conversions"],
                                 data["total_conversion_value"], data["total_null"])
    out: dict[str, float] = {}
    total = float(data["total_conversions"].sum())
    for order in (1, 3):
        ours = markov_attribution(paths, order)
        with contextlib.redirect_stdout(io.StringIO()):
            res = ca.markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                                  var_null="total_null", order=order, nsim_start=10_000_000, max_step=1000,
                                  nfold=1, ncore=1, seed=1, verbose=False, flg_pro=False)
        ref = (res["result"] if isinstance(res, dict) else res).set_index("channel_name")
        theirs = ref.loc[list(paths.channels), "total_conversions"].to_numpy()
        theirs_v = ref.loc[list(paths.channels), "total_conversion_value"].to_numpy()
        big = theirs >= 0.01 * total  # channels with at least 1 % of the conversions
        rel = np.abs(ours.conversions / theirs - 1)
        rel_v = np.abs(ours.values / theirs_v - 1)
        out[f"ca_order{order}_max_rel_diff_conversions_channels_ge_1pct"] = round(float(rel[big].max()), 5)
        out[f"ca_order{order}_max_rel_diff_value_channels_ge_1pct"] = round(float(rel_v[big].max()), 5)
        l1 = float(np.abs(ours.conversions - theirs).sum())
        out[f"ca_order{order}_l1_diff_share_of_conversions"] = round(l1 / total, 5)
    return out


def _true_chain(rng: np.random.Generator, k: int) -> tuple[Any, Any, Any]:
    """A random first-order chain: rows (start) and k channels; columns k channels, conversion,
    null. No self-loops, and at least 30 % of leaving at every channel step."""
    p = rng.dirichlet(np.ones(k + 2), size=k + 1)
    p[0, k:] = 0.0
    for i in range(k):
        p[i + 1, i] = 0.0
        p[i + 1, :k] *= 0.7 / p[i + 1, :k].sum()
        p[i + 1, k:] *= 0.3 / p[i + 1, k:].sum()
    p[0] /= p[0].sum()
    q = np.zeros((k + 1, k + 1))
    q[:, 1:] = p[:, :k]
    return p, q, p[:, k]


def _exact_credits(q: Any, r: Any, k: int, journeys: int) -> Any:
    """Expected Markov credits, from the true chain by dense linear algebra (independent of
    streams.customer.markov)."""
    def p_conv(keep: list[int]) -> float:
        sub = q[np.ix_(keep, keep)]
        return float(np.linalg.inv(np.eye(len(keep)) - sub)[0] @ r[keep])
    full = p_conv(list(range(k + 1)))
    effects = np.array([1 - p_conv([s for s in range(k + 1) if s != c + 1]) / full for c in range(k)])
    return effects / effects.sum() * journeys * full


def _simulate(rng: np.random.Generator, p: Any, k: int, journeys: int) -> Any:
    from streams.customer.attribution_paths import Paths

    cum = np.cumsum(p, axis=1)
    state = np.zeros(journeys, dtype=np.int64)
    alive = np.ones(journeys, dtype=bool)
    steps, converted = [], np.zeros(journeys, dtype=bool)
    for _ in range(60):
        nxt = (rng.random(journeys)[:, None] > cum[state]).sum(axis=1)
        nxt = np.where(alive, nxt, -1)
        converted |= nxt == k
        alive &= nxt < k
        steps.append(np.where(alive, nxt, -1))
        state = np.where(alive, nxt + 1, 0)
    grid = np.array(steps).T
    lengths = (grid >= 0).sum(axis=1)
    conv = converted.astype(np.float64)
    return Paths(tuple(f"c{i}" for i in range(k)), np.r_[0, np.cumsum(lengths)].astype(np.int64),
                 grid[grid >= 0].astype(np.int64), conv, conv.copy(), 1.0 - conv)


def bootstrap_coverage(datasets: int = 100, journeys: int = 5000, replicates: int = 100,
                       seed: int = 5) -> dict[str, float]:
    """How often the 95 % bootstrap intervals of order-1 Markov credits cover the credits
    expected under the true chain that generated the journeys."""
    rng = np.random.default_rng(seed)
    k = 5
    p, q, r = _true_chain(rng, k)
    expected = _exact_credits(q, r, k, journeys)
    covered = np.zeros(k)
    error = np.zeros(k)
    for i in range(datasets):
        paths = _simulate(rng, p, k, journeys)
        b = markov_bootstrap(paths, 1, replicates, seed=i)
        covered += (b.conversions_low <= expected) & (expected <= b.conversions_high)
        error += np.abs(b.estimate.conversions / expected - 1)
    return {"coverage_datasets": datasets, "coverage_journeys": journeys,
            "coverage_replicates": replicates,
            "bootstrap_95_coverage_mean": round(float(covered.mean() / datasets), 3),
            "bootstrap_95_coverage_min_channel": round(float(covered.min() / datasets), 3),
            "markov_mean_abs_rel_error_vs_true_chain": round(float(error.mean() / datasets), 4)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touchpoints", type=int, default=1_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--coverage", type=int, default=0, help="simulated data sets for bootstrap coverage")
    args = parser.parse_args(argv)
    touches, conversions = generate(args.touchpoints, args.conversions)
    t: dict[str, float] = {}
    journeys = timed(t, "seconds_journeys", build_journeys, touches, conversions)
    credits = timed(t, "seconds_rule_models", rule_credits, touches, conversions, journeys)
    timed(t, "seconds_columns", credit_columns, credits, "rules-1")
    paths = timed(t, "seconds_paths", channel_paths, touches, conversions, journeys).paths
    started = time.perf_counter()
    for order in (1, 2, 3):
        timed(t, f"seconds_markov_order{order}", markov_attribution, paths, order)
    t["seconds_markov"] = round(time.perf_counter() - started, 3)
    timed(t, "seconds_shapley", shapley_attribution, paths)
    timed(t, "seconds_shapley_subset_sums", shapley_attribution, paths, "subset_sums")
    timed(t, "seconds_markov_bootstrap", markov_bootstrap, paths, 1, args.bootstrap, 0)
    # a scheduled or on-demand run (attribution_run.compute: journeys, paths, Markov and
    # Shapley per channel and per campaign, rows), from rows as ClickHouse returns them
    touch_rows = list(zip(touches.person.tolist(), touches.touchpoint_id.tolist(),
                          touches.occurred_at.tolist(),
                          [touches.channels[c] for c in touches.channel.tolist()],
                          touches.campaign_id.tolist(), strict=True))
    conversion_rows = list(zip(conversions.person.tolist(), conversions.conversion_id.tolist(),
                               conversions.occurred_at.tolist(), conversions.value.tolist(),
                               conversions.currency.tolist(), strict=True))
    tables = timed(t, "seconds_run_tables_from_rows", tables_from_rows, touch_rows,
                   conversion_rows)
    window = Window(int(conversions.occurred_at.min()), int(conversions.occurred_at.max()))
    timed(t, "seconds_run_order1", compute, *tables, window, RunPolicy(replicates=0))
    timed(t, "seconds_run_order1_bootstrap", compute, *tables, window,
          RunPolicy(replicates=args.bootstrap))
    timed(t, "seconds_run_orders_1_3", compute, *tables, window,
          RunPolicy(orders=(1, 2, 3), replicates=0))
    all_models = (t["seconds_journeys"] + t["seconds_rule_models"] + t["seconds_paths"] + t["seconds_markov"]
                  + t["seconds_shapley"])
    lengths = journeys.lengths
    out: dict[str, Any] = {
        "touchpoints": args.touchpoints, "conversions": args.conversions,
        "seconds_markov": t["seconds_markov"], "seconds_shapley": t["seconds_shapley"],
        "seconds_all_models": round(all_models, 3),
        "credit_rows": len(credits), "mean_journey_touches": round(float(lengths[lengths > 0].mean()), 2),
        "empty_journeys": int((lengths == 0).sum()), "paths": len(paths), "channels": len(paths.channels),
        "bootstrap_replicates": args.bootstrap, **t,
    }
    if args.reference:
        out.update(reference_agreement())
    if args.coverage:
        out.update(bootstrap_coverage(args.coverage, replicates=args.bootstrap))
    print(json.dumps(out, indent=1))
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    # keeps the figures of options not given this time (--reference, --coverage)
    doc.setdefault("slices", {}).setdefault("attribution", {}).update(out)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
