"""The worker refuses to start beyond loopback without a secret, before building anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import agents.app
from agents.web import WebConfigError
from streams.settings import Settings


def test_run_worker_refuses_before_it_builds_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[bool] = []

    def create_app(*args: Any, **kwargs: Any) -> Any:
        built.append(True)
        raise RuntimeError("stop here: the app would be built and bound")

    monkeypatch.setattr(agents.app, "create_app", create_app)
    with pytest.raises(WebConfigError, match="TOUCHSTREAM_WEB_SECRET"):
        agents.app.run_worker(Settings(web_host="0.0.0.0"))
    assert built == []
    # with a secret (or on loopback) it goes on to build the app
    with pytest.raises(RuntimeError, match="stop here"):
        agents.app.run_worker(Settings(web_host="0.0.0.0", web_secret="s"))
    with pytest.raises(RuntimeError, match="stop here"):
        agents.app.run_worker(Settings(web_host="127.0.0.1"))
    assert built == [True, True]


def test_the_workers_own_files_go_under_the_local_state_dir_made_on_a_fresh_clone(
        tmp_path: Path) -> None:
    state = tmp_path / "fresh" / ".local"  # nothing of it exists yet
    app, _ = agents.app.create_app(Settings(local_state_dir=state, app_id="a1"))
    app._create_directories()  # what the worker does at start (Faust makes one level each)
    assert (state / "worker" / "a1").is_dir()
    assert str(app.conf.datadir) == str(state / "worker" / "a1")
