"""Server-rendered pages and the headers every response carries.

Invariants:
- Every value that comes from data (chat text, ids, names, labels) goes through ``esc``
  (``html.escape`` with quotes) before it is put in a page; the templates hold no other
  interpolation. There is no script on any page.
- The Content-Security-Policy allows nothing but the page's own stylesheet (pinned by its
  hash): an injected ``<script>``, inline handler, frame or form target cannot run or load
  even if escaping were missed somewhere. Pages cannot be framed (``frame-ancestors 'none'``).
  A page that needs a script (``csp_for``) sets its own policy admitting that one script by
  its hash, and nothing else; the guard keeps a policy a view set.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

STYLE: Final = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:52rem;color:#222}"
    "h1{font-size:1.3rem}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    ".customer{background:#f3f7ff}.agent{background:#f4fff3}.meta{color:#666;font-size:.85rem}"
    ".neg{color:#a00}.pos{color:#070}"
)


def source_hash(source: str) -> str:
    """The CSP source expression that admits exactly this inline style or script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def csp_for(styles: Sequence[str] = (STYLE,), scripts: Sequence[str] = ()) -> str:
    """A Content-Security-Policy admitting only the given inline styles and scripts, each pinned
    by its hash; nothing else loads, runs or frames the page."""
    policy = "default-src 'none'; style-src " + " ".join(source_hash(s) for s in styles) + "; "
    if scripts:
        policy += ("script-src " + " ".join(source_hash(s) for s in scripts)
                   + "; connect-src 'self'; ")
    return policy + "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


CSP: Final = csp_for()
#: sent with every response, pages and JSON alike
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def esc(value: Any) -> str:
    """Text for HTML (element content and quoted attributes): ``& < > " '`` escaped."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S"), quote=True)
    if isinstance(value, float):
        return html.escape(f"{value:.3f}", quote=True)
    if isinstance(value, list | tuple):
        return html.escape(", ".join(str(v) for v in value), quote=True)
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, style: str = STYLE, script: str | None = None) -> str:
    """A whole page: ``body`` is already escaped HTML. A ``style`` or ``script`` other than the
    default needs a response whose policy is ``csp_for`` of them."""
    tail = f"<script>{script}</script>" if script else ""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{style}</style></head>"
            f"<body>{body}{tail}</body></html>")


def _sentiment_class(score: Any) -> str:
    if isinstance(score, int | float):
        return "neg" if score <= -0.05 else "pos" if score >= 0.05 else ""
    return ""


def conversation_page(conversation_id: str, state: Mapping[str, Any] | None,
                      messages: Sequence[Mapping[str, Any]],
                      escalations: Sequence[Mapping[str, Any]]) -> str:
    """One conversation: its summary, its messages in order with their sentiment, and its
    escalations. Every value is escaped."""
    parts = [f"<h1>Conversation <code>{esc(conversation_id)}</code></h1>"]
    if state:
        fields = ("status", "channel", "language", "customer_id", "intent", "sentiment_mean",
                  "escalated", "resolution")
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(state.get(k))}</td></tr>"
                       for k in fields if k in state)
        parts.append(f"<table class=\"summary\">{rows}</table>")
    else:
        parts.append("<p class=\"meta\">No state recorded for this conversation.</p>")
    parts.append(f"<h2>Messages ({len(messages)})</h2>")
    if messages:
        rows = "".join(
            f"<tr class=\"{'customer' if m.get('sender_role') == 'CUSTOMER' else 'agent'}\">"
            f"<td class=\"meta\">{esc(m.get('occurred_at'))}</td>"
            f"<td class=\"meta\">{esc(m.get('sender_role'))}</td>"
            f"<td class=\"text\">{esc(m.get('text'))}</td>"
            f"<td class=\"{_sentiment_class(m.get('sentiment_compound'))}\">"
            f"{esc(m.get('sentiment_label'))} {esc(m.get('sentiment_compound'))}</td></tr>"
            for m in messages)
        parts.append("<table class=\"messages\"><tr><th>When</th><th>Who</th><th>Text</th>"
                     f"<th>Sentiment</th></tr>{rows}</table>")
    else:
        parts.append("<p class=\"meta\">No messages.</p>")
    parts.append(f"<h2>Escalations ({len(escalations)})</h2>")
    if escalations:
        rows = "".join(
            f"<tr><td class=\"meta\">{esc(e.get('created_at'))}</td><td>{esc(e.get('team'))}</td>"
            f"<td>{esc(e.get('priority'))}</td><td>{esc(e.get('reasons'))}</td></tr>"
            for e in escalations)
        parts.append("<table class=\"escalations\"><tr><th>When</th><th>Team</th>"
                     f"<th>Priority</th><th>Reasons</th></tr>{rows}</table>")
    return page(f"Conversation {conversation_id}", "".join(parts))


def error_page(status: int, message: str) -> str:
    return page(f"{status}", f"<h1>{status}</h1><p>{esc(message)}</p>")
