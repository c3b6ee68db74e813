"""Workflows that act, on the real broker with a worker process: profiles and scores in,
actions on ``workflow.actions`` and in ``workflow_actions``, and each action performed once
by the delivery stage: a CRM task on ``crm.tasks``, an audience member in
``audience_members`` and on ``audiences``, an email through the email platform's send API
and a proactive chat frame to the chat service (both simulators, on loopback, record what
they get); an action record produced again is not performed again."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from streams.ingest.tokens import issue
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from streams.simulators import platforms
from streams.simulators.chat_service import ChatService
from streams.workflows import contract as names
from streams.workflows.fields import sha256_of
from tests.integration.conftest import Pipeline
from tests.unit.workflows.helpers import chat_service_running, profile, score

pytestmark = pytest.mark.integration

SECRET = "w" * 32
NOW = int(time.time() * 1000)
CONSENT = {"consent_email": "true", "consent_ads": "true", "timezone": "UTC"}


def person(pid: str, stage: str, version: int = 1) -> dict[str, Any]:
    return {**profile(pid, version, NOW - 60_000, stage=stage, attributes=CONSENT),
            "identifiers": [f"customer_id:{pid}", f"email:{pid}@example.com"]}


def records(pipeline: Pipeline, logical: str, expected: int, timeout: float = 60
            ) -> list[tuple[bytes, bytes]]:
    """(key, value) of ``logical`` topic's records, once ``expected`` are there."""
    consumer = Consumer({"bootstrap.servers": pipeline.settings.kafka_bootstrap_servers,
                         "group.id": f"inspect-{time.monotonic_ns()}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([pipeline.settings.topic(logical)])
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(out) < expected:
        out += [(m.key() or b"", m.value() or b"") for m in consumer.consume(500, timeout=0.5)
                if m.error() is None]
    out += [(m.key() or b"", m.value() or b"") for m in consumer.consume(500, timeout=1.0)
            if m.error() is None]  # a little longer, to catch duplicates
    consumer.close()
    return out


def wait(check: Callable[[], Any], what: str, pipeline: Pipeline, timeout: float = 150) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    seen = pipeline.querier().sql("SELECT subject_id, workflow_id, action_type, status, reason, "
                                  "_topic FROM workflow_actions FINAL ORDER BY 1, 3").rows
    counters = {k: v for k, v in pipeline.stats("counters").items() if "event" in k}
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last}; workflow_actions: "
                         f"{seen}; counters: {counters}); logs in {pipeline.log_dir}")


@pytest.fixture
def targets(pipeline: Pipeline) -> Iterator[tuple[platforms.Simulator, ChatService]]:
    with platforms.running() as sim, chat_service_running(SECRET) as chat:
        yield sim, chat
    pipeline.stop_workers()
    # the data directory Faust leaves in the working directory
    shutil.rmtree(Path.cwd() / f"{pipeline.settings.app_id}-data", ignore_errors=True)


