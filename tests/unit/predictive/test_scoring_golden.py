"""The scoring stage's output on a fixed set of profiles, against what it gave when the set
was recorded: scores, probabilities, labels, reasons, details, model versions and the state it
keeps, compared exactly. A change that makes scoring faster must leave these identical.

The set (``golden/``): 120 generated profiles of the scoring benchmark (touchpoints on six
channels, chat sessions, purchases) and 60 rebuilt from generated histories (chat sessions with
their conversation figures, failed payments, CRM attributes), scored in steps of 45 twice (the
second pass at the next version with an interaction more, so the state's purchases, churn
label and scoring key are read back), under two model sets: the rules alone, and recorded lead
(path attributions) and churn (TreeSHAP) models with a personalisation model. The models are
kept as files, not retrained, so the comparison does not depend on training being
reproducible across library versions.

Recording again is for an intended change of what is scored, never to make this pass:
``python -m tests.unit.predictive.test_scoring_golden --record``.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.scoring_stage_bench import profiles as bench_profiles
from streams.kernel.records import Raw
from streams.kernel.stage import Events, Value
from streams.predictive import contract as names
from streams.predictive.history import by_person, profile_as_of
from streams.predictive.history_synthetic import histories
from streams.predictive.model import Scorer
from streams.predictive.models import publish
from streams.predictive.recommend_profile import Personalisation, fit_personalisation
from streams.predictive.recommend_simulate import shoppers
from streams.predictive.scoring import Models
from streams.predictive.stage import ScoringPolicy, step

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = GOLDEN / "scores.json.gz"
STEP = 45


def golden_profiles() -> list[dict[str, Any]]:
    out = bench_profiles(120, seed=11)
    people = by_person(histories(persons=60, days=200, seed=5))
    for n, person in enumerate(sorted(people)):
        events = people[person]
        rebuilt = profile_as_of(person, events, len(events) - 1)
        attributes = {"segment": "smb"} if n % 3 == 0 else {}
        if n % 7 == 0:
            attributes["opt_out"] = "email"
        out.append({**rebuilt, "version": 1 + n, "last_seen": rebuilt["updated_at"],
                    "attributes": attributes, "tags": ["vip"] if n % 5 == 0 else [],
                    "lifecycle_stage": "customer" if n % 2 else "lead", "channels": [],
                    "revenue": {}, "scores": {}, "merged_into": None})
    return out


def next_versions(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each profile one version later, a day after, with one interaction more (a purchase for
    every third, a click otherwise)."""
    out = []
    for n, v in enumerate(values):
        at = int(v["updated_at"]) + 86_400_000
        bought = n % 3 == 0
        extra: dict[str, Any] = {
            "event_id": f"next_{n}", "kind": "conversion" if bought else "touchpoint",
            "occurred_at": at, "type": "purchase" if bought else "click",
            "channel": None if bought else "email", "campaign_id": None,
            "value": 25.0 + n if bought else None, "currency": "USD" if bought else None,
            "attributes": {}}
        out.append({**v, "version": int(v["version"]) + 1, "updated_at": at,
                    "recent": [*v["recent"][1:], extra]})
    return out


def model_sets(directory: Path) -> dict[str, Models]:
    lead = Scorer.load(directory / "lead", contributions="path")
    churn = Scorer.load(directory / "churn", contributions="shap")
    personal = Personalisation.load(directory / "personalisation.npz")
    return {"rules": Models(), "models": Models(lead=lead, churn=churn, personalisation=personal)}


def _plain(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def scored(models: Models) -> dict[str, Any]:
    """Rows and state of both passes, as plain JSON."""
    first = golden_profiles()
    policy = ScoringPolicy(lambda: models)
    table: dict[str, Value] = {}
    out: dict[str, Any] = {"rows": [], "states": []}
    offset = 0
    for values in (first, next_versions(first)):
        raws = [Raw(names.CUSTOMER_PROFILES, 0, offset + i, int(v["updated_at"]),
                    str(v["person_id"]).encode(), None) for i, v in enumerate(values)]
        offset += len(values)
        for i in range(0, len(values), STEP):
            outcome = step(policy, Events(raws[i:i + STEP], values[i:i + STEP]),
                           lambda _, key: table.get(key), 0)
            columns = outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]
            out["rows"] += [dict(zip(columns, row, strict=True))
                            for row in zip(*columns.values(), strict=True)]
            for key, (_, value) in sorted(outcome.changes[names.SCORE_STATES].items()):
                assert value is not None
                table[key] = value
                out["states"].append({"person": key, **value})
    return _plain(out)  # type: ignore[no-any-return]


def everything(directory: Path) -> dict[str, Any]:
    return {name: scored(models) for name, models in model_sets(directory).items()}


def test_scores_and_reasons_are_those_recorded() -> None:
    expected = json.loads(gzip.decompress(EXPECTED.read_bytes()))
    got = everything(GOLDEN)
    assert got.keys() == expected.keys()
    for name in expected:
        for part in ("rows", "states"):
            assert len(got[name][part]) == len(expected[name][part]), (name, part)
            for n, (g, e) in enumerate(zip(got[name][part], expected[name][part], strict=True)):
                assert g == e, f"{name} {part}[{n}] differs"
    assert sum(r["model_version"].startswith("lead_model") for r in got["models"]["rows"]) > 100


def record() -> None:
    """Train the models once, keep them as files, and record what the stage gives now."""
    from tests.unit.predictive.helpers import churn_artefact, lead_artefact

    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for sub, artefact in (("lead", lead_artefact()), ("churn", churn_artefact())):
            target = publish(artefact, Path(tmp))
            (GOLDEN / sub).mkdir(exist_ok=True)
            for f in target.iterdir():
                (GOLDEN / sub / f.name).write_bytes(f.read_bytes())
    world = shoppers(persons=200, days=60, categories=6, per_category=8, seed=2)
    personal = fit_personalisation(world.events, max(v["occurred_at"] for _, v in world.events),
                                   world.segment)
    personal.save(GOLDEN / "personalisation.npz")
    EXPECTED.write_bytes(gzip.compress(json.dumps(everything(GOLDEN), sort_keys=True).encode(),
                                       mtime=0))


if __name__ == "__main__" and "--record" in sys.argv:
    record()
