"""customer.profiles -> lead scores, lifetime value, churn risk and the next best action: the
scoring stage (``streams.predictive.stage``) with the worker's settings.

The models load as the worker starts (a required model that cannot load stops it there) and a
timer looks for a new or changed model every ``predictive_model_reload_seconds``; a model that
fails to load is logged and counted (``timer.errors{predictive_models}``) and the last good one
keeps scoring. Every ``predictive_rescore_interval_seconds`` (0: never) persons whose scores
aged without a profile change, or came from older models, are rescored in batches
(``streams.predictive.rescoring``) from their profiles in ClickHouse. A personalisation model
adds recommendations and the best contact time to the next best action: the current version
of ``personalisation/`` in the model directory (``touchstream train personalisation``), else
an older single ``personalisation.npz``; the same timer serves a newer version, and a broken
one keeps the last good model. The worker reads a batch of
``customer.profiles`` into columns in one call (``streams.io.avro_profiles``, about 3 us a
profile) and scores it from them; a batch it cannot read so (or any, without numba)
goes message by message through the codec's compiled decoder (``streams.io.avro_fast``: the
same records, in about a third of fastavro's time)."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping
from typing import Any

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.io import avro_profiles
from streams.io.avro_fast import specialise
from streams.predictive import rescoring, rescoring_source, stage
from streams.predictive.contract import CUSTOMER_PROFILES
from streams.predictive.models import CHURN_MODEL, LEAD_MODEL, ModelSlot, clv_params
from streams.predictive.recommend_store import PersonalisationSlot
from streams.predictive.scoring import Models

log = logging.getLogger(__name__)


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    root = settings.predictive_model_dir
    lead = ModelSlot(root / LEAD_MODEL, required=settings.predictive_require_model,
                     contributions=settings.predictive_contributions)
    risk = ModelSlot(root / CHURN_MODEL, contributions=settings.predictive_contributions)
    clv = clv_params(root)
    personal = PersonalisationSlot(root)
    personal.refresh()  # an unreadable model stops the worker here, as a required lead model
    slots = (lead, risk)
    for slot in slots:
        slot.refresh()
    if lead.scorer is None:
        log.warning("no lead model (%s): lead scores come from the explained rules (rules-v1)",
                    lead.last_error)

    def models() -> Models:
        return Models(lead=lead.scorer, churn=risk.scorer, clv=clv,
                      personalisation=personal.model)

    async def reload_models() -> None:
        for slot in slots:
            failures = slot.failures
            try:
                slot.refresh()
            except Exception:
                log.exception("looking for a new model in %s failed", slot.root)
                runtime.counters.incr("timer.errors", "predictive_models")
                continue
            if slot.failures > failures:
                runtime.counters.incr("timer.errors", "predictive_models")
        failures = personal.failures
        try:
            personal.refresh()
        except Exception:
            log.exception("looking for a new personalisation model in %s failed", root)
        if personal.failures > failures:
            runtime.counters.incr("timer.errors", "predictive_models")

    app.timer(interval=settings.predictive_model_reload_seconds,
              name="predictive_models")(reload_models)
    read_batch = None
    if avro_profiles.available(runtime.codec):
        read_batch = avro_profiles.ProfileReader(runtime.codec).read
    else:
        log.info("customer.profiles read message by message: no compiled batch reader "
                 "(numba missing) or a schema it does not read")
    scoring = stage.stage(stage.ScoringPolicy(models, read_batch=read_batch))
    if settings.predictive_rescore_interval_seconds > 0:
        def query(sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
            return runtime.clickhouse.query(sql, params).dicts()

        rescore = rescoring.RescorePolicy(
            models=models, profiles=functools.partial(rescoring_source.profiles, query),
            source_topic=settings.topic(CUSTOMER_PROFILES),
            interval_ms=int(settings.predictive_rescore_interval_seconds * 1000))
        scoring = dataclasses.replace(scoring, timers=(*scoring.timers, rescoring.timer(rescore)))
    specialise(runtime.codec, CUSTOMER_PROFILES)  # its decoding costs more than the scoring
    return run_stage(app, runtime, scoring)
