"""The customer page escapes every value it shows and admits only its own stylesheet; the
views read identifiers as the pipeline does and refuse bad paging."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import SecretStr

from agents.web import customer_pages
from agents.web.customers import BadRequest, lookup_policy, paging
from agents.web.masking import mask_personal
from agents.web.pages import source_hash
from streams.customer import profile_queries as pq
from streams.customer.identifiers import hash_value
from streams.settings import Settings

ATTACK = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>\"'&"


def profile(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "person_id": ATTACK, "looked_up": ATTACK, "merged_persons": [ATTACK], "version": 3,
        "updated_at": "2026-01-01T00:00:00.000+00:00",
        "identifiers": {"email": ["ann@mail.net"], ATTACK: [ATTACK]},
        "attributes": {"first_name": ATTACK, ATTACK: ATTACK}, "tags": [ATTACK],
        "lifecycle_stage": "at_risk",
        "journey": {"lifecycle_stage": "at_risk", "channels": ["ads", ATTACK],
                    "first_seen": None, "last_seen": None},
        "counts": {"touchpoints": 2, "conversions": 1},
        "value": {"historical": {"USD": 12.5}, "predicted": 40.0, "potential": None,
                  "currency": "USD", "model_version": ATTACK},
        "insights": {"status": "scored", "scores": [
            {"kind": "lead", "score": 80.0, "probability": 0.8, "label": ATTACK,
             "reasons": [ATTACK, "demo request"], "details": {}, "model_version": ATTACK,
             "profile_version": 3, "scored_at": None}]},
        "recent": [], "recent_next_before": None}
    base.update(changes)
    return base


ITEMS = [{"occurred_at": "2026-01-01T00:00:01.000+00:00", "at_ms": 1, "kind": "touchpoint",
          "type": ATTACK, "channel": ATTACK, "campaign_id": None, "value": 9.5,
          "currency": "EUR", "event_id": ATTACK, "attributes": {ATTACK: ATTACK}}]


def test_the_page_escapes_every_value_and_holds_no_script() -> None:
    page = customer_pages.customer_page(profile(), ITEMS, "/customers/x/page?before=1&limit=5")
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert page.count("&lt;script&gt;") >= 10
    assert "<title>Customer &lt;script&gt;" in page
    # the lifecycle track shows the off-track stage as the current one
    assert re.search(r'<li class="now">at_risk</li>', page)
    assert "demo request" in page and "9.50 EUR" in page and "12.50 USD" in page
    assert "not estimated yet" in page
    assert 'href="/customers/x/page?before=1&amp;limit=5"' in page


def test_a_person_without_scores_or_interactions_says_so() -> None:
    page = customer_pages.customer_page(
        profile(insights={"status": pq.NOT_SCORED, "scores": []}), [], None)
    assert "not scored yet" in page and "No interactions." in page
    assert "Older interactions" not in page


def test_the_policy_admits_the_pages_stylesheet_and_nothing_else() -> None:
    csp = customer_pages.CSP
    assert f"style-src {source_hash(customer_pages.STYLE)};" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    page = customer_pages.customer_page(profile(), [], None)
    assert f"<style>{customer_pages.STYLE}</style>" in page


def test_the_older_link_quotes_the_identifier_as_one_path_segment() -> None:
    assert customer_pages.older_link("a/b c@x.net", 123, 50) == (
        "/customers/a%2Fb%20c%40x.net/page?before=123&limit=50")
    assert customer_pages.older_link("a", None, 50) is None


def test_masked_as_the_conversation_page_masks() -> None:
    masked = mask_personal(profile(identifiers={"email": ["ann@mail.net"],
                                                "phone": ["+12125550123"]}))
    assert masked["identifiers"] == {"email": ["a***@***.net"], "phone": ["+*********23"]}


def test_paging_parameters() -> None:
    assert paging({}) == (None, 50)
    assert paging({"before": "1767225600000", "limit": "10"}) == (1_767_225_600_000, 10)
    for bad in ({"limit": "0"}, {"limit": "501"}, {"before": "yesterday"}, {"before": "-5"},
                {"limit": "1.5"}):
        with pytest.raises(BadRequest):
            paging(bad)


def test_identifiers_are_hashed_as_the_pipeline_hashes_them() -> None:
    plain = lookup_policy(Settings())
    assert plain.hash_salt is None
    hashed = lookup_policy(Settings(customer_hash_identifiers=True,
                                    customer_hash_salt=SecretStr("pepper")))
    assert hashed.hash_salt == b"pepper"
    assert "email:" + hash_value("ann@mail.net", b"pepper") in pq.candidates(
        "Ann@Mail.net", hashed)
