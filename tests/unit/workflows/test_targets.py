"""The delivery's outside targets as the worker reaches them (``agents.workflows``), against
the simulators on loopback: the email platform's send API and the chat service's proactive
frames, each performed once per request id; unreachable or overloaded is ``Unavailable``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from agents.workflows import ChatService, EmailPlatform
from streams.ingest.tokens import issue
from streams.kernel.errors import Unavailable
from streams.simulators import chat_service, platforms
from streams.workflows.delivery import Request
from tests.unit.workflows.helpers import chat_service_running

pytestmark = pytest.mark.integration  # loopback servers, no broker

SECRET = "s" * 32


def email(action_id: str, to: str = "ann@example.com") -> Request:
    return Request(action_id, "email", {"personalizations": [{"to": [{"email": to}]}],
                                        "from": {"email": "noreply@example.com"},
                                        "template_id": "retention_offer"})


def test_the_email_platform_sends_once_per_request_id() -> None:
    with platforms.running() as sim:
        target = EmailPlatform(sim.url, platforms.TOKEN)
        first = target.send(email("a:p1:1:0"))
        again = target.send(email("a:p1:1:0"))
        assert first.ok and again.ok and first.detail == again.detail != ""
        assert list(sim.sends) == ["a:p1:1:0"] and sim.send_requests == 2
        assert sim.sends["a:p1:1:0"]["to"] == "ann@example.com"
        refused = target.send(email("a:p2:1:0", to="not-an-address"))
        assert not refused.ok and refused.detail.startswith("HTTP 400")
        sim.fail_next.append(503)
        with pytest.raises(Unavailable):
            target.send(email("a:p3:1:0"))
        sim.fail_next.append(429)
        with pytest.raises(Unavailable):
            target.send(email("a:p3:1:0"))
        assert target.send(email("a:p3:1:0")).ok and len(sim.sends) == 2
        with pytest.raises(Unavailable):  # a wrong key waits for the right one
            EmailPlatform(sim.url, "wrong").send(email("a:p4:1:0"))
    with pytest.raises(Unavailable):  # nobody listening
        EmailPlatform(sim.url, platforms.TOKEN).send(email("a:p5:1:0"))


@pytest.fixture
def service() -> Iterator[chat_service.ChatService]:
    with chat_service_running(SECRET) as running:
        yield running


def chat(action_id: str) -> Request:
    return Request(action_id, "chat", {"type": "proactive", "message_id": action_id,
                                       "person_id": "p1", "message": "mql_welcome",
                                       "team": "sales", "workflow_id": "mql_proactive_chat"})


def test_the_chat_service_records_a_proactive_message_once(
        service: chat_service.ChatService) -> None:
    token = issue("touchstream", "chat_service", 600, SECRET, time.time())
    target = ChatService(f"ws://127.0.0.1:{service.port}", token, token_in_query=False)
    try:
        assert target.send(chat("m:p1:1:0")).detail == "accepted"
        assert target.send(chat("m:p1:1:0")).detail == "duplicate"
        assert target.send(chat("m:p1:2:0")).ok
    finally:
        target.close()
    assert list(service.proactive) == ["m:p1:1:0", "m:p1:2:0"]
    assert service.stats.proactive_frames == 3
    with pytest.raises(Unavailable):  # a token the service refuses
        ChatService(f"ws://127.0.0.1:{service.port}", "bad", False).send(chat("m:p1:3:0"))
