"""``touchstream train``: the text models."""

from __future__ import annotations

from pathlib import Path

import click

from streams.cli.common import (
    console,
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
