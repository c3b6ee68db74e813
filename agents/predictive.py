"""customer.profiles -> lead scores, lifetime value, churn risk and the next best action: the
scoring stage (``streams.predictive.stage``) with the worker's settings.

The models load as the worker starts (a required model that cannot load stops it there) and a
timer looks for a new or changed model every ``predictive_model_reload_seconds``; a model that
fails to load is logged and counted (``timer.errors{predictive_models}``) and the last good one
keeps scoring."""

from __future__ import annotations

import logging

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.predictive import stage
from streams.predictive.models import CHURN_MODEL, LEAD_MODEL, ModelSlot, clv_params
from streams.predictive.scoring import Models

log = logging.getLogger(__name__)


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    root = settings.predictive_model_dir
    lead = ModelSlot(root / LEAD_MODEL, required=settings.predictive_require_model,
                     contributions=settings.predictive_contributions)
    risk = ModelSlot(root / CHURN_MODEL, contributions=settings.predictive_contributions)
    clv = clv_params(root)
    slots = (lead, risk)
    for slot in slots:
        slot.refresh()
    if lead.scorer is None:
        log.warning("no lead model (%s): lead scores come from the explained rules (rules-v1)",
                    lead.last_error)

    def models() -> Models:
        return Models(lead=lead.scorer, churn=risk.scorer, clv=clv)

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

    app.timer(interval=settings.predictive_model_reload_seconds,
              name="predictive_models")(reload_models)
    return run_stage(app, runtime, stage.stage(stage.ScoringPolicy(models)))
