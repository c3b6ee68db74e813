"""The fault scenarios run real workers against a real broker and the embedded engine, for
minutes each: ``make faults`` runs them (marker ``faults``), ``make test`` leaves them out.
They use the integration fixtures and reach the network like the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import broker, pipeline

__all__ = ["broker", "pipeline"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run only when asked for by marker (``-m faults``): ``make unit`` (``-m "not
    integration"``) and a plain ``pytest`` must not start minutes of fault runs."""
    chosen = str(config.getoption("-m") or "")
    if "faults" in chosen and "not faults" not in chosen:
        return
    skip = pytest.mark.skip(reason="a fault scenario: run with `make faults` (-m faults)")
    for item in items:
        if item.get_closest_marker("faults") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests() -> Iterator[None]:
    """The scenarios talk to the brokers and workers they start (overrides the unit guard)."""
    yield
