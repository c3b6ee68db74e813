"""The customer views: the unified profile and timeline as JSON, and a page per customer."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from streams.io.readonly import ReadOnlyQueries


def register(app: faust.App, runtime: Runtime, readonly: ReadOnlyQueries) -> None:
    """Adds this module's routes to the worker's web server (none yet)."""
