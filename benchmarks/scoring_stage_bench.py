"""Profile changes scored per second by the scoring stage, on one core, decoding included.

``--profiles`` ``customer.profiles`` values of distinct people (10 to 50 recent interactions
each: touchpoints on six channels, chat sessions, purchases; generated, seed 7; ~1.6 kB in
Avro), every one a change the stage scores (the worst case: none is skipped as unchanged, no
two are of the same person, so nothing coalesces), run through the runtime's ``compute``
(as the worker reads: with the ``fast`` extra each batch into columns by the compiled reader
of ``streams.io.avro_profiles``, checked, then ``streams.predictive.stage.step`` over the
columns; without it, or for a batch that reader refuses, message by message: the codec's
compiled decoder of ``streams.io.avro_fast``, validation, then the step over dicts) in
steps of ``--step`` events (the runtime's step_max_events), with a lead model trained on
generated history (path contributions, the default setting) and the explained churn rules,
CLV and next best action: four rows and four records per profile. State is looked up in and
written back to a dict, as the runtime's tables do, with the worker's garbage-collector tuning
(``agents.app.tune_gc``).

``events_per_s``: best of ``--repeat`` passes, decoding included (``events_per_cpu_s``: per
second of the process's CPU time, which a busy shared machine disturbs less); ``p99_ms``: the
99th percentile of a step's time (how long a profile waits for its step), over all passes.
``*_compute_only``: the step alone on decoded values. ``parts_us``: microseconds of CPU a
profile spends in each part (best of the passes): decoding with fastavro and with the
compiled decoder; with the ``fast`` extra, the batch read into columns and checked
(``decode_columns``), the lead features and churn signals over them (``features_columns``),
the new customers' purchases folded over them (``purchases_fold_columns``) and the step over
them (``step_columns``); message by message: validation, the lead
features and churn signals (``read_profile``), the
purchases folded into the state and summarised (``purchases_fold``), the scoring key, the
predictions (``scoring.predict_columns``), the rows and records (``rows_and_records``), and the step
in all.
Merged into ``slices.scoring`` of benchmarks/results/latest.json; with ``--before-after``, only
when the after runs beat the before runs of the series (``better``).

``python -m benchmarks.scoring_stage_bench [--profiles 20000] [--step 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from agents.app import tune_gc
from benchmarks.scoring_bench import merge_slice
from streams.contract.codec import AvroCodec
from streams.io.avro_fast import specialise
from streams.io.avro_profiles import ProfileReader, available
from streams.kernel.records import Raw
from streams.kernel.stage import Events, Lookup, Value, compute
from streams.predictive import contract as names
from streams.predictive.churn import ChurnSignals
from streams.predictive.features import read_profile
from streams.predictive.features_columns import purchase_index, read_columns
from streams.predictive.history import DAY_MS, HistoryPolicy, train_lead_model
from streams.predictive.history_synthetic import histories
from streams.predictive.models import LEAD_MODEL, ModelSlot, publish
from streams.predictive.rfm import RfmSummary, absorb_interactions, empty_state, summarise
from streams.predictive.rfm_columns import fold_new
from streams.predictive.scoring import Models, Scored, predict_columns, rows_and_records
from streams.predictive.stage import ScoringPolicy, scoring_key, stage, step, validate
from streams.settings import Settings

T0 = 1_767_225_600_000
CHANNELS = ("paid_search", "display", "social", "organic_search", "email", "direct", "chat")


def profiles(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for p in range(n):
        start = T0 + rng.randrange(200) * DAY_MS
        recent = []
        at = start
        for i in range(rng.randint(10, 50)):
            at += rng.randrange(3 * DAY_MS)
            channel = rng.choice(CHANNELS)
            if rng.random() < 0.08:
                recent.append({"event_id": f"cv_{p}_{i}", "kind": "conversion", "occurred_at": at,
                               "type": "purchase", "channel": None, "campaign_id": None,
                               "value": round(rng.uniform(5, 300), 2), "currency": "USD"})
            else:
                recent.append({"event_id": f"tp_{p}_{i}", "kind": "touchpoint", "occurred_at": at,
                               "type": "chat_session" if channel == "chat" else "click",
                               "channel": channel, "campaign_id": None, "value": None,
                               "currency": None})
        ids = [f"anonymous_id:a{p}"] + ([f"email:p{p}@x.net"] if rng.random() < 0.7 else [])
        out.append({"person_id": f"p_{p:07d}", "version": 1 + rng.randrange(40),
                    "updated_at": at, "first_seen": start, "last_seen": at, "identifiers": ids,
                    "attributes": {"country": "US"}, "tags": [], "lifecycle_stage": "known",
                    "channels": [], "touchpoints": len(recent) + rng.randrange(50),
                    "conversions": sum(r["kind"] == "conversion" for r in recent),
                    "revenue": {}, "scores": {}, "recent": recent, "merged_into": None})
    return out


def lead_models(directory: Path) -> Models:
    rows = histories(persons=1500, days=240, seed=3)
    artefact = train_lead_model(rows, HistoryPolicy(horizon_ms=14 * DAY_MS)).artefact
    publish(artefact, directory)
    slot = ModelSlot(directory / LEAD_MODEL, contributions="path")
    slot.refresh()
    return Models(lead=slot.scorer)


def lookup_in(table: dict[str, Value]) -> Lookup:
    return lambda _, key: table.get(key)


def _part_us(run: Callable[[], object], n: int, repeat: int) -> float:
    """CPU microseconds per profile of ``run`` (over ``n`` profiles), best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        cpu = time.process_time()
        run()
        best = min(best, time.process_time() - cpu)
    return round(best / n * 1e6, 1)


