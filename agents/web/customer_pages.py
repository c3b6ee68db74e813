"""The customer page: a person's 360° profile rendered on the server, without script.

Sections: the profile card (identifiers, CRM attributes and tags, counts, first and last seen),
the journey (the lifecycle stages with the person's current one marked, the channels in the
order the person went through them), the insights (each score with its probability, label,
reasons and model, or "not scored yet"), the value (historical revenue per currency,
predicted and potential when the CLV model gave them) and a page of the timeline with a link
to the older interactions.

Invariants:
- every value that comes from data goes through ``pages.esc``; the templates interpolate
  nothing else, and the page holds no script;
- the page's one stylesheet is ``STYLE``; the response must carry ``CSP`` (``pages.csp_for``
  of it), which admits that stylesheet and nothing else;
- what is shown is what the JSON endpoints return for the same caller (masked alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, urlencode

from agents.web import pages
from agents.web.pages import esc

STYLE: Final = pages.STYLE + (
    "h2{font-size:1.1rem;margin-top:1.6rem}.card{display:grid;grid-template-columns:1fr 1fr;"
    "gap:.2rem 1.5rem}.stages{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem}"
    ".stages li{border:1px solid #ccc;border-radius:1rem;padding:.1rem .6rem;color:#777}"
    ".stages li.now{background:#1d4ed8;color:#fff;border-color:#1d4ed8}"
    ".channels{padding-left:1.2rem}.reasons{margin:0;padding-left:1.1rem}"
    ".tag{background:#eef;border-radius:.3rem;padding:0 .3rem;margin-right:.2rem}"
)
CSP: Final = pages.csp_for(styles=(STYLE,))
#: the lifecycle stages in order, and those the CRM may set off that track
STAGES: Final = ("anonymous", "known", "lead", "mql", "sql", "customer")
OFF_TRACK: Final = ("at_risk", "churned")
CARD_FIELDS: Final = (("Lifecycle stage", "lifecycle_stage"), ("Person", "person_id"),
                      ("Looked up as", "looked_up"), ("Updated", "updated_at"))


def _rows(pairs: Sequence[tuple[Any, Any]]) -> str:
    return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)


def card(profile: Mapping[str, Any]) -> str:
    journey = profile["journey"]
    counts = profile["counts"]
    facts = [(label, profile.get(key)) for label, key in CARD_FIELDS]
    facts += [("Touchpoints", counts.get("touchpoints")),
              ("Conversions", counts.get("conversions")),
              ("First seen", journey.get("first_seen")), ("Last seen", journey.get("last_seen"))]
    if profile.get("merged_persons"):
        facts.append(("Merged from", profile["merged_persons"]))
    ids = [(kind, values) for kind, values in profile["identifiers"].items()]
    attributes = list(profile["attributes"].items())
    tags = "".join(f"<span class=\"tag\">{esc(t)}</span>" for t in profile["tags"])
    return ("<section class=\"profile\"><h2>Profile</h2><div class=\"card\">"
            f"<table class=\"facts\">{_rows(facts)}</table>"
            f"<table class=\"identifiers\">{_rows(ids)}</table></div>"
            "<h3>Attributes</h3>"
            + (f"<table class=\"attributes\">{_rows(attributes)}</table>" if attributes
               else "<p class=\"meta\">No CRM attributes.</p>")
            + (f"<p class=\"tags\">{tags}</p>" if tags else "") + "</section>")


def journey(profile: Mapping[str, Any]) -> str:
    now = profile["lifecycle_stage"]
    shown = (*STAGES, now) if now in OFF_TRACK else STAGES
    mark = ' class="now"'
    stages = "".join(f"<li{mark if s == now else ''}>{esc(s)}</li>" for s in shown)
    channels = profile["journey"]["channels"]
    steps = ("<ol class=\"channels\">" + "".join(f"<li>{esc(c)}</li>" for c in channels)
             + "</ol>") if channels else "<p class=\"meta\">No channel yet.</p>"
    return (f"<section class=\"journey\"><h2>Journey</h2><ul class=\"stages\">{stages}</ul>"
            f"<h3>Channels, in order</h3>{steps}</section>")


def insights(profile: Mapping[str, Any]) -> str:
    found = profile["insights"]
    if not found["scores"]:
        return ("<section class=\"insights\"><h2>Insights</h2>"
                f"<p class=\"meta not-scored\">{esc(found['status'])}</p></section>")
    rows = "".join(
        f"<tr class=\"score\"><td>{esc(s['kind'])}</td><td>{esc(s['score'])}</td>"
        f"<td>{esc(s['probability'])}</td><td>{esc(s['label'])}</td>"
        "<td><ul class=\"reasons\">" + "".join(f"<li>{esc(r)}</li>" for r in s["reasons"])
        + f"</ul></td><td class=\"meta\">{esc(s['model_version'])}<br>{esc(s['scored_at'])}"
        "</td></tr>" for s in found["scores"])
    return ("<section class=\"insights\"><h2>Insights</h2><table class=\"scores\"><tr>"
            "<th>Kind</th><th>Score</th><th>Probability</th><th>Label</th><th>Reasons</th>"
            f"<th>Model</th></tr>{rows}</table></section>")


def value(profile: Mapping[str, Any]) -> str:
    v = profile["value"]
    historical = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in
                           sorted(v["historical"].items())) or "none yet"
    unit = f" {v['currency']}" if v.get("currency") else ""
    rows = [("Historical revenue", historical),
            ("Predicted (12 months)", "not predicted yet" if v["predicted"] is None
             else f"{v['predicted']:,.2f}{unit}"),
            ("Potential", "not estimated yet" if v["potential"] is None
             else f"{v['potential']:,.2f}{unit}")]
    return f"<section class=\"value\"><h2>Value</h2><table>{_rows(rows)}</table></section>"


def _what(item: Mapping[str, Any]) -> str:
    parts = [item.get("type"), item.get("channel"), item.get("campaign_id")]
    if item.get("value") is not None:
        parts.append(f"{item['value']:,.2f} {item.get('currency') or ''}".strip())
    return " · ".join(str(p) for p in parts if p)


def timeline(items: Sequence[Mapping[str, Any]], older: str | None) -> str:
    if not items:
        return ("<section class=\"timeline\"><h2>Timeline</h2>"
                "<p class=\"meta\">No interactions.</p></section>")
    rows = "".join(
        f"<tr class=\"item {esc(i['kind'])}\"><td class=\"meta when\">{esc(i['occurred_at'])}"
        f"</td><td class=\"kind\">{esc(i['kind'])}</td><td class=\"what\">{esc(_what(i))}</td>"
        "<td class=\"details\">" + "; ".join(f"{esc(k)}: {esc(v)}" for k, v in
                                             sorted(i["attributes"].items()))
        + "</td></tr>" for i in items)
    more = f"<p><a class=\"older\" href=\"{esc(older)}\">Older interactions</a></p>" if older else ""
    return ("<section class=\"timeline\"><h2>Timeline</h2><table class=\"interactions\"><tr>"
            f"<th>When</th><th>Kind</th><th>What</th><th>Details</th></tr>{rows}</table>{more}"
            "</section>")


def older_link(identifier: str, next_before: int | None, limit: int) -> str | None:
    """The page's own address for the older interactions (the identifier quoted as a path
    segment), or None when there are none."""
    if next_before is None:
        return None
    return (f"/customers/{quote(identifier, safe='')}/page?"
            + urlencode({"before": next_before, "limit": limit}))


def customer_page(profile: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
                  older: str | None) -> str:
    """The whole page of one person; every value escaped."""
    first = profile["attributes"].get("first_name", "")
    last = profile["attributes"].get("last_name", "")
    name = f"{first} {last}".strip() or profile["person_id"]
    body = (f"<h1>Customer <span class=\"name\">{esc(name)}</span></h1>"
            + card(profile) + journey(profile) + insights(profile) + value(profile)
            + timeline(items, older))
    return pages.page(f"Customer {name}", body, style=STYLE)
