"""A worker stopped by an error no retry can fix stops, in order, and exits with the error.

The intermittent failure of the dead-letter limit's integration test: the limit tripped, the
agent crashed the app (mode's ``Service.crash``), which marks every service crashed at once.
The Kafka consumer's thread then stopped on its own while the app's shutdown was still
waiting for the writes in flight; the commit it then asked of that thread was never
answered, and the worker hung at "Wait for streams..." until it was killed (a task dump
showed the main loop idle, waiting for the commit). ``stop_worker`` marks only the worker
crashed: it stops its services in order, the thread answers the shutdown's commit, and the
error is re-raised at the end.

The worker here is mode's own: an app whose ``on_stop`` waits (the writes in flight), then
asks its thread for something (the commit), as Faust's app does.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

from agents.runtime import fatal
from tests.unit.runtime.test_commit_frontier import message
from tests.unit.runtime.test_release import tracking

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    import mode
    from mode.threads import QueueServiceThread
    from agents.runtime.fatal import stop_worker

    class App(mode.Service):
        consumer = None

        def __init__(self) -> None:
            super().__init__()
            self.thread = QueueServiceThread(loop=self.loop, beacon=self.beacon)

        def on_init_dependencies(self):
            return [self.thread]

        async def on_stop(self) -> None:
            await asyncio.sleep(2.5)  # the writes in flight: the thread has had time to go
            try:
                answer = await asyncio.wait_for(self.thread.call_thread(self.commit), 5)
            except BaseException as exc:
                answer = f"no answer ({type(exc).__name__})"
            print(f"commit: {answer}", flush=True)

        async def commit(self) -> str:
            return "answered"

        @mode.Service.task
        async def fail(self) -> None:
            await asyncio.sleep(0.3)
            error = RuntimeError("dead-letter limit exceeded")
            if sys.argv[1] == "mode":
                await self.crash(error)
            else:
                await stop_worker(self, error)
            await stop_worker(self, RuntimeError("a second error"))  # ignored

    worker = mode.Worker(App(), loglevel="WARNING")
    try:
        worker.execute_from_commandline()
    finally:
        print(f"exited with {worker.crash_reason!r}", file=sys.__stdout__, flush=True)
""")


def run(how: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True,
                          timeout=60)


def test_stop_worker_stops_in_order_and_exits_with_the_error() -> None:
    done = run("stop_worker")
    out = done.stdout + done.stderr
    assert "commit: answered" in out, out
    assert done.returncode != 0
    assert "exited with RuntimeError('dead-letter limit exceeded')" in out, out


def test_modes_crash_stops_the_thread_before_the_app_asks_it_to_commit() -> None:
    """Why: with mode's crash the thread is gone when the app's shutdown needs it."""
    done = run("mode")
    out = done.stdout + done.stderr
    assert "commit: answered" not in out, out


def test_the_failed_steps_messages_are_released_not_acknowledged() -> None:
    one = tracking()
    taken = [message(o) for o in (7, 8)]
    for m in taken:
        m.incref()
        one.track_message(m)

    class App:
        consumer = one
        beacon: Any = type("Beacon", (), {"root": None})()

        async def crash(self, error: BaseException) -> None:
            self.crashed = error

    app: Any = App()
    error = RuntimeError("boom")
    asyncio.run(fatal.stop_worker(app, error, taken))
    assert app.crashed is error  # outside a worker: mode's crash
    assert not one._unacked_messages  # the shutdown waits for none of them
    assert one._n_acked == 0  # and none counts as acknowledged