def _validate_all(raws: list[Raw], values: list[dict[str, Any]]) -> None:
    for raw, value in zip(raws, values, strict=True):
        validate(raw, value)


def parts(policy: ScoringPolicy, values: list[dict[str, Any]], encoded: list[Raw],
          step_size: int, repeat: int) -> dict[str, float]:
    """Microseconds a profile spends in each part of the stage (``parts_us``)."""
    n = len(values)
    plain = AvroCodec.from_settings(Settings())
    compiled = specialise(AvroCodec.from_settings(Settings()), names.CUSTOMER_PROFILES)
    datas = [r.value for r in encoded]
    chunks = [datas[i:i + step_size] for i in range(0, n, step_size)]

    def decoding(codec: AvroCodec) -> Callable[[], object]:
        return lambda: [codec.decode_many(names.CUSTOMER_PROFILES, c) for c in chunks]

    read: list[tuple[dict[str, Any], dict[str, float], ChurnSignals, list[Mapping[str, Any]]]] = []
    for v in values:
        bought: list[Mapping[str, Any]] = []
        f, signals = read_profile(v, int(v["updated_at"]), bought)
        read.append((v, f, signals, bought))

    def fold() -> list[RfmSummary | None]:
        return [summarise(absorb_interactions(empty_state(), bought), int(v["updated_at"]),
                          "weeks") for v, _, _, bought in read]

    summaries = fold()
    scored = [Scored(v, f, signals, summary, False, names.CUSTOMER_PROFILES, 0, 0)
              for (v, f, signals, _), summary in zip(read, summaries, strict=True)]
    batches = [scored[i:i + step_size] for i in range(0, n, step_size)]
    models = policy.models()
    predicted = [predict_columns(models, b) for b in batches]
    table: dict[str, Value] = {}
    columnar: dict[str, float] = {}
    if available(compiled):
        reader = ProfileReader(compiled).read
        raw_chunks = [encoded[i:i + step_size] for i in range(0, n, step_size)]
        decode = compiled.decoder(names.CUSTOMER_PROFILES)
        columns = [reader(c, decode) for c in raw_chunks]
        columnar = {
            "decode_columns": _part_us(lambda: [reader(c, decode) for c in raw_chunks], n,
                                       repeat),
            "features_columns": _part_us(lambda: [read_columns(c, fields=False)
                                                  for c in columns], n, repeat),
            "purchases_fold_columns": _part_us(
                lambda: [fold_new(c, purchase_index(c), "weeks") for c in columns], n, repeat),
            "step_columns": _part_us(lambda: [step(policy, Events(c_raws, [], c),
                                                   lookup_in(table), 0)
                                              for c_raws, c in zip(raw_chunks, columns,
                                                                   strict=True)], n, repeat),
        }
    return {**columnar,
        "decode_fastavro": _part_us(decoding(plain), n, repeat),
        "decode_compiled": _part_us(decoding(compiled), n, repeat),
        "features": _part_us(lambda: [read_profile(v, int(v["updated_at"]), [])
                                      for v in values], n, repeat),
        "purchases_fold": _part_us(fold, n, repeat),
        "scoring_key": _part_us(lambda: [scoring_key(s.profile, s.features, s.signals, s.summary)
                                         for s in scored], n, repeat),
        "validate": _part_us(lambda: _validate_all(encoded, values), n, repeat),
        "predict": _part_us(lambda: [predict_columns(models, b) for b in batches], n, repeat),
        "rows_and_records": _part_us(lambda: [rows_and_records(b, p, 0) for b, p in
                                              zip(batches, predicted, strict=True)], n, repeat),
        "step": _part_us(lambda: [step(policy, Events(encoded[i:i + step_size],
                                                      values[i:i + step_size]),
                                       lookup_in(table), 0) for i in range(0, n, step_size)],
                         n, repeat),
    }


