"""Embedded ClickHouse for tests: a fresh data directory per test, no Kafka.

The embedded engine hosts one data directory per process at a time; another one opens once
every client of the previous one is closed. So each fixture closes its engine at teardown, and
a test that opens a second ClickHouse on another path must close the first one beforehand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate


@pytest.fixture
def ch(tmp_path: Path) -> Iterator[ClickHouse]:
    clickhouse = ClickHouse(f"chdb://{tmp_path / 'clickhouse'}")
    try:
        yield clickhouse
    finally:
        clickhouse.close()


@pytest.fixture
def migrated(ch: ClickHouse) -> ClickHouse:
    migrate(ch)
    return ch
