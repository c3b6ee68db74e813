"""Run SQL where the data is: against ClickHouse directly, or through the running worker.

The embedded engine admits one process per data directory; while a worker holds it, queries
go to the worker's HTTP view instead (``/sql``, a read-only session), with the bearer token of
``TOUCHSTREAM_WEB_TOKEN`` when one is set. Directly, queries keep the caller's own client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from streams.io.clickhouse import ClickHouse, QueryResult
from streams.io.errors_hint import hinted
from streams.io.insights import run_insight
from streams.settings import Settings


class QueryError(RuntimeError):
    pass


def worker_url(settings: Settings) -> str:
    host = settings.web_host if settings.web_host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.web_port}"


def worker_alive(settings: Settings, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(worker_url(settings) + "/health", timeout=timeout) as resp:
            body = json.loads(resp.read())
    except (OSError, ValueError):
        return False
    return bool(body.get("app_id") == settings.app_id)


def _request(settings: Settings, path: str, payload: Mapping[str, Any] | None) -> QueryResult:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if settings.web_token is not None:
        headers["authorization"] = f"Bearer {settings.web_token.get_secret_value()}"
    req = urllib.request.Request(worker_url(settings) + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        message = str(body.get("error", exc))
        if exc.code == 401:
            message += ("; set TOUCHSTREAM_WEB_TOKEN to a read token "
                        "(`touchstream ingest token --role read --sub <you>`)")
        raise QueryError(message) from exc
    return QueryResult(tuple(body["columns"]), [tuple(r) for r in body["rows"]])


class Querier:
    """Query through the worker when it holds the embedded engine, else directly."""

    def __init__(self, settings: Settings, *, prefer_worker: bool = True) -> None:
        self.settings = settings
        self.via_worker = (
            prefer_worker and settings.embedded_clickhouse and worker_alive(settings)
        )
        self._direct: ClickHouse | None = None

    def _client(self) -> ClickHouse:
        if self._direct is None:
            self._direct = ClickHouse.from_settings(self.settings)
        return self._direct

    def sql(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        if self.via_worker:
            return _request(self.settings, "/sql", {"sql": sql, "parameters": parameters or {}})
        return hinted(self._client().query, sql, parameters)

    def insight(self, name: str, params: Mapping[str, str]) -> QueryResult:
        if self.via_worker:
            query = urllib.parse.urlencode(dict(params))
            return _request(self.settings, f"/insights/{name}?{query}", None)
        return hinted(run_insight, self._client(), name, params)

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
