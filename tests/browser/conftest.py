"""Browser tests: the integration fixtures (real broker, a worker per test) and Debian's
chromium driven by Playwright (``make install`` puts chromium in place)."""

from __future__ import annotations

from tests.integration.conftest import broker, pipeline

__all__ = ["broker", "pipeline"]
