"""The worker's HTTP surface against real workers (real broker, embedded engine): read-only
SQL, cross-site requests, tokens and roles, and an erasure that leaves no trace."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agents.web.erasure import (
    ErasureRequest,
    avro_reader,
    compacted_topics,
    erase,
    keys_holding,
    matcher,
    scan_latest,
)
from streams import topics
from streams.ingest.tokens import issue
from streams.io.clickhouse import ClickHouse
from streams.io.kafka_admin import end_offsets
from streams.io.migrate import migrate
from streams.io.producer import produce_records
from streams.io.query import Querier, QueryError, worker_url
from streams.kernel.records import OutputRecord
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration
SECRET = "integration-secret-" + uuid.uuid4().hex


def call(pipeline: Pipeline, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None
         ) -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    req = urllib.request.Request(worker_url(pipeline.settings) + path, data=data,
                                 headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, head, payload = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, head, payload = exc.code, dict(exc.headers), exc.read()
    try:
        return status, head, json.loads(payload)
    except ValueError:
        return status, head, payload.decode()


def bearer(role: str, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue('it', role, 600, secret, time.time())}"}  # type: ignore[arg-type]


def chat(cid: str, customer: str, at: int, text: str) -> list[OutputRecord]:
    def event(kind: str, role: str, when: int, body: str | None) -> OutputRecord:
        return OutputRecord(topics.CHAT_EVENTS, cid, {
            "event_id": str(uuid.uuid4()), "conversation_id": cid, "event_type": kind,
            "occurred_at": when, "channel": "WEB", "sender_role": role, "sender_id": None,
            "text": body, "language": "en",
            "customer": {"customer_id": customer, "email": None, "phone": None,
                         "anonymous_id": None},
            "metadata": {}})

    return [event("STARTED", "SYSTEM", at, None), event("MESSAGE", "CUSTOMER", at + 1000, text),
            event("MESSAGE", "BOT", at + 2000, "Thanks, I will look into it.")]


def test_sql_is_read_only_and_cross_site_posts_are_refused(pipeline: Pipeline) -> None:
    pipeline.start_worker()  # loopback, no secret: a local analyst's worker
    q = pipeline.querier()
    assert q.via_worker
    assert q.sql("SELECT count() FROM chat_events").rows == [(0,)]  # analysts keep working
    assert q.insight("dead_letters_by_topic", {}).column_names  # insight queries too

    status, _, body = call(pipeline, "POST", "/sql", {"sql": "DROP TABLE chat_events"})
    assert status == 403 and "read-only" in body["error"]
    assert q.sql("EXISTS TABLE chat_events").rows == [(1,)]
    for sql in ["SELECT * FROM file('/etc/hostname', LineAsString)",
                "SELECT * FROM url('http://127.0.0.1:9/', LineAsString)",
                "CREATE TABLE evil (a String) ENGINE = Memory",
                "INSERT INTO chat_events (event_id) VALUES ('x')"]:
        status, _, body = call(pipeline, "POST", "/sql", {"sql": sql})
        assert status == 403 and "read-only" in body["error"], sql
    assert q.sql("SELECT count() FROM chat_events").rows == [(0,)]

    # a page on another site: a "simple" text/plain POST, which needs no preflight
    drop = json.dumps({"sql": "SELECT * FROM file('/etc/hostname', LineAsString)"}).encode()
    status, head, _ = call(pipeline, "POST", "/sql", raw=drop, headers={
        "Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert status == 403
    assert head["X-Content-Type-Options"] == "nosniff"
    status, _, _ = call(pipeline, "POST", "/sql", raw=drop, headers={"Content-Type": "text/plain"})
    assert status == 415
    # the same page with JSON is refused by its Origin (and a browser would preflight it)
    status, _, _ = call(pipeline, "POST", "/sql", {"sql": "SELECT 1"},
                        headers={"Origin": "https://evil.example"})
    assert status == 403
    # a rebound domain pointing at 127.0.0.1 is not a local caller
    status, _, _ = call(pipeline, "GET", "/stats", headers={"Host": "evil.example:6066"})
    assert status == 403
    # loopback: no token needed, but a wrong one is refused
    assert call(pipeline, "GET", "/stats")[0] == 200
    assert call(pipeline, "GET", "/stats", headers={"Authorization": "Bearer forged.token"})[0] == 401
    # an anonymous erasure from a script (no same-origin CSRF token) is refused ...
    assert call(pipeline, "POST", "/erasures", {"customer_id": "cust-x"})[0] == 403
    # ... and one from the worker's own page goes through: its Origin, and the CSRF cookie
    # the page set sent back as the header (double submit)
    status, head, _ = call(pipeline, "GET", "/conversations/none")
    assert status == 200 and "touchstream_csrf=" in head["Set-Cookie"]
    csrf = head["Set-Cookie"].split("touchstream_csrf=", 1)[1].split(";", 1)[0]
    own = worker_url(pipeline.settings)
    status, _, report = call(pipeline, "POST", "/erasures", {"customer_id": "cust-x"}, headers={
        "Origin": own, "Cookie": f"touchstream_csrf={csrf}", "X-CSRF-Token": csrf})
    assert status == 200 and report["customers"] == 1, report
    status, _, _ = call(pipeline, "POST", "/erasures", {"customer_id": "cust-x"}, headers={
        "Origin": own, "Cookie": f"touchstream_csrf={csrf}", "X-CSRF-Token": csrf + "x"})
    assert status == 403


def test_tokens_roles_and_an_erasure_that_leaves_no_trace(pipeline: Pipeline) -> None:
    read_token = issue("analyst", "read", 3600, SECRET, time.time())
    pipeline.env.update({"TOUCHSTREAM_WEB_SECRET": SECRET, "TOUCHSTREAM_WEB_REQUIRE_TOKEN": "true",
                         "TOUCHSTREAM_TIMER_INTERVAL_SECONDS": "0.5"})
    pipeline.settings = pipeline.settings.model_copy(update={
        "web_secret": SecretStr(SECRET), "web_require_token": True,
        "web_token": SecretStr(read_token)})
    pipeline.start_worker()

    # the token is required: 401 without it (or with a gateway token), /health stays public
    assert call(pipeline, "GET", "/stats")[0] == 401
    assert call(pipeline, "POST", "/sql", {"sql": "SELECT 1"})[0] == 401
    assert call(pipeline, "GET", "/conversations/x")[0] == 401
    assert call(pipeline, "GET", "/table/")[0] == 401  # Faust's own views too
    assert call(pipeline, "GET", "/stats", headers=bearer("widget"))[0] == 401
    assert call(pipeline, "GET", "/stats", headers=bearer("read", "wrong-secret"))[0] == 401
    assert call(pipeline, "GET", "/health")[0] == 200
    assert call(pipeline, "GET", "/stats", headers=bearer("read"))[0] == 200
    assert pipeline.querier().sql("SELECT 1").rows == [(1,)]  # the CLI sends its token
    tokenless = Querier(pipeline.settings.model_copy(update={"web_token": None}))
    with pytest.raises(QueryError, match="TOUCHSTREAM_WEB_TOKEN"):
        tokenless.sql("SELECT 1")

    email, phone, customer = "ann.erasable@example.com", "+15550001234", f"cust-{uuid.uuid4().hex[:6]}"
    other = f"{customer}0"  # shares a prefix: must survive
    now = int(time.time() * 1000) - 60_000
    mine, theirs = f"conv-{uuid.uuid4().hex[:6]}", f"conv-{uuid.uuid4().hex[:6]}"
    records = [*chat(mine, customer, now, f"Please write to {email} or call {phone}."),
               *chat(theirs, other, now, "My order is late and I am <script>annoyed</script>.")]
    produce_records(pipeline.settings, iter(records), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()
    eventually(lambda: q.sql("SELECT count() FROM conversation_states FINAL "
                             "WHERE conversation_id = {c:String}", {"c": mine}).rows == [(1,)])

    # the read role sees the page, masked; it cannot erase
    status, _, page = call(pipeline, "GET", f"/api/conversations/{mine}", headers=bearer("read"))
    assert status == 200 and email not in json.dumps(page) and "a***@***.com" in json.dumps(page)
    status, _, page = call(pipeline, "GET", f"/api/conversations/{mine}",
                           headers=bearer("operate"))
    assert status == 200 and email in json.dumps(page)
    status, _, body = call(pipeline, "POST", "/erasures", {"email": email}, headers=bearer("read"))
    assert status == 403 and "read role" in body["error"]
    assert q.sql("SELECT count() FROM chat_events WHERE customer_id = {c:String}",
                 {"c": customer}).rows == [(3,)]

    # the operator erases (resolving an email through crm.profiles: the next test)
    status, _, report = call(pipeline, "POST", "/erasures",
                             {"customer_id": customer, "email": email, "phone": phone},
                             headers=bearer("operate"))
    assert status == 200, report
    assert report["customers"] == 1 and report["conversations"] == 1
    assert report["rows_deleted"]["chat_events"] == 3
    assert report["tombstones"], report

    # no table mentions any identifier; the other customer's rows are intact
    tables = q.sql("SELECT table, groupArray(name) FROM system.columns WHERE database = "
                   "currentDatabase() AND type LIKE '%String%' AND table != 'erasures' "
                   "GROUP BY table").rows
    assert tables
    for identifier in (email, phone, mine):
        for table, columns in tables:
            where = " OR ".join(f"positionCaseInsensitive(toString(`{c}`), {{n:String}}) > 0"
                                for c in columns)
            hits = q.sql(f"SELECT count() FROM `{table}` WHERE {where}", {"n": identifier}).rows
            assert hits == [(0,)], (identifier, table)
    for table, columns in tables:
        if "customer_id" in columns:
            assert q.sql(f"SELECT count() FROM `{table}` WHERE customer_id = {{c:String}}",
                         {"c": customer}).rows == [(0,)], table
    assert q.sql("SELECT count() FROM chat_events WHERE customer_id = {c:String}",
                 {"c": other}).rows == [(3,)]
    audit = q.sql("SELECT identifier_kinds, report FROM erasures").rows
    assert len(audit) == 1 and list(audit[0][0]) == ["customer_id", "email", "phone"]
    assert email not in audit[0][1] and customer not in audit[0][1]

    # compacted topics (contract and the worker's changelogs): no live record holds them
    changelogs = [t for t in report["tombstones"] if t.endswith("-changelog")]
    assert changelogs, report["tombstones"]
    latest = scan_latest(pipeline.settings, [*compacted_topics(pipeline.settings), *changelogs])
    needle = matcher([email, phone, customer, mine])
    assert needle is not None
    for topic, records_by_key in latest.items():
        assert keys_holding(records_by_key, needle, avro_reader(pipeline.settings, topic)) == [], topic

    # and the worker's in-memory tables forgot the conversation
    assert report["worker_keys"], report


def profile(customer: str, email: str, phone: str, at: int) -> OutputRecord:
    return OutputRecord(topics.CRM_PROFILES, customer, {
        "customer_id": customer, "updated_at": at, "email": email, "phone": phone,
        "first_name": "Ann", "last_name": "Erasable", "company": None, "job_title": None,
        "country": "GB", "lifecycle_stage": "customer", "owner_id": None,
        "lifetime_value": 120.0, "currency": "GBP", "attributes": {}, "tags": [],
        "deleted": False})


def test_erasure_by_email_resolves_the_customer_through_crm_profiles(
        pipeline: Pipeline, tmp_path: Path) -> None:
    # no worker: erase() in this process, against the real broker and its own engine
    settings = pipeline.settings
    email, phone = "bea.erasable@example.com", "+15550009876"
    customer, bystander = f"cust-{uuid.uuid4().hex[:6]}", f"cust-{uuid.uuid4().hex[:6]}"
    now = int(time.time() * 1000)
    produce_records(settings, iter([
        profile(customer, email.upper(), phone, now),
        profile(bystander, "someone@example.com", "+15550000000", now),
    ]), encode=pipeline.codec.encode)
    ch = ClickHouse(f"chdb://{tmp_path / 'erasure-ch'}")
    try:
        migrate(ch)
        ch.insert("chat_events", {"event_id": ["e1", "e2"], "conversation_id": ["c1", "c2"],
                                  "customer_id": [customer, bystander],
                                  "text": ["hello", "hi"], "_offset": [0, 1]})
        done = erase(ch, settings, ErasureRequest(email=email), compacted_topics(settings),
                     "tester")
        assert done.report.customers == 1 and done.report.conversations == 1
        assert done.report.rows_deleted == {"chat_events": 1}
        profiles_topic = settings.topic(topics.CRM_PROFILES)
        assert done.report.tombstones == {profiles_topic: 1}
        assert ch.query("SELECT customer_id FROM chat_events").rows == [(bystander,)]
        assert ch.query("SELECT count() FROM erasures").rows == [(1,)]
    finally:
        ch.close()
    latest = scan_latest(settings, [profiles_topic])[profiles_topic]
    by_key = {k: v for (_, k), v in latest.items()}
    assert by_key[customer.encode()] is None  # tombstoned
    assert by_key[bystander.encode()] is not None  # untouched