def measure(n: int, step_size: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        models = lead_models(Path(tmp))
    values = profiles(n)
    codec = specialise(AvroCodec.from_settings(Settings()), names.CUSTOMER_PROFILES)  # the worker's
    # as the worker reads: a batch at a time into columns when the compiled reader is there
    policy = ScoringPolicy(lambda: models, read_batch=ProfileReader(codec).read
                           if available(codec) else None)
    tune_gc()  # as the worker does: long-lived objects frozen, a larger young generation
    encoded = [Raw(names.CUSTOMER_PROFILES, 0, i, v["updated_at"], v["person_id"].encode(),
                   codec.encode(names.CUSTOMER_PROFILES, v)) for i, v in enumerate(values)]
    spec = stage(policy)
    decoders = {names.CUSTOMER_PROFILES: codec.decoder(names.CUSTOMER_PROFILES)}
    inputs = {i.topic: i for i in spec.inputs}
    best = {"decoded": 0.0, "compute_only": 0.0}
    best_cpu = dict(best)
    steps_ms: dict[str, list[float]] = {"decoded": [], "compute_only": []}
    for _ in range(repeat):  # the two interleaved: a busy moment disturbs both
        for kind in best:
            table: dict[str, Value] = {}
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(0, n, step_size):
                t = time.perf_counter()
                if kind == "decoded":
                    out = compute(spec, encoded[i:i + step_size], decoders, inputs,
                                  lookup_in(table), lambda t: t + ".dlq", 0).outcome
                else:
                    out = step(policy, Events(encoded[i:i + step_size], values[i:i + step_size]),
                               lookup_in(table), 0)
                for key, (_, value) in out.changes[names.SCORE_STATES].items():
                    if value is not None:
                        table[key] = value
                steps_ms[kind].append((time.perf_counter() - t) * 1000.0)
            assert len(table) == n  # every profile scored and its state kept
            best[kind] = max(best[kind], n / (time.perf_counter() - started))
            best_cpu[kind] = max(best_cpu[kind], n / (time.process_time() - cpu))
    assert models.lead is not None
    p = {kind: [float(np.percentile(ms, q)) for q in (50, 99)] for kind, ms in steps_ms.items()}
    return {"events_per_s": round(best["decoded"]), "events_per_cpu_s": round(best_cpu["decoded"]),
            "cpu_us_per_event": round(1e6 / best_cpu["decoded"], 1),
            "p99_ms": round(p["decoded"][1], 2), "p50_ms": round(p["decoded"][0], 2),
            "events_per_s_compute_only": round(best["compute_only"]),
            "events_per_cpu_s_compute_only": round(best_cpu["compute_only"]),
            "cpu_us_per_event_compute_only": round(1e6 / best_cpu["compute_only"], 1),
            "p99_ms_compute_only": round(p["compute_only"][1], 2),
            "parts_us": parts(policy, values, encoded, step_size, repeat),
            "decoder": "batches into columns (streams.io.avro_profiles, numba)"
                       if available(codec) else "cavro (streams.io.avro_fast)",
            "profiles": n, "distinct_persons": n, "step": step_size,
            "avro_bytes_per_profile": round(sum(len(r.value or b"") for r in encoded) / n),
            "rows_per_profile": 4, "lead_model": f"{LEAD_MODEL}-{models.lead.version}",
            "features": len(models.lead.feature_names), "contributions": "path",
            "threads": 1, "load_avg_1m": round(os.getloadavg()[0], 2)}


#: (new key, old key): the figures of this module and of the module before decoding was
#: included in ``events_per_s`` (45ed579..f1d858c), so that runs of either tree line up
_SAME: tuple[tuple[str, str], ...] = (
    ("events_per_s", "events_per_s_with_decode"),
    ("events_per_cpu_s", "events_per_cpu_s_with_decode"),
    ("cpu_us_per_event", "cpu_us_per_event_with_decode"),
    ("events_per_cpu_s_compute_only", "events_per_cpu_s"),
    ("cpu_us_per_event_compute_only", "cpu_us_per_event"),
    ("p99_ms_compute_only", "p99_ms"),
    ("load_avg_1m", "load_avg_1m"))


def _aligned(run: dict[str, Any]) -> dict[str, Any]:
    new = "events_per_s_compute_only" in run
    return {key: run.get(key if new else old) for key, old in _SAME}


def _run_tree(tree: Path, args: list[str]) -> dict[str, Any]:
    """This benchmark as the module of ``tree`` runs it on its own code (it merges its
    figures into that tree's copy of latest.json, not this one's)."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.scoring_stage_bench", *args],
                          cwd=tree, check=True, capture_output=True, text=True)
    out = done.stdout
    return dict(json.loads(out[out.index("{\n"):]))


def before_after(before: str, after: str, args: list[str], rounds: int
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alternating runs (before, after, before, ...) of two commits, each in a tree of its
    own (``git archive``): the best after run's figures and both sides' figures."""
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for side, rev in (("before", before), ("after", after)):
            trees[side] = Path(tmp) / side
            trees[side].mkdir()
            archive = subprocess.run(["git", "archive", rev], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(trees[side])], input=archive.stdout,
                           check=True)
        for _ in range(rounds):
            for side in runs:
                runs[side].append(_run_tree(trees[side], args))
    best = max(runs["after"], key=lambda r: float(r["events_per_s"]))
    aligned = {side: [_aligned(r) for r in rs] for side, rs in runs.items()}
    table = {key: {side: [r[key] for r in rs] for side, rs in aligned.items()}
             for key, _ in _SAME}
    return best, {"before_commit": before, "after_commit": after,
                  "runs": "alternating before, after, ... under the bench lock, each commit's "
                  "own benchmark module on its own code (git archive), the older module's keys "
                  "renamed to this one's", **table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--step", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before-after", metavar="REV", help="alternate runs of REV's tree and "
                        "HEAD's, and keep both sides' figures (slices.scoring.before_after)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per side (--before-after)")
    args = parser.parse_args()
    own = ["--profiles", str(args.profiles), "--step", str(args.step), "--repeat",
           str(args.repeat)]
    command = "python -m benchmarks.scoring_stage_bench " + " ".join(own)
    keep = True
    if args.before_after:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        figures, compared = before_after(args.before_after, head, own, args.rounds)
        figures["before_after"] = {**compared, "command": f"{command} --before-after "
                                   f"{args.before_after} --rounds {args.rounds}"}
        keep = better(compared)
    else:
        figures = measure(args.profiles, args.step, args.repeat)
    figures["command"] = command
    figures["goal_events_per_s"] = 20_000
    if keep:
        merge_slice("scoring", figures)
    print(json.dumps(figures, indent=2))
    if not keep:
        print("not merged into latest.json: the after runs were not better than the before "
              "runs of this series", file=sys.stderr)


def better(compared: dict[str, Any]) -> bool:
    """The after runs beat the before runs of one alternating series: a higher best rate and
    a lower mean CPU time a profile."""
    rate, cpu = compared["events_per_s"], compared["cpu_us_per_event"]
    return bool(max(rate["after"]) > max(rate["before"])
                and sum(cpu["after"]) / len(cpu["after"]) < sum(cpu["before"]) / len(cpu["before"]))


if __name__ == "__main__":
    main()
