"""Speed of conversation understanding per customer message, on one core: intent and
language (the budget of issue 14: 50 us a message for both), intent with the learnt
discontent read from the same features, the escalation cues, and the chat slice's whole
computation (``benchmarks.compute_bench``) for context.

Texts are the labelled sets' test messages and the guide's evaluation messages, repeated to
``--messages``, scored in batches of ``--batch`` (the worker scores a batch at once). Each
figure is the best of ``--repeat`` runs, in CPU time of the process (the machine is shared:
wall time measures the neighbours too). Merges ``slices.text`` into
``benchmarks/results/latest.json``.

The customer's mood in es/fr/de/pt (``streams.text.mood``) is timed over the messages the
language model puts in those languages. ``--chat-events N`` (default 20000; 0 to skip) also
times the chat slice's whole computation per event (``benchmarks.compute_bench.run_once``:
decode, signals, the conversation fold with its escalation rules, rows, changelog JSON) in
process CPU time, best of ``--repeat``, in steps of 1,000. ``--model PATH`` times another
intent model file (an earlier one, for alternating before/after runs; nothing is written
then).

``python -m benchmarks.text_bench [--messages 5000] [--batch 1000] [--repeat 5] [--model F]
[--chat-events 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from streams.evaluation.guide_sets import load_messages
from streams.text import cues, discontent, mood
from streams.text.intent import INTENT_HASHING, IntentModel, default_model
from streams.text.language import detect_many
from streams.training.data import read_all

LATEST = Path(__file__).parent / "results" / "latest.json"


def best_us(fn: Callable[[Sequence[str]], object], texts: Sequence[str], batch: int,
            repeat: int) -> float:
    """Best-of-``repeat`` CPU microseconds a message of ``fn`` over ``texts`` in batches."""
    fn(texts[:10])
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for i in range(0, len(texts), batch):
            fn(texts[i:i + batch])
        best = min(best, time.process_time() - start)
    return best / len(texts) * 1e6


def _cues(texts: Sequence[str]) -> None:
    for text in texts:
        cues.found(text)
        cues.shouting(text)


def _moods(texts: Sequence[str]) -> None:
    mood.compounds(texts, [lang for lang, _ in detect_many(texts)], [0.0] * len(texts))


def chat_cpu_us(events: int, repeat: int) -> float:
    """Best-of-``repeat`` process CPU microseconds an event of the chat slice's computation
    over ``events`` simulated events in steps of 1,000 (after a warm-up)."""
    from benchmarks import compute_bench
    from streams.contract.codec import AvroCodec
    from streams.settings import Settings

    codec = AvroCodec.from_settings(Settings())
    raws = compute_bench.encoded(codec, events)
    compute_bench.run_once(codec, raws[:2000], 200)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        compute_bench.run_once(codec, raws, 1000)
        best = min(best, time.process_time() - start)
    return best / len(raws) * 1e6


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--model", type=Path, default=None,
                        help="another intent model file to time (implies --no-write)")
    parser.add_argument("--chat-events", type=int, default=20_000)
    args = parser.parse_args(argv)
    pool = [r.text for r in read_all() if r.split == "test"] + [m.text for m in load_messages()]
    texts = (pool * (args.messages // len(pool) + 1))[:args.messages]
    model = default_model() if args.model is None else IntentModel.load(args.model)
    intent = best_us(model.predict_many, texts, args.batch, args.repeat)
    language = best_us(detect_many, texts, args.batch, args.repeat)
    both = best_us(lambda t: (model.predict_many(t), detect_many(t)), texts, args.batch,
                   args.repeat)

    def with_discontent(t: Sequence[str]) -> None:
        # as the worker does: the intent features hashed once for both models
        groups = INTENT_HASHING.feature_groups(t)
        model.predict_many(t, groups)
        discontent.scores(t, groups)

    sunk = best_us(with_discontent, texts, args.batch, args.repeat)
    out: dict[str, Any] = {
        "messages": len(texts), "batch": args.batch,
        "intent_us_per_message": round(intent, 2),
        "language_us_per_message": round(language, 2),
        "intent_plus_language_us_per_message": round(both, 2),
        # the learnt discontent on the intent model's features (``streams.text.discontent``)
        "intent_plus_discontent_us_per_message": round(sunk, 2),
        "escalation_cues_us_per_message": round(best_us(_cues, texts, args.batch,
                                                        args.repeat), 2),
        "language_plus_mood_us_per_message": round(best_us(_moods, texts, args.batch,
                                                           args.repeat), 2),
        "clock": "process CPU time",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "model": model.metadata.get("model_version", ""),
        "command": "python -m benchmarks.text_bench",
    }
    if args.chat_events:
        out["chat_compute_cpu_us_per_event"] = round(
            chat_cpu_us(args.chat_events, min(args.repeat, 3)), 1)
        out["chat_events"] = args.chat_events
    print(json.dumps(out, indent=1))
    if not args.no_write and args.model is None:
        latest = json.loads(LATEST.read_text("utf-8"))
        latest.setdefault("slices", {})["text"] = out
        LATEST.write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return out


if __name__ == "__main__":
    main()
