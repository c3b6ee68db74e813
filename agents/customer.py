"""touchpoints, conversions, crm.profiles -> identity resolution -> profiles and attribution:
the customer domain's three stages (``streams.customer.inputs_stage``, ``identity_stage``,
``profile_stage``) with the worker's settings."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.customer import contract, identity_stage, inputs_stage, profile_stage
from streams.customer.attribution import DAY_MS
from streams.customer.profile import ProfilePolicy


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
        half_life_ms=settings.customer_half_life_days * DAY_MS)
    return (run_stage(app, runtime, inputs_stage.stage(inputs)),
            run_stage(app, runtime, identity_stage.stage(identity_stage.IdentityStagePolicy())),
            run_stage(app, runtime, profile_stage.stage(profiles)))