def test_profiles_and_scores_fire_actions_that_reach_their_targets_once(
        pipeline: Pipeline, targets: tuple[platforms.Simulator, ChatService]) -> None:
    sim, chat = targets
    pipeline.env.update({
        "TOUCHSTREAM_EMAIL_BASE_URL": sim.url, "TOUCHSTREAM_EMAIL_API_KEY": platforms.TOKEN,
        "TOUCHSTREAM_INGEST_URL": f"ws://127.0.0.1:{chat.port}",
        "TOUCHSTREAM_INGEST_TOKEN": issue("workflows", "chat_service", 3600, SECRET,
                                          time.time())})
    pipeline.start_worker()
    encode = pipeline.codec.encode
    profiles = [person("pa", "lead"), person("pb", "customer"), person("pc", "mql")]
    produce_records(pipeline.settings, [OutputRecord(names.CUSTOMER_PROFILES, p["person_id"], p)
                                        for p in profiles], encode=encode)
    # the profiles first, so that the score-triggered workflows fire on the scores
    wait(lambda: pipeline.stats("counters").get(
        f"events.processed{{{names.CUSTOMER_PROFILES}}}", 0) >= 3, "profiles absorbed",
        pipeline)
    # the worker's own scoring stage scores these profiles too (scored now): ours are newer
    later = int(time.time() * 1000) + 120_000
    scores = [score("pa", "lead", 85.0, later), score("pb", "churn", 81.0, later, label="high"),
              score("pc", "clv", 940.0, later), score("pa", "lead", 40.0, later - 10_000)]
    produce_records(pipeline.settings, [OutputRecord(names.CUSTOMER_SCORES, s["person_id"], s)
                                        for s in scores], encode=encode)
    querier = pipeline.querier()

    def delivered() -> list[tuple[Any, ...]]:
        rows = querier.sql("SELECT subject_id, workflow_id, action_type, status, reason "
                           "FROM workflow_actions FINAL WHERE status IN ('delivered', 'failed') "
                           "ORDER BY subject_id, action_type").rows
        return [tuple(r) for r in rows] if len(rows) >= 6 else []

    rows = wait(delivered, "six deliveries", pipeline)
    assert [r[:4] for r in rows] == [
        ("pa", "lead_nurture", "email", "delivered"),
        ("pb", "at_risk_retention", "chat", "delivered"),
        ("pb", "at_risk_retention", "crm_task", "delivered"),
        ("pb", "at_risk_retention", "email", "delivered"),
        ("pc", "lookalike_high_value", "audience", "delivered"),
        ("pc", "mql_proactive_chat", "chat", "delivered")]
    fired = querier.sql("SELECT subject_id, workflow_id, action_type, _topic FROM "
                        "workflow_actions FINAL WHERE status = 'fired' ORDER BY 1, 3").rows
    assert [tuple(r) for r in fired] == [
        ("pa", "lead_nurture", "email", pipeline.settings.topic(names.CUSTOMER_SCORES)),
        ("pb", "at_risk_retention", "chat", pipeline.settings.topic(names.CUSTOMER_SCORES)),
        ("pb", "at_risk_retention", "crm_task", pipeline.settings.topic(names.CUSTOMER_SCORES)),
        ("pb", "at_risk_retention", "email", pipeline.settings.topic(names.CUSTOMER_SCORES)),
        ("pc", "lookalike_high_value", "audience",
         pipeline.settings.topic(names.CUSTOMER_SCORES)),
        ("pc", "mql_proactive_chat", "chat", pipeline.settings.topic(names.CUSTOMER_PROFILES))]
    actions = records(pipeline, names.WORKFLOW_ACTIONS, 6)
    assert len(actions) == 6
    # the outside targets: each email and chat once, under the action id
    assert sorted(s["to"] for s in sim.sends.values()) == ["pa@example.com", "pb@example.com"]
    assert sorted(f["person_id"] for f in chat.proactive.values()) == ["pb", "pc"]
    assert {f["message"] for f in chat.proactive.values()} == {"retention_check_in",
                                                               "mql_welcome"}
    decode = pipeline.codec.decode
    [(key, task)] = records(pipeline, names.CRM_TASKS, 1)
    value = decode(names.CRM_TASKS, task)
    assert (key, value["task_type"], value["team"], value["customer_id"]) == (
        b"pb", "workflow", "customer_success", "pb")
    [(key, change)] = records(pipeline, names.AUDIENCES, 1)
    member = decode(names.AUDIENCES, change)
    assert (key, member["audience"], member["operation"], member["email_sha256"]) == (
        b"pc", "lookalike_seed_high_value", "add", sha256_of("email", "pc@example.com"))
    assert [tuple(r) for r in querier.sql(
        "SELECT audience, person_id, operation FROM audience_members FINAL").rows] == [
        ("lookalike_seed_high_value", "pc", "add")]

    # the same action records produced again: skipped, not performed again
    sends, frames = sim.send_requests, chat.stats.proactive_frames
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap_servers})
    for key, raw in actions:
        producer.produce(pipeline.settings.topic(names.WORKFLOW_ACTIONS), key=key, value=raw)
    producer.flush(10)
    wait(lambda: pipeline.stats("counters").get(
        f"events.duplicates{{{names.WORKFLOW_ACTIONS}}}", 0) >= 6, "six duplicates", pipeline)
    assert (sim.send_requests, chat.stats.proactive_frames) == (sends, frames)
    assert len(sim.sends) == 2 and len(chat.proactive) == 2
    assert len(records(pipeline, names.CRM_TASKS, 2, timeout=5)) == 1
    assert querier.sql("SELECT count() FROM workflow_actions FINAL "
                       "WHERE status = 'delivered'").rows[0][0] == 6
