"""Stopping the worker on an error no retry can fix, without hanging on the way out.

mode's ``Service.crash`` marks every service of the worker crashed at once, the Kafka
consumer's thread and its method queue among them: they stop on their own, racing the app's
shutdown, in which the consumer commits what is durable through that very thread. When the
thread had gone first, the commit was never answered and the worker hung instead of
stopping (the dead-letter limit's integration test, about one run in ten, whenever offsets
were acknowledged and not yet committed when the limit tripped). Here only the worker, the
root service, is marked crashed: it stops its services in order, as on SIGTERM (the
consumer commits what is durable and leaves the group while its thread still runs), then
re-raises the error, so the process exits non-zero with it in its log.

Invariants:
- The messages of the step or write that failed are released, not acknowledged: their
  offsets are never committed, they are read again after a restart, and the shutdown does
  not wait for them (Faust's ``wait_empty`` waits for every message taken and not acked).
- The first error stops the worker; later ones (every write after a failed one fails too)
  only release their messages.
- Outside a mode ``Worker`` (an app driven by a test) it falls back to mode's crash.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import faust
import mode
from faust.types import Message

from agents.runtime.transport import release

log = logging.getLogger(__name__)


async def stop_worker(app: faust.App, error: BaseException,
                      messages: Sequence[Message] = ()) -> None:
    """Stop the worker that runs ``app`` because of ``error``; ``messages``: those of the
    failed step or write, released unacknowledged."""
    release(app.consumer, messages)
    root = app.beacon.root.data if app.beacon.root is not None else None
    if not isinstance(root, mode.Worker):
        await app.crash(error)
        return
    if root.crash_reason is not None:
        return
    root.crash_reason = error  # re-raised by the worker once every service has stopped
    # mode's own crash, for the root alone: the worker's wait for its services ends and it
    # stops them in order (mode.Worker.stop_and_shutdown)
    root._crashed.set()
