"""The ClickHouse sink: one insert per table per batch, retried until it succeeds or cannot.

An insert that fails with ``Unavailable`` (connection, timeout, too many parts, memory, a
table detached...) is retried with exponential back-off and jitter, inside the agent's loop
body, so the batch's offsets are not acknowledged before ClickHouse has its rows. An insert
that fails with ``RowsRejected`` (the rows do not fit the table) or any other error is not
retried: it is logged with the table, the column and a sample row, and raised, which stops
the worker without acknowledging the batch; the rows are read again once the table or the
code is fixed. Inserts run in a dedicated thread; the embedded engine releases the GIL while
it works, so the event loop keeps consuming.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from streams.io.clickhouse import ClickHouse
from streams.kernel.errors import RowsRejected, Unavailable
from streams.kernel.metrics import Counters
from streams.kernel.records import Columns

log = logging.getLogger(__name__)


class Sink:
    def __init__(
        self,
        clickhouse: ClickHouse,
        counters: Counters,
        *,
        retry_initial_seconds: float = 0.2,
        retry_max_seconds: float = 10.0,
    ) -> None:
        self.clickhouse = clickhouse
        self.counters = counters
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        # one thread per table of a batch; batches are sequential, so each table still
        # receives its inserts in order
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clickhouse-sink")

    async def write(self, inserts: Mapping[str, Columns]) -> None:
        """Insert every non-empty table of the batch, concurrently (the engine works outside
        the GIL); returns only when all are in."""
        pending = []
        for table, columns in inserts.items():
            rows = len(next(iter(columns.values()), []))
            if rows:
                pending.append(self._insert(table, columns, rows))
        if pending:
            await asyncio.gather(*pending)

    async def _insert(self, table: str, columns: Columns, rows: int) -> None:
        loop = asyncio.get_running_loop()
        delay = self.retry_initial_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                await loop.run_in_executor(self._executor, self.clickhouse.insert, table, columns)
            except RowsRejected as exc:
                log.error("insert of %d rows into %s refused; no retry can fix it, stopping: %s",
                          rows, table, exc)
                raise
            except Unavailable as exc:  # the engine cannot take them now: retry, never drop
                self.counters.incr("insert.retries", table)
                log.warning(
                    "insert of %d rows into %s failed (attempt %d), retrying in %.1fs: %s",
                    rows, table, attempt, delay, exc,
                )
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.retry_max_seconds)
                continue
            self.counters.incr("inserts", table)
            self.counters.incr("rows.inserted", table, rows)
            if attempt > 1:
                log.info("insert into %s succeeded after %d attempts", table, attempt)
            return

    def close(self) -> None:
        self._executor.shutdown(wait=True)
