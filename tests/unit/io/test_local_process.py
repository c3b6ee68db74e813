"""The local-service process handling the broker and the registry share: PID files, readiness,
stopping by PID only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streams.io import local_process
from streams.io.local_process import Service


class Failed(RuntimeError):
    pass


def _service(tmp_path: Path) -> Service:
    return Service("test service", tmp_path / "svc.pid", tmp_path / "logs" / "svc.log")


def test_a_started_service_is_known_by_its_pid_and_stopped_by_it(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    proc = local_process.spawn(svc, [sys.executable, "-c", "import time; time.sleep(60)"])
    assert local_process.read_pid(svc) == proc.pid
    local_process.wait_ready(svc, proc, lambda: True, 5, Failed)
    assert local_process.stop(svc, timeout=10)
    assert proc.poll() is not None
    assert not svc.pid_file.exists()
    assert local_process.stop(svc) is False  # nothing left to stop


def test_a_stale_pid_file_counts_as_not_running(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    svc.pid_file.write_text(f"{done.pid}\n")
    assert local_process.read_pid(svc) is None
    svc.pid_file.write_text("not a pid\n")
    assert local_process.read_pid(svc) is None


def test_an_exit_during_start_up_fails_at_once_with_the_log_tail(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    proc = local_process.spawn(svc, [sys.executable, "-c",
                                     "import sys; print('port in use'); sys.exit(3)"])
    with pytest.raises(Failed, match="exited during start-up:\nport in use"):
        local_process.wait_ready(svc, proc, lambda: False, 30, Failed)


def test_a_service_that_never_answers_times_out(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    proc = local_process.spawn(svc, [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(Failed, match="did not answer within 1 s"):
            local_process.wait_ready(svc, proc, lambda: False, 1, Failed)
    finally:
        local_process.stop(svc, timeout=10)
