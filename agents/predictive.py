"""customer.profiles -> lead scores, lifetime value, churn risk and the next best action: the
predictive domain's stages with the worker's settings (none wired yet)."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.transport import BatchTopic


def register(app: faust.App, runtime: Runtime) -> tuple[BatchTopic, ...]:
    return ()
