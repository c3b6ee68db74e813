"""The customer page in a real headless browser, served by a worker that resolved the customer
from real topics: the profile, the timeline in order and the scores are shown; markup and
script in a CRM attribute and in the name render as text and nothing in them runs; the JSON
profile is the same person by two different identifiers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest

from streams import topics
from streams.io.producer import produce_records
from streams.io.query import worker_url
from streams.kernel.records import OutputRecord
from tests.browser.conftest import chromium_page
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration
NAME_ATTACK = "<script>window.__pwned=1</script>Ann"
LAST_ATTACK = '<img src=x onerror="window.__pwned=2">'
NOTE_ATTACK = "<img src=x onerror=alert(3)><script>alert(4)</script>"
HOUR = 3_600_000


def ids(**given: str) -> dict[str, str | None]:
    out: dict[str, str | None] = dict.fromkeys(
        ("customer_id", "email", "phone", "anonymous_id", "device_id"))
    out.update(given)
    return out


def touchpoint(tid: str, at: int, channel: str, **identifiers: str) -> OutputRecord:
    return OutputRecord(topics.TOUCHPOINTS, next(iter(identifiers.values())), {
        "touchpoint_id": tid, "occurred_at": at, "type": "click", "channel": channel,
        "platform": None, "campaign_id": f"cmp-{channel}", "ad_group_id": None, "ad_id": None,
        "utm": {"source": None, "medium": None, "campaign": None, "term": None,
                "content": None},
        "identifiers": ids(**identifiers), "url": None, "referrer": None, "properties": {}})


def customer(run: str, start: int) -> tuple[dict[str, str], list[OutputRecord]]:
    """One person seen on a device, then by email, then in the CRM, then buying."""
    me = {"customer_id": f"cus-{run}", "email": f"ann.{run}@mail.net",
          "phone": "+12125550147", "anonymous_id": f"anon-{run}", "device_id": f"dev-{run}"}
    records = [
        touchpoint(f"tp1-{run}", start, "paid_social", device_id=me["device_id"],
                   anonymous_id=me["anonymous_id"]),
        touchpoint(f"tp2-{run}", start + HOUR, "email", email=me["email"].upper(),
                   anonymous_id=me["anonymous_id"]),
        OutputRecord(topics.CRM_PROFILES, me["customer_id"], {
            "customer_id": me["customer_id"], "updated_at": start + 2 * HOUR,
            "email": me["email"], "phone": me["phone"], "first_name": NAME_ATTACK,
            "last_name": LAST_ATTACK, "company": None, "job_title": None, "country": "US",
            "lifecycle_stage": "lead", "owner_id": None, "lifetime_value": None,
            "currency": None, "attributes": {"note": NOTE_ATTACK}, "tags": ["vip"],
            "deleted": False}),
        touchpoint(f"tp3-{run}", start + 3 * HOUR, "paid_search",
                   customer_id=me["customer_id"]),
        OutputRecord(topics.CONVERSIONS, me["customer_id"], {
            "conversion_id": f"cv-{run}", "occurred_at": start + 4 * HOUR, "type": "purchase",
            "value": 120.5, "currency": "USD", "order_id": None,
            "identifiers": ids(customer_id=me["customer_id"]), "properties": {}}),
    ]
    return me, records


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_customer_page_shows_the_profile_and_nothing_injected_runs(
        pipeline: Pipeline) -> None:
    pipeline.start_worker()
    run = uuid.uuid4().hex[:8]
    start = int(time.time() * 1000) - 10 * HOUR
    me, records = customer(run, start)
    produce_records(pipeline.settings, iter(records), encode=pipeline.codec.encode)
    q = pipeline.querier()
    live = ("SELECT person_id FROM customer_profiles FINAL WHERE merged_into IS NULL "
            "AND has(identifiers, {c:String}) AND touchpoints = 3 AND conversions = 1")
    # three stages apart (inputs, identity, profiles): wait for the profile they end in
    eventually(lambda: len(q.sql(live, {"c": f"customer_id:{me['customer_id']}"}).rows) == 1,
               timeout=180)
    person = q.sql(live, {"c": f"customer_id:{me['customer_id']}"}).rows[0][0]
    base = worker_url(pipeline.settings)
    # scores as the predictive stage writes them (a version no later write of it outranks)
    pipeline.maintenance(
        "INSERT INTO customer_scores (person_id, kind, score, probability, label, reasons, "
        "details, model_version, profile_version, scored_at, _topic, _partition, _offset, "
        f"_version) VALUES ('{person}', 'lead', 87, 0.87, 'hot', "
        "['visited pricing twice', 'requested a demo'], map(), 'page-test-v1', 1, now64(3), "
        f"'t', 0, 0, 18446744073709551615), ('{person}', 'clv', 310, NULL, 'high', ['frequent'], "
        "map('potential_value', '900'), 'page-test-v1', 1, now64(3), 't', 0, 1, "
        "18446744073709551615)")

    # the JSON: the same person by two different identifiers, and a 404 for nobody's
    by_id = {}
    for identifier in (me["customer_id"], me["email"].upper(), me["device_id"]):
        status, body = get_json(f"{base}/customers/{urllib.parse.quote(identifier)}")
        assert status == 200, body
        by_id[identifier] = body
    assert {b["person_id"] for b in by_id.values()} == {person}
    profile = by_id[me["customer_id"]]
    assert profile["counts"] == {"touchpoints": 3, "conversions": 1}
    assert profile["value"]["historical"] == {"USD": 120.5}
    assert profile["value"]["potential"] == 900.0
    assert profile["attributes"]["note"] == NOTE_ATTACK
    assert profile["identifiers"]["email"] == ["a***@***.net"]  # local anonymous: masked
    status, body = get_json(f"{base}/customers/nobody-{run}")
    assert status == 404 and body["error"] == "no person has this identifier"
    status, timeline = get_json(f"{base}/customers/{me['device_id']}/timeline?limit=2")
    assert status == 200 and len(timeline["items"]) == 2 and timeline["next_before"]

    with chromium_page() as (page, dialogs):
        response = page.goto(f"{base}/customers/{urllib.parse.quote(me['email'])}/page")
        assert response is not None and response.status == 200
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp
        page.wait_for_load_state("load")
        # the profile card, with the injected markup as the characters typed
        heading = page.locator("h1 .name").inner_text()
        assert NAME_ATTACK in heading and LAST_ATTACK in heading
        attributes = page.locator("table.attributes").inner_text()
        assert NOTE_ATTACK in attributes
        assert page.locator("li.now").inner_text() == "customer"
        channels = page.locator("ol.channels li").all_inner_texts()
        assert set(channels) == {"paid_social", "email", "paid_search"}
        # the timeline in time order: device, email, CRM, search, purchase
        kinds = page.locator("tr.item td.kind").all_inner_texts()
        assert kinds == ["touchpoint", "touchpoint", "profile", "touchpoint", "conversion"]
        whens = page.locator("tr.item td.when").all_inner_texts()
        assert whens == sorted(whens)
        # the scores with their reasons, and the value
        scores = page.locator("table.scores").inner_text()
        assert "visited pricing twice" in scores and "requested a demo" in scores
        assert "page-test-v1" in scores
        assert "120.50 USD" in page.locator("section.value").inner_text()
        # nothing injected became an element or ran
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert dialogs == []
        assert page.title().startswith("Customer <script>")
        # personal data masked for an anonymous local caller
        body = page.locator("body").inner_text()
        assert me["email"] not in body and "a***@***.net" in body
