"""touchpoints, conversions, crm.profiles -> identity resolution -> profiles and attribution:
the customer domain's three stages (``streams.customer.inputs_stage``, ``identity_stage``,
``profile_stage``) with the worker's settings, the scheduled Markov and Shapley attribution
(``attribution_stage``) unless its interval is 0, and the scheduled probabilistic matching of
the CRM records (``matching_stage``, the job of ``touchstream identity match``) unless its
interval is 0."""

from __future__ import annotations

import functools

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.customer import (
    attribution_run,
    attribution_stage,
    contract,
    identity_stage,
    inputs_stage,
    matching_stage,
    profile_stage,
    split_events,
)
from streams.customer.attribution import DAY_MS
from streams.customer.profile import ProfilePolicy
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
from streams.ops import identity as identity_ops
from streams.settings import Settings


def register(app: faust.App, runtime: Runtime) -> tuple[BatchTopic, ...]:
    settings = runtime.settings
    salt = settings.customer_hash_salt
    if settings.customer_hash_identifiers and salt is None:
        raise ValueError("customer_hash_identifiers needs customer_hash_salt")
    inputs = inputs_stage.InputsPolicy(
        hash_salt=salt.get_secret_value().encode() if settings.customer_hash_identifiers
        and salt is not None else None,
        sources=tuple((settings.topic(t), t)
                      for t in (*contract.INPUTS, contract.CONVERSATION_INSIGHTS)))
    profiles = profile_stage.ProfileStagePolicy(
        profile=ProfilePolicy(recent_limit=settings.customer_recent_interactions,
                              lookback_ms=int(settings.customer_lookback_days * DAY_MS)),
        half_life_ms=settings.customer_half_life_days * DAY_MS,
        history=split_events.reader(runtime.clickhouse.query))
    stages = [run_stage(app, runtime, inputs_stage.stage(inputs)),
              run_stage(app, runtime, identity_stage.stage(identity_stage.IdentityStagePolicy())),
              run_stage(app, runtime, profile_stage.stage(profiles))]
    if settings.customer_attribution_interval_minutes > 0:  # Markov and Shapley, hourly
        stages.append(run_stage(app, runtime, attribution_stage.stage(
            attribution_stage.SchedulePolicy(
                interval_ms=int(settings.customer_attribution_interval_minutes * 60_000),
                window_ms=int(settings.customer_attribution_window_days * DAY_MS),
                run=attribution_run.RunPolicy(
                    orders=tuple(settings.customer_attribution_orders),
                    lookback_ms=int(settings.customer_lookback_days * DAY_MS),
                    replicates=settings.customer_attribution_replicates)),
            load=functools.partial(attribution_run.load, runtime.clickhouse.query))))
    if settings.customer_matching_interval_minutes > 0:
        stages.append(run_stage(app, runtime, matching_stage.stage(
            matching_stage.MatchingSchedule(
                interval_ms=int(settings.customer_matching_interval_minutes * 60_000)),
            functools.partial(match_job, settings))))
    return tuple(stages)


def match_job(settings: Settings, now_ms: int) -> list[OutputRecord]:
    """One run of ``touchstream identity match``, its observations returned to be published
    by the stage (the worker's own store, read directly: it holds the embedded engine)."""
    querier = Querier(settings, prefer_worker=False)
    try:
        run = identity_ops.match(querier)
    finally:
        querier.close()
    return [identity_ops.match_record(m, now_ms) for m in run.matches]
