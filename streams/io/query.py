"""Run SQL where the data is: against ClickHouse directly, or through the running worker.

The embedded engine admits one process per data directory; while a worker holds it, queries
go to the worker's HTTP view instead (``/sql``, a read-only session), with the bearer token of
``TOUCHSTREAM_WEB_TOKEN`` when one is set. Directly, queries keep the caller's own client.

Invariant: a query is answered from the store it names (``TOUCHSTREAM_CLICKHOUSE_URL``) and no
other. A worker is used only when its ``/health`` says it holds that very store (``store``,
as ``store_of`` names it); otherwise the store is opened directly, and when another process
holds its lock the query is refused with a message naming both stores.
"""

from __future__ import annotations

import fcntl
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from streams.io.clickhouse import ClickHouse, QueryResult
from streams.io.errors_hint import hinted
from streams.io.insights import run_insight
from streams.settings import Settings


class QueryError(RuntimeError):
    pass


class StoreLocked(QueryError):
    """The embedded store asked about is held by another process."""


def worker_url(settings: Settings) -> str:
    host = settings.web_host if settings.web_host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.web_port}"


def store_of(url: str) -> str:
    """The store a ClickHouse URL names, without credentials: ``chdb://<real path>`` (links
    and relative parts resolved, so two spellings of one directory compare equal) or
    ``http(s)://host:port/database``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "chdb":
        path = urllib.parse.unquote(parsed.path)
        query = f"?{parsed.query}" if parsed.query else ""
        return f"chdb://{os.path.realpath(path)}{query}"
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    database = parsed.path.strip("/") or "default"
    return f"{parsed.scheme}://{host}{port}/{database}"


def worker_health(settings: Settings, timeout: float = 1.0) -> dict[str, Any] | None:
    """The ``/health`` answer of a worker of this app on the configured web port, or None."""
    try:
        with urllib.request.urlopen(worker_url(settings) + "/health", timeout=timeout) as resp:
            body = json.loads(resp.read())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("app_id") != settings.app_id:
        return None
    return body


def worker_alive(settings: Settings, timeout: float = 1.0) -> bool:
    return worker_health(settings, timeout) is not None


def worker_holds_store(settings: Settings, timeout: float = 1.0) -> bool:
    """True when a worker of this app answers and holds the store ``settings`` name."""
    health = worker_health(settings, timeout)
    return health is not None and health.get("store") == store_of(
        settings.effective_clickhouse_url)


def store_locked(exc: BaseException, url: str) -> bool:
    """Whether ``exc`` is the embedded engine refusing ``url``'s store because another process
    holds it. The engine's own words ("Another server instance ... already running") reach
    only its stderr in some versions; the exception then says just "Error initializing
    EmbeddedServer", so that one counts only when the store's ``status`` file is locked."""
    text = str(exc)
    if "Another server instance" in text or "already running" in text:
        return True
    parsed = urllib.parse.urlparse(url)
    if "initializing EmbeddedServer" not in text or parsed.scheme != "chdb":
        return False
    status = os.path.join(urllib.parse.unquote(parsed.path), "status")
    try:
        fd = os.open(status, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True  # held by another process
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


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
    """Query through the worker when it holds the embedded store asked about, else directly."""

    def __init__(self, settings: Settings, *, prefer_worker: bool = True) -> None:
        self.settings = settings
        self.store = store_of(settings.effective_clickhouse_url)
        health = (worker_health(settings) if prefer_worker and settings.embedded_clickhouse
                  else None)
        #: the store the worker on the web port holds, when it is another one
        self.worker_store: str | None = None
        self.via_worker = health is not None and health.get("store") == self.store
        if health is not None and not self.via_worker:
            self.worker_store = str(health.get("store") or "an unnamed store (an older worker)")
        self._direct: ClickHouse | None = None

    def _refusal(self, exc: BaseException) -> StoreLocked:
        held = (f"; the worker on {worker_url(self.settings)} holds {self.worker_store}"
                if self.worker_store else "")
        return StoreLocked(
            f"{self.store} is locked by another process (a worker holds it){held}; "
            "query through the worker that holds it (its web port: TOUCHSTREAM_WEB_PORT) "
            "or stop that worker")

    def _client(self) -> ClickHouse:
        if self._direct is None:
            try:
                self._direct = ClickHouse.from_settings(self.settings)
            except Exception as exc:
                if store_locked(exc, self.settings.effective_clickhouse_url):
                    raise self._refusal(exc) from exc
                raise
        return self._direct

    def _direct_call(self, run: Callable[[], QueryResult]) -> QueryResult:
        try:
            return hinted(run)
        except QueryError:
            raise
        except Exception as exc:
            if store_locked(exc, self.settings.effective_clickhouse_url):
                raise self._refusal(exc) from exc
            raise

    def _worker_after_all(self) -> bool:
        """Whether the process holding the store is a worker of this app that was too busy to
        answer the first, short health check (a loaded machine): asked again, patiently."""
        health = worker_health(self.settings, timeout=15.0)
        self.via_worker = health is not None and health.get("store") == self.store
        return self.via_worker

    def sql(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        if not self.via_worker:
            try:
                return self._direct_call(lambda: self._client().query(sql, parameters))
            except StoreLocked:
                if not self._worker_after_all():
                    raise
        return _request(self.settings, "/sql", {"sql": sql, "parameters": parameters or {}})

    def insight(self, name: str, params: Mapping[str, str]) -> QueryResult:
        if not self.via_worker:
            try:
                return self._direct_call(lambda: run_insight(self._client(), name, params))
            except StoreLocked:
                if not self._worker_after_all():
                    raise
        query = urllib.parse.urlencode(dict(params))
        return _request(self.settings, f"/insights/{name}?{query}", None)

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
