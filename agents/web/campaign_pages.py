"""The campaigns pages: the list of campaigns with their KPIs and the pending recommendations,
one campaign's hours, anomalies with their drill-down, and recommendations, and one anomaly
with its drill-down (every anomaly on a campaign page links to its own).

Invariants:
- Every value that comes from data goes through ``pages.esc`` (numbers are formatted first,
  then escaped); ids reach the script only through ``data-`` attributes.
- The pages carry one inline script, ``SCRIPT``, a constant with no data in it; ``POLICY``
  admits exactly it and the page's stylesheet by their hashes, nothing else.
- The script posts JSON (``{"reason": ...}``) with the ``X-CSRF-Token`` header copied from the
  ``touchstream_csrf`` cookie, and writes the answer with ``textContent`` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final
from urllib.parse import quote, urlencode

from agents.web import pages
from agents.web.pages import esc
from agents.web.security import CSRF_COOKIE, CSRF_HEADER
from streams.marketing.campaign_views import (
    AnomalyView,
    CampaignSummary,
    HourKpis,
    Kpis,
    RecommendationView,
    Window,
    anomaly_path,
)

STYLE: Final = pages.STYLE + (
    "body{max-width:78rem}.num{text-align:right;white-space:nowrap}h2{font-size:1.1rem}"
    "section.anomaly{margin:1rem 0;padding:.5rem;border-left:3px solid #c60}"
    ".over,.up{color:#a00}.under{color:#a60}.rationale{max-width:24rem}"
    ".result{display:block;color:#555;font-size:.85rem}input.reason{width:9rem}"
)
SCRIPT: Final = (
    "(function(){"
    "function token(){var p=document.cookie.split('; ');for(var i=0;i<p.length;i++){"
    f"if(p[i].indexOf('{CSRF_COOKIE}=')===0)"
    f"return decodeURIComponent(p[i].slice({len(CSRF_COOKIE) + 1}));}}return '';}}"
    "document.addEventListener('click',function(e){"
    "var b=e.target.closest('button[data-decision]');if(!b)return;"
    "var row=b.closest('[data-request]');var out=row.querySelector('.result');"
    "var d=b.getAttribute('data-decision');var reason=row.querySelector('input.reason').value.trim();"
    "if(d==='reject'&&!reason){out.textContent='Give a reason to reject.';return;}"
    "var buttons=row.querySelectorAll('button');"
    "buttons.forEach(function(x){x.disabled=true;});out.textContent='Sending\\u2026';"
    "fetch('/recommendations/'+encodeURIComponent(row.getAttribute('data-request'))+'/'+d,"
    "{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json',"
    f"'{CSRF_HEADER}':token()}},body:JSON.stringify({{reason:reason||'approved'}})}})"
    ".then(function(r){return r.json().then(function(j){return {ok:r.ok,code:r.status,j:j};});})"
    ".then(function(a){if(a.ok){row.querySelector('.status').textContent=a.j.status;"
    "out.textContent=a.j.status+(a.j.outcome?' \\u2014 '+a.j.outcome:'');}"
    "else{out.textContent='Refused ('+a.code+'): '+(a.j.error||'');"
    "buttons.forEach(function(x){x.disabled=false;});}})"
    ".catch(function(err){out.textContent='Failed: '+err;"
    "buttons.forEach(function(x){x.disabled=false;});});"
    "});})();"
)
#: the Content-Security-Policy of both pages: their style and their one script, by hash
POLICY: Final = pages.csp_for(styles=(STYLE,), scripts=(SCRIPT,))


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _query(window: Window) -> str:
    return urlencode({"hours": window.hours, "currency": window.currency})


def campaign_href(platform: str, campaign_id: str, window: Window) -> str:
    return (f"/campaigns/{quote(platform, safe='')}/{quote(campaign_id, safe='')}"
            f"?{_query(window)}")


def _window_form(window: Window) -> str:
    return ("<form class=\"window\" method=\"get\">Last "
            f"<input name=\"hours\" type=\"number\" min=\"1\" value=\"{esc(window.hours)}\"> hours,"
            f" money in <input name=\"currency\" size=\"3\" value=\"{esc(window.currency)}\">"
            " <button type=\"submit\">Show</button></form>")


_KPI_HEAD: Final = ("<th>Impressions</th><th>Clicks</th><th>CTR</th><th>CPC</th><th>CPM</th>"
                    "<th>Conversions</th><th>CPA</th><th>Spend</th><th>Revenue</th><th>ROAS</th>"
                    "<th>ROI</th>")


def _kpi_cells(k: Kpis) -> str:
    cells = (_int(k.impressions), _int(k.clicks), _pct(k.ctr), _num(k.cpc), _num(k.cpm),
             _num(k.conversions), _num(k.cpa), _num(k.spend), _num(k.revenue), _num(k.roas),
             _pct(k.roi))
    return "".join(f"<td class=\"num\">{esc(c)}</td>" for c in cells)


def _pacing_cell(s: CampaignSummary) -> str:
    p = s.pacing
    if p is None:
        return "<td class=\"meta\">no spend today</td>"
    klass = {"over": "over", "under": "under"}.get(p.status, "")
    return (f"<td class=\"{klass}\">{esc(p.status)} {esc(_num(p.pacing))}"
            f"<span class=\"meta\"> ({esc(_num(p.spend_today))} of "
            f"{esc(_num(p.daily_budget))} {esc(s.account_currency)})</span></td>")


def _campaigns_table(window: Window, rows: Sequence[CampaignSummary]) -> str:
    if not rows:
        return "<p class=\"meta\">No campaign reported in this window.</p>"
    body = "".join(
        "<tr class=\"campaign\">"
        f"<td>{esc(s.platform)}</td>"
        f"<td><a href=\"{esc(campaign_href(s.platform, s.campaign_id, window))}\">"
        f"{esc(s.name or s.campaign_id)}</a><div class=\"meta\">{esc(s.campaign_id)} · "
        f"{esc(s.level)}</div></td>{_kpi_cells(s.kpis)}{_pacing_cell(s)}"
        f"<td class=\"num\">{esc(s.anomalies)}</td><td class=\"num\">{esc(s.pending)}</td></tr>"
        for s in rows)
    return ("<table class=\"campaigns\"><tr><th>Platform</th><th>Campaign</th>"
            f"{_KPI_HEAD}<th>Pacing today</th><th>Anomalies</th><th>Pending</th></tr>"
            f"{body}</table>")


def _recommendation_row(r: RecommendationView, window: Window) -> str:
    rec = r.recommendation
    controls = ""
    if r.pending:
        controls = ("<input class=\"reason\" aria-label=\"Reason\" placeholder=\"reason\">"
                    "<button type=\"button\" data-decision=\"approve\">Approve</button>"
                    "<button type=\"button\" data-decision=\"reject\">Reject</button>")
    last = r.history[-1] if r.history else None
    said = (f"<div class=\"meta\">{esc(last.to_status)} by {esc(last.actor)}: "
            f"{esc(last.reason)}</div>") if last is not None and not r.pending else ""
    return (f"<tr class=\"recommendation\" data-request=\"{esc(r.request_id)}\">"
            f"<td><code>{esc(r.request_id)}</code><div class=\"meta\">"
            f"{'dry run' if r.dry_run else 'live'} · {esc(r.as_of)}</div></td>"
            f"<td class=\"status\">{esc(r.status)}</td>"
            f"<td>{esc(rec.action)}<div class=\"meta\">{esc(rec.rule)} · {esc(rec.entity)}</div></td>"
            f"<td><a href=\"{esc(campaign_href(r.platform, r.campaign_id, window))}\">"
            f"{esc(r.platform)} {esc(r.campaign_id)}</a></td>"
            f"<td class=\"num\">{esc(_num(rec.current))} → {esc(_num(rec.proposed))}"
            f"<div class=\"meta\">{esc(f'{rec.change:+.1%}')}</div></td>"
            f"<td class=\"num\">{esc(f'{rec.expected_effect:+,.2f}')}</td>"
            f"<td class=\"num\">{esc(_num(rec.confidence))}</td>"
            f"<td class=\"rationale\">{esc(rec.rationale)}{said}</td>"
            f"<td>{controls}<span class=\"result\" role=\"status\"></span></td></tr>")


def _recommendations_table(rows: Sequence[RecommendationView], window: Window,
                           empty: str) -> str:
    if not rows:
        return f"<p class=\"meta\">{esc(empty)}</p>"
    body = "".join(_recommendation_row(r, window) for r in rows)
    return ("<table class=\"recommendations\"><tr><th>Request</th><th>Status</th>"
            "<th>Action</th><th>Campaign</th><th>Current → proposed</th><th>Effect/day</th>"
            f"<th>Confidence</th><th>Rationale</th><th>Decision</th></tr>{body}</table>")


def list_page(window: Window, campaigns: Sequence[CampaignSummary],
              pending: Sequence[RecommendationView]) -> str:
    """Every campaign with data in the window, and the recommendations awaiting a decision."""
    body = ("<h1>Campaigns</h1>" + _window_form(window)
            + f"<p class=\"meta\">KPIs of the last {esc(window.hours)} hours in "
            f"{esc(window.currency)}, from each campaign's coarsest reported level; pacing is "
            "today's spend against the daily budget.</p>"
            + _campaigns_table(window, campaigns)
            + f"<h2>Pending recommendations ({len(pending)})</h2>"
            + _recommendations_table(pending, window, "No recommendation awaits a decision."))
    return pages.page("Campaigns", body, style=STYLE, script=SCRIPT)


def _drivers(a: AnomalyView, drilled: bool) -> str:
    if not drilled:
        return "<p class=\"meta\">The rows behind it are on its drill-down page.</p>"
    rows = "".join(
        f"<tr class=\"driver\"><td>{esc(d.dimension)}</td><td>{esc(d.key)}</td>"
        f"<td class=\"num\">{esc(_pct(d.share))}</td>"
        f"<td class=\"num\">{esc(_num(d.contribution, 4))}</td>"
        f"<td class=\"num\">{esc(_num(d.current, 4))}</td>"
        f"<td class=\"num\">{esc(_num(d.baseline, 4))}</td></tr>"
        for ranked in a.drivers.values() for d in ranked)
    if not rows:
        return "<p class=\"meta\">No ad group, ad, device or hour rows behind it.</p>"
    return ("<table class=\"drill\"><tr><th>Dimension</th><th>Child</th><th>Share</th>"
            f"<th>Contribution</th><th>Now</th><th>Baseline</th></tr>{rows}</table>")


def _anomaly(a: AnomalyView, platform: str, campaign_id: str, window: Window,
             drilled: bool = True) -> str:
    """One anomaly; its drivers when ``drilled``, and always the link to its own page."""
    href = f"{anomaly_path(platform, campaign_id, a)}?{_query(window)}"
    return (f"<section class=\"anomaly\"><div><strong>{esc(a.metric)} {esc(a.direction)}"
            f"</strong> at {esc(a.hour)} · {esc(a.severity)} · {esc(a.status)} · "
            f"<a class=\"drill-link\" href=\"{esc(href)}\">drill-down</a></div>"
            f"<div class=\"meta\">{esc(_num(a.value, 4))} against a baseline of "
            f"{esc(_num(a.baseline, 4))} ({esc(f'{a.change:+.0%}')}, z {esc(f'{a.z:+.1f}')}) "
            f"over {esc(a.window_hours)} h</div>{_drivers(a, drilled)}</section>")


def campaign_page(window: Window, platform: str, campaign_id: str,
                  summary: CampaignSummary | None, hours: Sequence[HourKpis],
                  anomalies: Sequence[AnomalyView],
                  recommendations: Sequence[RecommendationView],
                  drilled: int | None = None) -> str:
    """One campaign: its KPIs per hour, its anomalies (the first ``drilled``, all when None,
    with the drill-down behind each inline; every one links to its own page), and its
    recommendations (Approve and Reject on the pending ones)."""
    name = summary.name if summary and summary.name else campaign_id
    parts = [f"<p><a href=\"/campaigns?{esc(_query(window))}\">All campaigns</a></p>",
             f"<h1>{esc(platform)} · {esc(name)}</h1>",
             f"<p class=\"meta\">Campaign {esc(campaign_id)}</p>", _window_form(window)]
    if summary is not None:
        parts.append("<table class=\"totals\"><tr><th>Level</th>" + _KPI_HEAD
                     + f"<th>Pacing today</th></tr><tr><td>{esc(summary.level)}</td>"
                     + _kpi_cells(summary.kpis) + _pacing_cell(summary) + "</tr></table>")
    else:
        parts.append("<p class=\"meta\">No KPIs in this window.</p>")
    parts.append(f"<h2>Hours ({len(hours)})</h2>")
    if hours:
        parts.append("<table class=\"hours\"><tr><th>Hour</th>" + _KPI_HEAD + "</tr>" + "".join(
            f"<tr class=\"hour\"><td class=\"meta\">{esc(h.hour)}</td>{_kpi_cells(h.kpis)}</tr>"
            for h in hours) + "</table>")
    parts.append(f"<h2>Anomalies ({len(anomalies)})</h2>")
    parts += [_anomaly(a, platform, campaign_id, window, drilled is None or i < drilled)
              for i, a in enumerate(anomalies)] or [
        "<p class=\"meta\">No anomaly in this window.</p>"]
    parts.append(f"<h2>Recommendations ({len(recommendations)})</h2>")
    parts.append(_recommendations_table(recommendations, window, "No recommendation yet."))
    return pages.page(f"{platform} {name}", "".join(parts), style=STYLE, script=SCRIPT)


def anomaly_page(window: Window, platform: str, campaign_id: str, anomaly: AnomalyView) -> str:
    """One anomaly of a campaign with the ad groups, ads, devices and hours behind it."""
    parts = [f"<p><a href=\"{esc(campaign_href(platform, campaign_id, window))}\">"
             f"{esc(platform)} · {esc(campaign_id)}</a> · "
             f"<a href=\"/campaigns?{esc(_query(window))}\">All campaigns</a></p>",
             f"<h1>{esc(anomaly.metric)} {esc(anomaly.direction)} at {esc(anomaly.hour)}</h1>",
             _anomaly(anomaly, platform, campaign_id, window)]
    return pages.page(f"{platform} {campaign_id} {anomaly.metric}", "".join(parts),
                      style=STYLE, script=SCRIPT)
