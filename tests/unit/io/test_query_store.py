"""``touchstream sql`` answers from the store it names: a worker of the same app that holds
another store is not asked; a store locked by another process is refused clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streams.io import query
from streams.io.clickhouse import ClickHouse, QueryResult
from streams.settings import Settings

WORKER_ANSWER = QueryResult(("answer",), [("from the worker",)])


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A worker of the app on the web port; its /health says the store in ``health``."""
    health: dict[str, Any] = {"status": "ok", "app_id": Settings().app_id}
    monkeypatch.setattr(query, "worker_health", lambda settings, timeout=1.0: health)
    monkeypatch.setattr(query, "_request", lambda settings, path, payload: WORKER_ANSWER)
    return health


def test_store_of_names_a_directory_whatever_its_spelling(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert query.store_of(f"chdb://{tmp_path}/link") == query.store_of(
        f"chdb://{tmp_path}/x/../real")
    assert query.store_of("http://u:secret@ch.local:8123/analytics") == (
        "http://ch.local:8123/analytics")


def test_a_worker_holding_another_store_is_not_asked(tmp_path: Path,
                                                     worker: dict[str, Any]) -> None:
    worker["store"] = query.store_of(f"chdb://{tmp_path / 'worker-store'}")
    other = tmp_path / "other"
    ch = ClickHouse(f"chdb://{other}")
    ch.command("CREATE TABLE marker (answer String) ENGINE = MergeTree ORDER BY answer")
    ch.command("INSERT INTO marker VALUES ('from the store asked about')")
    ch.close()
    querier = query.Querier(Settings(clickhouse_url=f"chdb://{other}"))
    try:
        assert not querier.via_worker
        assert querier.sql("SELECT answer FROM marker").rows == [("from the store asked about",)]
    finally:
        querier.close()


def test_the_worker_holding_the_store_is_asked(tmp_path: Path, worker: dict[str, Any]) -> None:
    worker["store"] = query.store_of(f"chdb://{tmp_path / 'store'}")
    querier = query.Querier(Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}"))
    assert querier.via_worker
    assert querier.sql("SELECT 1") == WORKER_ANSWER


def test_an_older_worker_that_does_not_say_is_not_asked(tmp_path: Path,
                                                        worker: dict[str, Any]) -> None:
    querier = query.Querier(Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}"))
    assert not querier.via_worker


def test_a_store_locked_by_another_worker_is_refused_clearly(
        tmp_path: Path, worker: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    worker["store"] = query.store_of(f"chdb://{tmp_path / 'worker-store'}")

    def locked(settings: Settings) -> ClickHouse:
        raise RuntimeError("Code: 76. Another server instance in same directory is already "
                           "running")

    monkeypatch.setattr(ClickHouse, "from_settings", staticmethod(locked))
    querier = query.Querier(Settings(clickhouse_url=f"chdb://{tmp_path / 'asked'}"))
    with pytest.raises(query.QueryError) as refused:
        querier.sql("SELECT 1")
    message = str(refused.value)
    assert query.store_of(f"chdb://{tmp_path / 'asked'}") in message
    assert "locked" in message and worker["store"] in message


def test_a_worker_too_busy_for_the_first_health_check_is_asked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"chdb://{tmp_path / 'held'}"
    settings = Settings(clickhouse_url=url)
    timeouts: list[float] = []

    def health(settings: Settings, timeout: float = 1.0) -> dict[str, Any] | None:
        timeouts.append(timeout)
        if timeout <= 1.0:
            return None  # the busy worker misses the short check
        return {"status": "ok", "app_id": settings.app_id, "store": query.store_of(url)}

    def locked(settings: Settings) -> ClickHouse:
        raise RuntimeError("Another server instance in same directory is already running")

    monkeypatch.setattr(query, "worker_health", health)
    monkeypatch.setattr(query, "_request", lambda settings, path, payload: WORKER_ANSWER)
    monkeypatch.setattr(ClickHouse, "from_settings", staticmethod(locked))
    querier = query.Querier(settings)
    assert not querier.via_worker
    assert querier.sql("SELECT 1") == WORKER_ANSWER
    assert querier.via_worker and timeouts[-1] > 1.0
    # no worker holds it after all: the refusal names the store
    monkeypatch.setattr(query, "worker_health", lambda settings, timeout=1.0: None)
    with pytest.raises(query.StoreLocked, match="locked by another process"):
        query.Querier(settings).sql("SELECT 1")


def test_a_store_another_process_holds_is_recognised_from_the_engines_own_error(
        tmp_path: Path) -> None:
    """The engine says only "Error initializing EmbeddedServer" when another process holds the
    store (the lock message goes to its stderr): the store's locked status file decides."""
    store = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, chdb.session as s\n"
         f"x = s.Session({str(store)!r}); x.query('SELECT 1'); print('ready', flush=True)\n"
         "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        url = f"chdb://{store}"
        refused = subprocess.run(
            [sys.executable, "-c", "import chdb.session as s\n"
             f"try:\n    s.Session({str(store)!r})\nexcept Exception as e:\n    print(e)"],
            capture_output=True, text=True, timeout=60)
        error = RuntimeError(refused.stdout.strip())
        assert "initializing EmbeddedServer" in str(error)
        assert query.store_locked(error, url)
        assert not query.store_locked(error, f"chdb://{tmp_path / 'nobody'}")
    finally:
        holder.kill()
        holder.wait()
    assert not query.store_locked(error, url)  # released with its holder
