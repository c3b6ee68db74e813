"""customer.profiles and customer.scores -> the workflows of ``schemas/workflows/`` ->
workflow.actions -> their targets: the workflows stage (``streams.workflows.stage``) and the
delivery stage (``streams.workflows.delivery``) with the worker's settings.

The definitions are loaded, and refused with their file and line when invalid, as the worker
starts. Scores are an input once the ``customer.scores`` manifest exists. The delivery's
outside targets are adapters here: the email platform's send API (``email_base_url``,
``email_api_key``) and the chat service's WebSocket (``ingest_url``, ``ingest_token``); a
target without its settings is not configured and its actions fail ``no_target``. The
adapters are synchronous with short timeouts (the step that calls them is), send the action
id as the request id, and raise ``TargetUnavailable`` for what a retry may cure (no answer,
429, 5xx, 401/403: a key being rotated), so the batch waits with back-off."""

from __future__ import annotations

import dataclasses
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import faust
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.settings import Settings
from streams.workflows import contract, delivery, stage
from streams.workflows.definitions import load_dir
from streams.workflows.delivery import Request, Response, TargetUnavailable

log = logging.getLogger(__name__)
TIMEOUT_S: Final = 5.0
#: the workflows stage's longest wait for a partial step and between writes: more, smaller
#: writes (up to 10 a second under live traffic) for actions well within a second. Measured
#: at 100 triggers/s (benchmarks.workflows_latency, same commit, two runs each): 0.2/0.25 s
#: p50 303-313 ms and 2.95-3.0 ms of worker CPU a trigger; 0.1/0.1 s 126-147 ms and 3.9 ms;
#: 0.05/0.05 s 106-125 ms and 4.8-4.9 ms (p99 follows the machine's load in all three)
STEP_WAIT_S: Final = 0.1
WRITE_INTERVAL_S: Final = 0.1
#: answers a retry may cure: the batch waits instead of failing the action
_RETRY_STATUS: Final = frozenset({401, 403, 408, 409, 425, 429})


class EmailPlatform:
    """SendGrid v3 ``POST /v3/mail/send``, the action id as ``Idempotency-Key``."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.url = base_url.rstrip("/") + "/v3/mail/send"
        self.api_key = api_key

    def send(self, request: Request) -> Response:
        call = urllib.request.Request(
            self.url, data=json.dumps(request.body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.api_key}",
                     "Content-Type": "application/json", "Idempotency-Key": request.action_id})
        try:
            with urllib.request.urlopen(call, timeout=TIMEOUT_S) as answer:
                return Response(True, answer.headers.get("X-Message-Id", ""))
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in _RETRY_STATUS:
                raise TargetUnavailable("email", f"HTTP {exc.code}") from exc
            return Response(False, f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}")
        except (urllib.error.URLError, OSError) as exc:
            raise TargetUnavailable("email", str(exc)) from exc


class ChatService:
    """The chat service's WebSocket: one connection, opened on demand, reopened after a
    failure; each proactive frame waits for its acknowledgement."""

    def __init__(self, url: str, token: str, token_in_query: bool) -> None:
        if token_in_query:
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode({"token": token})) if q)
            url = urlunsplit(parts._replace(query=query))
        self.url = url
        self.headers = None if token_in_query else {"Authorization": f"Bearer {token}"}
        self.connection: ClientConnection | None = None

    def send(self, request: Request) -> Response:
        try:
            if self.connection is None:
                # held open across batches (closed by ``close``), not one ``with`` block
                self.connection = connect(self.url, additional_headers=self.headers,
                                          open_timeout=TIMEOUT_S, proxy=None).__enter__()
            self.connection.send(json.dumps(request.body))
            while True:
                answer = json.loads(self.connection.recv(timeout=TIMEOUT_S))
                if answer.get("message_id") == request.action_id or answer.get(
                        "ref") == request.action_id:
                    break
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            self.close()
            raise TargetUnavailable("chat", str(exc) or type(exc).__name__) from exc
        if answer.get("type") == "proactive_ack":
            return Response(True, "duplicate" if answer.get("duplicate") else "accepted")
        return Response(False, str(answer.get("message") or answer))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Targets:
    """The configured outside targets, as the delivery stage's ``Perform``."""

    def __init__(self, settings: Settings) -> None:
        self.email: EmailPlatform | None = None
        self.chat: ChatService | None = None
        if settings.email_api_key is not None:
            self.email = EmailPlatform(settings.email_base_url,
                                       settings.email_api_key.get_secret_value())
        if settings.ingest_url and settings.ingest_token is not None:
            self.chat = ChatService(settings.ingest_url, settings.ingest_token.get_secret_value(),
                                    settings.ingest_token_in_query)

    @property
    def configured(self) -> frozenset[str]:
        return frozenset(name for name, on in (("email", self.email), ("chat", self.chat)) if on)

    def perform(self, requests: Sequence[Request]) -> list[Response]:
        out: list[Response] = []
        for request in requests:
            target = self.email if request.target == "email" else self.chat
            if target is None:  # configured targets only reach here
                raise TargetUnavailable(request.target, "not configured")
            out.append(target.send(request))
        return out


def register(app: faust.App, runtime: Runtime) -> tuple[BatchTopic, BatchTopic]:
    settings = runtime.settings
    scores = contract.CUSTOMER_SCORES in runtime.codec.topics
    policy = stage.WorkflowStagePolicy(
        workflows=load_dir(), source_topic=settings.topic(contract.CUSTOMER_PROFILES),
        scores_topic=settings.topic(contract.CUSTOMER_SCORES) if scores else None)
    targets = Targets(settings)
    log.info("workflow delivery targets: %s", ", ".join(sorted(targets.configured)) or "none "
             "outside Kafka and ClickHouse (email and chat actions fail no_target)")
    deliver = delivery.DeliveryPolicy(targets=targets.configured)
    return (run_stage(app, prompt(runtime), stage.stage(policy),
                      positions_of=stage.POSITIONS_OF),
            run_stage(app, runtime, delivery.stage(deliver, targets.perform)))


def prompt(runtime: Runtime) -> Runtime:
    """The runtime with the workflows stage's own step wait and write interval (at most
    ``STEP_WAIT_S`` and ``WRITE_INTERVAL_S``): a trigger waits for at most these two before
    its actions are written; the worker's defaults (0.2 s and 0.25 s) were most of a trigger's
    time to action on an idle machine. Counters, latencies, guards, sink and publisher stay
    shared."""
    settings = runtime.settings
    own = settings.model_copy(update={
        "batch_max_seconds": min(settings.batch_max_seconds, STEP_WAIT_S),
        "write_interval_seconds": min(settings.write_interval_seconds, WRITE_INTERVAL_S)})
    return dataclasses.replace(runtime, settings=own)
