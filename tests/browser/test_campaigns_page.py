"""The campaigns page in a real headless browser against a worker whose store holds two
campaigns' KPIs, six anomalies of one hour (one with the ad group and device rows behind it)
and pending recommendations (one with markup and script in its rationale): the KPIs show, the
latest five anomalies are drilled into on the page and every one links to its own drill-down
page (and JSON twin), which shows the rows behind it; the injected markup stays text, Approve
and Reject change the requests' status in ClickHouse and on the page, state-changing requests
from elsewhere are refused, and a token's subject is audited as the one who decided."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from agents.web.campaign_pages import POLICY
from streams import topics
from streams.ingest.tokens import issue
from streams.io.kafka_admin import end_offsets
from streams.io.positions import sunk_next
from streams.io.producer import produce_records
from streams.io.query import worker_url
from streams.kernel.records import OutputRecord
from streams.marketing import approval
from streams.marketing import contract as names
from streams.marketing import recommendations as recs
from streams.marketing.rules import Recommendation
from tests.browser.conftest import chromium_page
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration
HOUR, WEEK = 3_600_000, 168 * 3_600_000
ATTACK = ("<script>document.title='pwned';window.__pwned=1</script>"
          "<img src=x onerror=\"window.__pwned=2\"> CTR fell below target")


def metric(campaign: str, platform: str, level: str, group: str | None, device: str | None,
           start: int, impressions: int, clicks: int, cost: float, conversions: float,
           value: float) -> OutputRecord:
    return OutputRecord(topics.AD_METRICS, f"{platform}:{campaign}", {
        "platform": platform, "account_id": "acc-1", "campaign_id": campaign,
        "campaign_name": f"Spring <b>{campaign}</b>", "level": level, "ad_group_id": group,
        "ad_id": None, "device": device, "interval_start": start, "interval_end": start + HOUR,
        "impressions": impressions, "clicks": clicks, "cost_micros": round(cost * 1_000_000),
        "conversions": conversions, "conversion_value": value, "currency": "USD",
        "bid_micros": None, "budget_micros": None, "audience": None,
        "reported_at": min(start + HOUR + 60_000, int(time.time() * 1000) - 1000),
        "extra": {}})


def history(campaign: str, hour: int) -> list[OutputRecord]:
    """Ad group ag-1 (mobile) spends 50 in ``hour`` against 10 in the same hour of the four
    weeks before; ag-2 (desktop) spends 10 throughout."""
    out = [metric(campaign, "GOOGLE_ADS", "AD_GROUP", "ag-1", "MOBILE", hour, 1000, 100, 50.0,
                  5.0, 200.0),
           metric(campaign, "GOOGLE_ADS", "AD_GROUP", "ag-2", "DESKTOP", hour, 1000, 50, 10.0,
                  1.0, 30.0)]
    for week in range(1, 5):
        out += [metric(campaign, "GOOGLE_ADS", "AD_GROUP", group, device, hour - week * WEEK,
                       1000, 50, 10.0, 1.0, 30.0)
                for group, device in (("ag-1", "MOBILE"), ("ag-2", "DESKTOP"))]
    return out


def pending(campaign: str, other: str, hour: int) -> tuple[list[OutputRecord], list[str]]:
    """Dry-run recommendations submitted as the optimiser submits them: two for
    ``campaign``, one for ``other``."""
    key, meta = f"GOOGLE_ADS:{campaign}", f"META:{other}"
    made = [Recommendation("bid", "set_bid", f"campaign:{key}", key, hour, 1.0, 1.2, 0.2, 12.5,
                           0.8, "CPA 20% under target with 150 clicks", {"clicks": 150.0}),
            Recommendation("budget", "set_budget", f"campaign:{key}", key, hour, 100.0, 80.0,
                           -0.2, 4.0, 0.6, ATTACK, {"roas": 3.8}),
            Recommendation("budget", "set_budget", f"campaign:{meta}", meta, hour, 50.0, 40.0,
                           -0.2, 2.0, 0.5, "no conversions in 24 h", {"conversions": 0.0})]
    ledger, ids = approval.Ledger(), []
    for rec in made:
        ledger, rid = approval.submit(ledger, rec, "optimiser", hour, dry_run=True)
        ids.append(rid)
    return recs.audit_records(ledger), ids


def post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_campaigns_page_shows_kpis_and_drill_down_and_decides(pipeline: Pipeline) -> None:
    secret = uuid.uuid4().hex  # tokens are checked; an anonymous local caller is still served
    pipeline.env["TOUCHSTREAM_WEB_SECRET"] = secret
    pipeline.start_worker()
    campaign, other = f"c-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}"
    hour = (int(time.time() * 1000) // HOUR - 2) * HOUR
    records, (bid_id, budget_id, meta_id) = pending(campaign, other, hour)
    produce_records(pipeline.settings, iter([
        *history(campaign, hour),
        metric(other, "META", "CAMPAIGN", None, None, hour, 500, 5, 20.0, 0.0, 0.0),
        *records]), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.AD_METRICS: end_offsets(pipeline.settings, topics.AD_METRICS)})
    q = pipeline.querier()
    ends = end_offsets(pipeline.settings, names.RECOMMENDATIONS)
    eventually(lambda: all(
        sunk_next(q.sql, pipeline.settings.topic(names.RECOMMENDATIONS),
                  (names.RECOMMENDATIONS_TABLE,), ends).get(p, 0) >= end
        for p, end in ends.items()), timeout=60)
    base = worker_url(pipeline.settings)
    # the alert the detector would raise for that hour (its own detection is tested elsewhere)
    # and five more of the same hour, listed before it (by metric): the page drills into the
    # latest five only, so the spend alert's drill-down is on its own page
    pipeline.maintenance(
        "INSERT INTO anomalies (platform, campaign_id, metric, direction, status, severity, "
        "hour, since, value, baseline, change, z, window_hours, _topic, _partition, _offset) "
        "VALUES " + ", ".join(
            f"('GOOGLE_ADS', '{campaign}', '{name}', 'up', 'new', 'high', "
            f"fromUnixTimestamp64Milli({hour}), fromUnixTimestamp64Milli({hour}), 60, 20, 2, "
            f"{z}, 1, 'test', 0, {i})"
            for i, (name, z) in enumerate([("spend", 8.5), ("conversions", 5.1), ("cpa", 5.2),
                                           ("cpc", 5.3), ("ctr", 5.4), ("roas", 5.5)])))

    # the JSON twins: KPIs from the sums of the coarsest level, the drill-down behind the alert
    with urllib.request.urlopen(f"{base}/api/campaigns?hours=24", timeout=60) as resp:
        listing = json.loads(resp.read())
    row = next(c for c in listing["campaigns"] if c["campaign_id"] == campaign)
    assert row["level"] == "AD_GROUP" and row["name"] == f"Spring <b>{campaign}</b>"
    k = row["kpis"]
    assert (k["impressions"], k["clicks"], k["spend"], k["revenue"]) == (2000, 150, 60.0, 230.0)
    assert k["ctr"] == pytest.approx(0.075) and k["cpa"] == pytest.approx(10.0)
    assert k["roi"] == pytest.approx(170 / 60)
    assert row["anomalies"] >= 1 and row["pending"] == 2
    assert {r["request_id"] for r in listing["pending"]} == {bid_id, budget_id, meta_id}
    with urllib.request.urlopen(f"{base}/api/campaigns/GOOGLE_ADS/{campaign}", timeout=60) as r:
        detail = json.loads(r.read())
    shown = [a["metric"] for a in detail["anomalies"]]
    assert shown == ["conversions", "cpa", "cpc", "ctr", "roas", "spend"]
    assert all(a["drivers"] for a in detail["anomalies"][:5])
    alert = detail["anomalies"][5]
    assert alert["z"] == 8.5 and alert["drivers"] == {}  # beyond the latest five
    spend_path = (f"/campaigns/GOOGLE_ADS/{campaign}/anomalies/{hour}/spend/up/new")
    assert alert["drill_down"] == spend_path
    assert len({a["drill_down"] for a in detail["anomalies"]}) == 6
    status, answer = get(f"{base}/api{spend_path}")
    assert status == 200, answer
    drilled = answer["anomaly"]
    assert (drilled["metric"], drilled["z"]) == ("spend", 8.5)
    groups = drilled["drivers"]["ad_group_id"]
    assert (groups[0]["key"], groups[0]["share"], groups[0]["contribution"]) == ("ag-1", 1.0, 40.0)
    assert drilled["drivers"]["device"][0]["key"] == "MOBILE"
    for missing, code in ((f"/campaigns/GOOGLE_ADS/{campaign}/anomalies/{hour}/spend/down/new",
                           404),
                          (f"/campaigns/GOOGLE_ADS/{campaign}/anomalies/soon/spend/up/new", 400)):
        assert get(f"{base}/api{missing}")[0] == code, missing

    # refused: another site's Origin, no CSRF token, a form post; the request stays pending
    url = f"{base}/recommendations/{bid_id}/approve"
    token = uuid.uuid4().hex
    json_headers = {"Content-Type": "application/json"}
    assert post(url, {"reason": "x"}, {**json_headers, "Origin": "http://evil.example",
                                       "X-CSRF-Token": token,
                                       "Cookie": f"touchstream_csrf={token}"})[0] == 403
    assert post(url, {"reason": "x"}, {**json_headers, "Origin": base})[0] == 403
    assert post(url, {"reason": "x"}, {**json_headers, "Origin": base, "X-CSRF-Token": token,
                                       "Cookie": "touchstream_csrf=other"})[0] == 403
    assert post(url, "reason=x", {"Content-Type": "application/x-www-form-urlencoded",
                                  "Origin": base})[0] == 415

    def statuses() -> dict[str, str]:
        rows = q.sql("SELECT request_id, argMax(status, (at, indexOf(['pending', 'approved', "
                     "'rejected', 'applied'], status))) AS s, argMax(actor, at) AS who "
                     "FROM recommendations FINAL GROUP BY request_id").rows
        return {str(rid): f"{s} by {who}" for rid, s, who in rows}

    assert statuses() == {bid_id: "pending by optimiser", budget_id: "pending by optimiser",
                          meta_id: "pending by optimiser"}

    with chromium_page() as (page, dialogs):
        errors: list[str] = []
        # a script the policy refused, or one that threw, would be reported here
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        response = page.goto(f"{base}/campaigns?hours=24")
        assert response is not None and response.status == 200
        csp = response.headers["content-security-policy"]
        assert csp == POLICY and csp.count("'sha256-") == 2  # its style and its script
        page.wait_for_load_state("load")
        shown = page.locator("tr.campaign", has_text=campaign).inner_text()
        assert "60.00" in shown and "7.50%" in shown and "283.33%" in shown
        assert f"Spring <b>{campaign}</b>" in shown  # a name's markup is text too
        assert page.locator("tr.campaign", has_text=other).count() == 1
        assert page.locator("tr.recommendation").count() == 3

        page.goto(f"{base}/campaigns/GOOGLE_ADS/{campaign}?hours=24")
        page.wait_for_load_state("load")
        sections = page.locator("section.anomaly")
        assert sections.count() == 6
        assert sections.locator("a.drill-link").count() == 6
        assert sections.locator("table.drill").count() == 5  # the latest five, inline
        spend = sections.nth(5)
        assert "spend up" in spend.inner_text() and spend.locator("table.drill").count() == 0
        assert page.locator("tr.hour").count() == 1
        spend.locator("a.drill-link").click()
        page.wait_for_load_state("load")
        assert page.url == f"{base}{spend_path}?hours=24&currency=USD"
        assert "spend up" in page.locator("h1").inner_text()
        drivers = page.locator("table.drill tr.driver").all_inner_texts()
        assert any("ag-1" in d and "100.00%" in d for d in drivers), drivers
        assert any("MOBILE" in d for d in drivers), drivers
        page.go_back()
        page.wait_for_load_state("load")
        rationale = page.locator(f"tr[data-request='{budget_id}'] td.rationale").inner_text()
        assert "<script>document.title='pwned';window.__pwned=1</script>" in rationale
        assert '<img src=x onerror="window.__pwned=2">' in rationale
        assert page.evaluate("document.querySelectorAll('td script, td img, td b').length") == 0
        assert page.evaluate("document.scripts.length") == 1
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert "pwned" not in page.title()

        bid_row = page.locator(f"tr[data-request='{bid_id}']")
        bid_row.locator("button[data-decision=approve]").click()
        budget_row = page.locator(f"tr[data-request='{budget_id}']")
        budget_row.locator("button[data-decision=reject]").click()
        assert "reason" in budget_row.locator(".result").inner_text()  # none given yet
        budget_row.locator("input.reason").fill("not <i>this</i> week")
        budget_row.locator("button[data-decision=reject]").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('tr.recommendation td.status')]"
            ".every(td => td.textContent !== 'pending')", timeout=60_000)
        assert "applied" in bid_row.locator(".result").inner_text()
        eventually(lambda: statuses() == {bid_id: "applied by local",
                                          budget_id: "rejected by local",
                                          meta_id: "pending by optimiser"}, timeout=30)
        reason = q.sql("SELECT reason FROM recommendations FINAL WHERE request_id = "
                       "{r:String} AND status = 'rejected'", {"r": budget_id}).rows
        assert reason == [("not <i>this</i> week",)]

        page.reload()
        page.wait_for_load_state("load")
        assert bid_row.locator("td.status").inner_text() == "applied"
        assert budget_row.locator("td.status").inner_text() == "rejected"
        assert page.locator("button[data-decision]").count() == 0
        assert "not <i>this</i> week" in budget_row.inner_text()
        page.goto(f"{base}/campaigns?hours=24")
        assert page.locator("tr.recommendation").all_inner_texts() == [
            page.locator(f"tr[data-request='{meta_id}']").inner_text()]
        assert dialogs == []
        # the only failure is the browser's own favicon request
        assert {u.rsplit("/", 1)[1] for u in failed} <= {"favicon.ico"}
        assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    # deciding a decided request again is refused, and changes nothing
    assert post(f"{base}/recommendations/{budget_id}/approve", {}, {
        **json_headers, "Origin": base, "X-CSRF-Token": token,
        "Cookie": f"touchstream_csrf={token}"})[0] == 409
    # with a token: the read role cannot decide; the operate role's subject is audited
    now = time.time()
    meta_url = f"{base}/recommendations/{meta_id}/reject"
    reading = {**json_headers, "Authorization": "Bearer " + issue("rita", "read", 600, secret,
                                                                    now)}
    assert post(meta_url, {"reason": "no"}, reading)[0] == 403
    operating = {**json_headers, "Authorization": "Bearer " + issue("ana", "operate", 600,
                                                                      secret, now)}
    status, answer = post(meta_url, {"reason": "covered by the brand plan"}, operating)
    assert status == 200 and (answer["status"], answer["actor"]) == ("rejected", "ana")
    assert answer["recorded"] is True  # the worker answered once it had sunk the transition
    assert statuses() == {bid_id: "applied by local", budget_id: "rejected by local",
                          meta_id: "rejected by ana"}
