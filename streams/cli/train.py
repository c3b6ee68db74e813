"""``touchstream train``: the text models, the lead and churn models and personalisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
    print_result,
)
from streams.kernel.paths import MODEL_DATA_DIR, MODELS_DIR


@click.group()
def train() -> None:
    """Train the models the pipeline ships with."""


@train.command("intent")
@click.option("--labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=MODEL_DATA_DIR / "intent_labelled.jsonl",
              show_default=True, help="Labelled messages (JSONL: text, intent, language, split).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=MODELS_DIR / "intent-v2.npz", show_default=True)
def train_intent(labelled: Path, out: Path) -> None:
    """Train the intent classifier; prints its test-split quality."""
    from streams.training.intent import main_train_intent

    report = main_train_intent(labelled, out)
    console.print(f"trained on {report.train_size}, tested on {report.test_size} messages "
                  f"-> {out}")
    console.print(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    print_result("per-intent F1", ("intent", "F1"),
                 sorted(report.per_intent_f1.items(), key=lambda kv: -kv[1]))


def _history_options(horizon: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed((
            click.option("--days", type=click.IntRange(min=1), default=365, show_default=True,
                         help="History to learn from: the interactions of this many days "
                         "before --until."),
            click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]),
                         default=None, help="End of the history (UTC date, exclusive); "
                         "default now."),
            click.option("--horizon-days", type=click.IntRange(min=1), default=horizon,
                         show_default=True, help="The label window after each cut-off."),
            click.option("--cutoffs-per-person", type=click.IntRange(min=1), default=4,
                         show_default=True, help="Profile changes sampled per person as "
                         "cut-offs."),
            click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
                         default=None, help="Model directory; default the "
                         "predictive_model_dir setting."),
            click.option("--seed", type=int, default=7, show_default=True),
        )):
            command = option(command)
        return command

    return decorate


def _history_rows(days: int, until: datetime | None) -> list[dict[str, Any]] | None:
    """The interactions of ``customer_events`` in the ``days`` before ``until`` (now), oldest
    first; None (after saying so) when there are none."""
    from streams.io.query import Querier
    from streams.predictive.history import DAY_MS, HISTORY_SQL

    end = int((until.replace(tzinfo=UTC) if until else datetime.now(UTC)).timestamp() * 1000)
    rows: list[dict[str, Any]] = Querier(current_settings()).sql(
        HISTORY_SQL, {"since": end - days * DAY_MS, "until": end}).dicts()
    if not rows:
        fail(f"no interactions in customer_events in the {days} days before {until or 'now'}")
        return None
    return rows


def _train_from_history(kind: str, days: int, until: datetime | None, horizon_days: int,
                        cutoffs_per_person: int, out: Path | None, seed: int,
                        names: tuple[str, ...] | None = None) -> None:
    from streams.predictive.features import FEATURES
    from streams.predictive.history import (
        DAY_MS,
        HistoryPolicy,
        train_churn_model,
        train_lead_model,
    )
    from streams.predictive.models import CHURN_MODEL, LEAD_MODEL, publish

    settings = current_settings()
    rows = _history_rows(days, until)
    if rows is None:
        return
    policy = HistoryPolicy(horizon_ms=horizon_days * DAY_MS, cutoffs_per_person=cutoffs_per_person,
                           recent_limit=settings.customer_recent_interactions, seed=seed)
    name = LEAD_MODEL if kind == "lead" else CHURN_MODEL
    try:
        if kind == "lead":
            result = train_lead_model(rows, policy, names=names or FEATURES, name=name)
        else:
            result = train_churn_model(rows, policy, name=name)
    except ValueError as exc:
        fail(f"cannot train on this history: {exc}")
        return
    target = publish(result.artefact, out or settings.predictive_model_dir)
    window = result.windows
    console.print(f"{len(rows)} interactions -> {result.artefact.metadata['data']['rows']} rows; "
                  f"model {name}-{target.name} -> {target} (now current)")
    print_result("held-out (latest) window", ("metric", "value"), [
        ("test window from", datetime.fromtimestamp(window.test_start_ms / 1000, UTC).isoformat()),
        ("ROC-AUC", result.test.roc_auc), ("PR-AUC", result.test.pr_auc),
        ("Brier", result.test.brier), ("Brier uncalibrated", result.test_raw.brier),
        ("best iteration", result.best_iteration)])


@train.command("lead-score")
@_history_options(horizon=14)
@click.option("--without-conversation", is_flag=True,
              help="Leave out the chat-session features (to measure what they add).")
def train_lead_score(days: int, until: datetime | None, horizon_days: int,
                     cutoffs_per_person: int, out: Path | None, seed: int,
                     without_conversation: bool) -> None:
    """Train the lead model from the interaction history in ClickHouse (customer_events):
    profiles rebuilt as of sampled changes, label = a purchase within the horizon, time-based
    split, calibrated, saved as a new version that the workers pick up."""
    from streams.predictive.features import BEHAVIOUR_FEATURES

    _train_from_history("lead", days, until, horizon_days, cutoffs_per_person, out, seed,
                        BEHAVIOUR_FEATURES if without_conversation else None)


@train.command("churn")
@_history_options(horizon=60)
def train_churn(days: int, until: datetime | None, horizon_days: int, cutoffs_per_person: int,
                out: Path | None, seed: int) -> None:
    """Train the churn model like the lead model: people who had purchased, label = no
    touchpoint or conversion within the horizon; the stage then scores churn with it."""
    _train_from_history("churn", days, until, horizon_days, cutoffs_per_person, out, seed)


@train.command("personalisation")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True,
              help="History to learn from: the interactions of this many days before --until.")
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="End of the history (UTC date, exclusive); default now.")
@click.option("--test-days", type=click.IntRange(min=1), default=14, show_default=True,
              help="The latest days held out to measure hit rates on.")
@click.option("--k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="Recommendations served per person.")
@click.option("--half-life-days", type=click.FloatRange(min=0.0, min_open=True), default=90.0,
              show_default=True, help="Recency half-life of popularity and of a history.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model directory; default the predictive_model_dir setting.")
def train_personalisation(days: int, until: datetime | None, test_days: int, k: int,
                          half_life_days: float, out: Path | None) -> None:
    """Train the personalisation model (item co-occurrence with a popularity fallback, best
    contact hour shrunk towards the segment) from the interaction history in ClickHouse
    (customer_events); hit rate at 5 and 10 on the latest --test-days against popularity;
    saved as a new version that the workers pick up."""
    from streams.predictive.recommend_store import publish_personalisation
    from streams.predictive.recommend_training import (
        KS,
        PersonalisationPolicy,
        train_personalisation,
    )

    rows = _history_rows(days, until)
    if rows is None:
        return
    try:
        trained = train_personalisation(rows, PersonalisationPolicy(test_days, k, half_life_days))
    except ValueError as exc:
        fail(f"cannot train on this history: {exc}")
        return
    target = publish_personalisation(trained.model, trained.metadata,
                                     out or current_settings().predictive_model_dir)
    meta = trained.metadata
    test = meta["metrics"]["test"]
    console.print(f"{meta['data']['events']} interactions of {meta['data']['persons']} persons, "
                  f"{meta['data']['items']} items -> {target} (now current)")
    print_result(f"held-out latest {test_days} days: {test['persons_evaluated']} persons "
                 "bought an item new to them", ("hit rate", *(f"at {k_}" for k_ in KS)),
                 [(name, *(rates[f"at_{k_}"] for k_ in KS))
                  for name, rates in test["hit_rate"].items()])
