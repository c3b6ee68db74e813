"""The worker's HTTP views (bound to loopback by default).

The embedded ClickHouse engine admits one process per data directory, so in embedded mode the
worker is where analysts' queries run: ``POST /sql`` and ``GET /insights/{name}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import uuid
from typing import Any

import faust
from faust.web import Request, Response, View

from agents.runtime.core import Runtime
from streams.io.clickhouse import QueryResult
from streams.io.insights import run_insight


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def result_json(result: QueryResult) -> dict[str, Any]:
    return {
        "columns": list(result.column_names),
        "rows": [[_jsonable(v) for v in row] for row in result.rows],
    }


def register(app: faust.App, runtime: Runtime) -> None:
    async def in_thread(fn: Any, *args: Any) -> QueryResult:
        result: QueryResult = await asyncio.get_running_loop().run_in_executor(None, fn, *args)
        return result

    @app.page("/sql")
    class Sql(View):  # type: ignore[misc]
        async def post(self, request: Request) -> Response:
            body = await request.json()
            try:
                result = await in_thread(
                    runtime.clickhouse.query, body["sql"], body.get("parameters") or None
                )
            except Exception as exc:
                return self.json({"error": str(exc)}, status=400)
            return self.json(result_json(result))

    @app.page("/insights/{name}")
    class Insight(View):  # type: ignore[misc]
        async def get(self, request: Request, name: str) -> Response:
            params = {k: v for k, v in request.query.items()}
            try:
                result = await in_thread(run_insight, runtime.clickhouse, name, params)
            except Exception as exc:
                return self.json({"error": str(exc)}, status=400)
            return self.json(result_json(result))

    @app.page("/stats")
    class Stats(View):  # type: ignore[misc]
        async def get(self, request: Request) -> Response:
            return self.json({"counters": runtime.counters.snapshot(),
                              "latency_ms": runtime.latencies.snapshot(),
                              "table_keys": {name: len(table.data)
                                             for name, table in app.tables.items()}})

    @app.page("/health")
    class Health(View):  # type: ignore[misc]
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok", "app_id": runtime.settings.app_id})
