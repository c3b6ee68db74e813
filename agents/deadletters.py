"""chat.events.dlq -> the ``dead_letters`` table, for input refused at ingest."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.ingest import stage


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    return run_stage(app, runtime, stage.stage())
