"""A local JVM service for development, tests and the demo (the broker, the schema registry),
run in the background and known by the PID file written when it was started.

Invariants:
- a service is stopped by the PID recorded at its start, never by name: another process that
  happens to run the same program is never touched;
- a PID whose process has exited (our own child included: a zombie still answers
  ``kill(pid, 0)``) counts as not running, so a stale PID file never blocks a start;
- starting waits until the service answers (``ready``), and fails with the tail of its log as
  soon as the process exits, instead of waiting for the whole timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Service:
    """Where a local service keeps its PID and its log; ``what`` names it in errors."""

    what: str
    pid_file: Path
    log_file: Path


def alive(pid: int) -> bool:
    # reap it if it is our own exited child (a zombie still answers kill(pid, 0))
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(service: Service) -> int | None:
    """The PID of the running service, or None (no PID file, or its process has exited)."""
    try:
        pid = int(service.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def spawn(service: Service, command: Sequence[str], cwd: Path | None = None
          ) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to the log; record its PID."""
    service.log_file.parent.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log:
        proc = subprocess.Popen(list(command), cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    service.pid_file.write_text(f"{proc.pid}\n")
    return proc


def wait_ready(service: Service, proc: subprocess.Popen[bytes] | None,
               ready: Callable[[], bool], timeout: float, error: type[Exception]) -> None:
    """Return once ``ready()``; raise ``error`` with the log's tail if the process exits (the
    one started here, ``proc``, or the one of the PID file), or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        exited = proc.poll() is not None if proc is not None else read_pid(service) is None
        if exited:
            tail = (service.log_file.read_text(errors="replace")[-3000:]
                    if service.log_file.exists() else "")
            raise error(f"the {service.what} exited during start-up:\n{tail}")
        time.sleep(0.5)
    raise error(f"the {service.what} did not answer within {timeout:.0f} s; "
                f"see {service.log_file}")


def stop(service: Service, timeout: float = 30.0) -> bool:
    """SIGTERM the recorded process, SIGKILL it after ``timeout``; True if one was running."""
    pid = read_pid(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and read_pid(service) is not None:
        time.sleep(0.2)
    if read_pid(service) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return True
