"""customer.profiles -> the workflows of ``schemas/workflows/`` -> workflow.actions: the
workflows stage (``streams.workflows.stage``) with the worker's settings. The definitions
are loaded, and refused with their file and line when invalid, as the worker starts."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.workflows import contract, stage
from streams.workflows.definitions import load_dir


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    policy = stage.WorkflowStagePolicy(
        workflows=load_dir(), source_topic=runtime.settings.topic(contract.CUSTOMER_PROFILES))
    return run_stage(app, runtime, stage.stage(policy))
