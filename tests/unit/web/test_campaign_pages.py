"""The campaigns pages escape every value, carry one constant script that their policy admits
by its hash, and offer Approve and Reject on pending recommendations only."""

from __future__ import annotations

import datetime as dt
import re

from agents.web import campaign_pages as cp
from agents.web.pages import esc, source_hash
from streams.marketing import approval
from streams.marketing import campaign_views as views
from streams.marketing.drilldown import Contribution
from streams.marketing.rules import Recommendation

ATTACK = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>\"'&"
WINDOW = views.Window(24, "USD")
HOUR = dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)


def summary(name: str = ATTACK, campaign: str = ATTACK) -> views.CampaignSummary:
    kpis = views.kpis([{"impressions": 1000, "clicks": 75, "conversions": 3.0,
                        "spend_reporting": 60.0, "revenue_reporting": 230.0}])
    return views.CampaignSummary(ATTACK, campaign, name, "AD_GROUP", "USD", ATTACK, kpis,
                                 views.Pacing(12.0, 10.0, 1.6, 16.0, ATTACK), 1, 2)


def requests() -> list[views.RecommendationView]:
    ledger = approval.Ledger()
    ids = []
    for proposed in (1.2, 1.4):
        rec = Recommendation("bid", "set_bid", f"campaign:{ATTACK}", f"GOOGLE_ADS:{ATTACK}", 0,
                             1.0, proposed, proposed - 1, 3.0, 0.7, ATTACK, {ATTACK: 1.0})
        ledger, rid = approval.submit(ledger, rec, ATTACK, 0)
        ids.append(rid)
    ledger = approval.reject(ledger, ids[1], ATTACK, 5, ATTACK)
    return views.recommendations(ledger)


def anomaly() -> views.AnomalyView:
    alert = {"metric": ATTACK, "direction": ATTACK, "status": ATTACK, "severity": ATTACK,
             "hour": 0, "value": 60.0, "baseline": 20.0, "change": 2.0, "z": 8.0,
             "window_hours": 1}
    drill = {"ad_group_id": [Contribution("ad_group_id", ATTACK, 40.0, 1.0, 0.0, 40.0, 50.0,
                                          10.0)]}
    return views.anomaly_view(alert, drill)


def only_our_markup(page: str) -> None:
    assert page.count("<script>") == 1 and page.count("</script>") == 1
    assert f"<script>{cp.SCRIPT}</script></body>" in page
    without_script = page.replace(f"<script>{cp.SCRIPT}</script>", "")
    assert "<script" not in without_script.lower() and "<img" not in without_script.lower()
    assert "onerror=alert(1)&gt;" in page  # shown as text, escaped


def test_the_list_page_escapes_every_value() -> None:
    page = cp.list_page(WINDOW, [summary()], requests())
    only_our_markup(page)
    assert page.count("&lt;script&gt;") >= 5
    assert "60.00" in page and "7.50%" in page and "283.33%" in page
    # a link to the campaign: its ids quoted for the URL, then escaped for the attribute
    assert 'href="/campaigns/%3Cscript%3E' in page


def test_the_campaign_page_escapes_every_value_including_the_drill_down() -> None:
    hours = views.hourly([{"hour": HOUR, "impressions": 10, "clicks": 1, "conversions": 0.0,
                           "spend_reporting": 1.0, "revenue_reporting": 0.0}])
    page = cp.campaign_page(WINDOW, ATTACK, ATTACK, summary(), hours, [anomaly()], requests())
    only_our_markup(page)
    assert re.search(r'<tr class="driver"><td>ad_group_id</td><td>&lt;script&gt;', page)
    assert "100.00%" in page and "2026-12-04 10:00:00" in page
    assert f"<title>{esc(ATTACK)} {esc(ATTACK)}</title>" in page


def test_ids_reach_the_script_only_through_escaped_data_attributes() -> None:
    pending, rejected = requests()
    page = cp.list_page(WINDOW, [], [pending, rejected])
    assert f'data-request="{pending.request_id}"' in page
    # the script is the same constant whatever the page shows: no data inside it
    assert page.split("<script>")[1].split("</script>")[0] == cp.SCRIPT
    assert pending.request_id not in cp.SCRIPT
    # Approve and Reject on the pending request only
    rows = page.split('<tr class="recommendation"')[1:]
    assert [row.count("data-decision=") for row in rows] == [2, 0]
    assert "rejected by &lt;script&gt;" in rows[1]


def test_the_policy_admits_exactly_the_pages_style_and_script() -> None:
    assert cp.POLICY.count("'sha256-") == 2
    assert f"script-src {source_hash(cp.SCRIPT)};" in cp.POLICY
    assert f"style-src {source_hash(cp.STYLE)};" in cp.POLICY
    assert "unsafe-inline" not in cp.POLICY and "unsafe-eval" not in cp.POLICY
    assert "frame-ancestors 'none'" in cp.POLICY and "connect-src 'self'" in cp.POLICY
    # the script sends JSON with the double-submit token and writes text only
    assert "'X-CSRF-Token':token()" in cp.SCRIPT and "touchstream_csrf=" in cp.SCRIPT
    assert "'Content-Type':'application/json'" in cp.SCRIPT
    assert "innerHTML" not in cp.SCRIPT and "eval(" not in cp.SCRIPT


def test_empty_pages_say_so() -> None:
    page = cp.list_page(WINDOW, [], [])
    assert "No campaign reported in this window." in page
    assert "No recommendation awaits a decision." in page
    detail = cp.campaign_page(WINDOW, "META", "c1", None, [], [], [])
    assert "No KPIs in this window." in detail and "No anomaly in this window." in detail
