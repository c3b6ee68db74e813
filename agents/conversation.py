"""chat.events -> sentiment, conversation records, escalations, tasks and insights: the
conversation stage (``streams.conversation.stage``) with the worker's settings."""

from __future__ import annotations

from dataclasses import replace

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.conversation import contract, stage
from streams.conversation.escalation import DEFAULT_POLICY


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    policy = stage.ConversationPolicy(
        source_topic=settings.topic(contract.CHAT_EVENTS),
        inactivity_ms=int(settings.conversation_inactivity_seconds * 1000),
        retain_ms=int(settings.conversation_retention_seconds * 1000),
        timer_interval=settings.timer_interval_seconds,
        max_future_ms=int(settings.clock_skew_tolerance_seconds * 1000),
        escalation=replace(DEFAULT_POLICY,
                           follow_up_delay_ms=int(settings.follow_up_delay_seconds * 1000)),
    )
    return run_stage(app, runtime, stage.stage(policy))
