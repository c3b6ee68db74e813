"""The campaigns page: KPIs, anomalies with their drill-down, pending recommendations."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from streams.io.readonly import ReadOnlyQueries


def register(app: faust.App, runtime: Runtime, readonly: ReadOnlyQueries) -> None:
    """Adds this module's routes to the worker's web server (none yet)."""
