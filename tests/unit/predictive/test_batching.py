"""The scoring step is batched (one LightGBM pass, CLV over arrays, rows built column by
column), yet what it computes does not depend on how the events are cut into batches: for
distinct people, any split of the events gives the same rows, the same records and the same
states as one batch and as one event at a time, with the rules and with a loaded model."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.kernel.records import Raw
from streams.kernel.stage import Events, Value
from streams.predictive import contract as names
from streams.predictive.model import Scorer
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy, step
from tests.unit.predictive.helpers import DAY_MS, T0, interaction, lead_artefact, profile

CHANNELS = ("paid_search", "display", "social", "organic_search", "email", "direct", "chat")
NOW = T0 + 500 * DAY_MS


def generated(n: int, seed: int, version: int = 1) -> list[dict[str, Any]]:
    """Profiles of ``n`` distinct people: touchpoints on every channel, chats, purchases in
    two currencies, failed payments, opt-outs, people without email or interactions."""
    rng = random.Random(seed)
    out = []
    for p in range(n):
        at = T0 + rng.randrange(200) * DAY_MS
        recent = []
        for i in range(rng.randint(0, 40)):
            at += rng.randrange(4 * DAY_MS)
            roll = rng.random()
            if roll < 0.1:
                recent.append(interaction(f"cv_{p}_{i}", "conversion", at, "purchase",
                                          value=round(rng.uniform(5, 300), 2),
                                          currency=rng.choice(("USD", "USD", "EUR"))))
            elif roll < 0.13:
                recent.append(interaction(f"fp_{p}_{i}", "conversion", at,
                                          rng.choice(("failed_payment", "signup", "demo_request"))))
            else:
                channel = rng.choice(CHANNELS)
                recent.append(interaction(f"tp_{p}_{i}", "touchpoint", at,
                                          "chat_session" if channel == "chat" else "click",
                                          channel))
        identifiers = ("anonymous_id:a",) + (("email:e@x.net",) if rng.random() < 0.7 else ())
        value = profile(f"p_{p}", version, recent, identifiers)
        if rng.random() < 0.2:
            value["attributes"] = {"opt_out": "email"}
        out.append(value)
    return out


def run(models: Models, events: list[dict[str, Any]], cuts: list[int],
        table: dict[str, Value]) -> tuple[dict[str, list[Any]], list[tuple[str, Any]],
                                          dict[str, Value]]:
    """Every row, record and state of the events run through ``step`` in the batches that
    ``cuts`` mark; ``table`` carries the state over."""
    raws = [Raw(names.CUSTOMER_PROFILES, 0, i, e["updated_at"], e["person_id"].encode(), None)
            for i, e in enumerate(events)]
    rows: dict[str, list[Any]] = {}
    records: list[tuple[str, Any]] = []
    states: dict[str, Value] = {}
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in itertools.pairwise(bounds):
        if start == end:
            continue
        outcome = step(ScoringPolicy(lambda: models), Events(raws[start:end], events[start:end]),
                       lambda _, key: table.get(key), NOW)
        for name, column in outcome.result.inserts[names.CUSTOMER_SCORES_TABLE].items():
            rows.setdefault(name, []).extend(column)
        records += [(r.key, r.value) for r in outcome.result.outputs]
        for key, (_, value) in outcome.changes[names.SCORE_STATES].items():
            assert value is not None
            table[key] = states[key] = value
    return rows, records, states


@pytest.fixture(scope="module")
def with_model() -> Models:
    return Models(lead=Scorer.from_artefact(lead_artefact(), contributions="path"))


def both_rounds(models: Models, cuts: list[int], n: int) -> list[Any]:
    """A first version of everyone, then a later one (state from the first round)."""
    table: dict[str, Value] = {}
    first = run(models, generated(n, seed=11), cuts, table)
    later = generated(n, seed=12, version=2)
    for value in later:
        value["updated_at"] += 300 * DAY_MS
    return [first, run(models, later, cuts, table)]


@pytest.mark.parametrize("model", [False, True])
def test_one_batch_and_one_event_at_a_time_give_the_same_rows_and_records(
        model: bool, with_model: Models) -> None:
    models = with_model if model else Models()
    whole = both_rounds(models, [], 60)
    alone = both_rounds(models, list(range(1, 60)), 60)
    assert whole == alone
    rows, records, states = whole[0]
    assert len(records) == 4 * 60 == len(rows["person_id"]) and len(states) == 60
    assert {v["kind"] for _, v in records} == {"lead", "churn", "clv", "next_best_action"}
    kinds = {(v["kind"], v["model_version"].split("-")[0]) for _, v in records}
    assert ("lead", "lead_model" if model else "rules") in kinds
    assert any(v["kind"] == "clv" and v["score"] > 0 for _, v in records)  # customers valued
    # the rows are the records, column by column, with where they came from
    assert [v["score"] for _, v in records] == rows["score"]
    assert [v["details"] for _, v in records] == rows["details"]


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=39), max_size=8))
def test_any_split_of_a_batch_gives_the_same_result(cuts: list[int]) -> None:
    models = Models(lead=Scorer.from_artefact(lead_artefact(), contributions="path"))
    assert both_rounds(models, cuts, 40) == both_rounds(models, [], 40)
