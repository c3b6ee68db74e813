"""Explained rules: the lead score when no trained model is loaded, and the next best action.

Rule-based lead score (``rules-v1``): points per feature, capped per feature, summed and capped
at 100; every feature that adds points is a reason (``LEAD_REASON_CODES``' code and text),
largest first. It ranks people plausibly and says so in its model version; it is no
probability (``probability`` stays None).

Next best action (``nba-rules-v1``), the first rule that holds, in this order:
1. ``retention_offer``: churn risk at or above ``churn_at``, the person has purchased before;
2. ``sales_call``: lead score at or above ``hot_lead_at`` and no purchase yet;
3. ``proactive_chat``: lead score at or above ``warm_lead_at`` and a chat in the last 30 days;
4. ``nurture_email``: lead score at or above ``warm_lead_at`` and an email known (and email not
   opted out in the CRM attributes);
5. ``cross_sell``: a customer whose expected 12-month value is at least ``cross_sell_value``;
6. ``capture_email``: no email known yet;
7. ``no_action``.
The reasons name the rule and the figures it tested.

Invariants: pure functions of the features and scores they are given; scores lie in [0, 100].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from streams.predictive.features import LEAD_REASON_CODES
from streams.predictive.reasons import format_value

LEAD_RULES_VERSION: Final = "rules-v1"
NBA_VERSION: Final = "nba-rules-v1"
#: feature -> (points per unit, cap); a feature that is NaN adds nothing
LEAD_POINTS: Final[Mapping[str, tuple[float, float]]] = {
    "touchpoints_7d": (4.0, 20.0),
    "touchpoints_30d": (1.0, 10.0),
    "email_touches_30d": (3.0, 9.0),
    "web_visits_30d": (2.0, 8.0),
    "distinct_channels_30d": (2.0, 6.0),
    "lead_conversions": (8.0, 16.0),
    "demo_requested": (15.0, 15.0),
    "has_email": (4.0, 4.0),
    "has_customer_id": (4.0, 4.0),
    "chat_sessions_30d": (6.0, 12.0),
}


@dataclass(frozen=True, slots=True)
class RuleScore:
    score: float
    reasons: tuple[str, ...]  # "CODE: text", strongest first


def _reason(feature: str, value: float) -> str:
    code = LEAD_REASON_CODES[feature]
    return f"{code.code}: {code.positive.format(value=format_value(value))}"


def lead_rules(features: Mapping[str, float], top_k: int = 3) -> RuleScore:
    points: list[tuple[float, str]] = []
    for feature, (per_unit, cap) in LEAD_POINTS.items():
        value = features.get(feature, math.nan)
        if math.isnan(value) or value <= 0:
            continue
        points.append((min(cap, per_unit * value), feature))
    points.sort(key=lambda p: -p[0])
    score = min(100.0, sum(p for p, _ in points))
    return RuleScore(round(score, 2), tuple(_reason(f, features[f]) for _, f in points[:top_k]))


@dataclass(frozen=True, slots=True)
class ActionPolicy:
    churn_at: float = 50.0
    hot_lead_at: float = 70.0
    warm_lead_at: float = 40.0
    cross_sell_value: float = 100.0


DEFAULT_ACTIONS: Final = ActionPolicy()


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    reasons: tuple[str, ...]
    details: dict[str, str]


def _opted_out_of_email(attributes: Mapping[str, str], tags: Sequence[str]) -> bool:
    opted = {p.strip().lower() for p in attributes.get("opt_out", "").split(",")}
    return bool({"email", "all"} & opted) or "opt_out:email" in tags or \
        attributes.get("unsubscribed", "").strip().lower() in ("true", "yes", "1")


#: ``f"{score:.1f}"`` per score seen: scores are rounded to hundredths in [0, 100], so few
#: distinct ones recur across people; emptied at ``_TENTHS_LIMIT`` entries. Zero is never
#: kept: 0.0 and -0.0 are one key but format differently.
_TENTHS: dict[float, str] = {}
_TENTHS_LIMIT: Final = 65_536


def _tenths(score: float) -> str:
    text = _TENTHS.get(score)
    if text is None:
        text = f"{score:.1f}"
        if score:
            if len(_TENTHS) >= _TENTHS_LIMIT:
                _TENTHS.clear()
            _TENTHS[score] = text
    return text


#: the features the next best action reads (absent: 0)
NBA_FEATURES: Final = ("prior_purchases", "has_email", "chat_sessions_30d")


def _action(purchased: bool, has_email: bool, chats: float, lead: float, churn: float,
            value_12m: float, attributes: Mapping[str, str], tags: Sequence[str],
            policy: ActionPolicy) -> tuple[str, tuple[str, ...]]:
    """The first rule that holds: its label and reasons."""
    if churn >= policy.churn_at and purchased:
        return "retention_offer", (f"RULE_CHURN: churn risk {churn:.0f} >= "
                                   f"{policy.churn_at:.0f} for a customer",)
    if lead >= policy.hot_lead_at and not purchased:
        return "sales_call", (f"RULE_HOT_LEAD: lead score {lead:.0f} >= "
                              f"{policy.hot_lead_at:.0f}, no purchase yet",)
    if lead >= policy.warm_lead_at and chats > 0:
        return "proactive_chat", (f"RULE_WARM_CHATTER: lead score {lead:.0f} >= "
                                  f"{policy.warm_lead_at:.0f}, chatted {chats:.0f} times "
                                  "in 30 days",)
    if lead >= policy.warm_lead_at and has_email and not _opted_out_of_email(attributes, tags):
        return "nurture_email", (f"RULE_WARM_LEAD: lead score {lead:.0f} >= "
                                 f"{policy.warm_lead_at:.0f}, email known",)
    if purchased and value_12m >= policy.cross_sell_value:
        return "cross_sell", (f"RULE_VALUABLE: expected 12-month value {value_12m:.0f} "
                              f">= {policy.cross_sell_value:.0f}",)
    if not has_email:
        return "capture_email", ("RULE_ANONYMOUS: no email known yet",)
    return "no_action", ("RULE_NONE: no rule applies",)


def next_best_action(features: Mapping[str, float], lead: float, churn: float, value_12m: float,
                     attributes: Mapping[str, str], tags: tuple[str, ...],
                     policy: ActionPolicy = DEFAULT_ACTIONS) -> Action:
    purchased = features.get("prior_purchases", 0.0) > 0
    has_email = features.get("has_email", 0.0) > 0
    chats = features.get("chat_sessions_30d", 0.0)
    figures = {"lead_score": _tenths(lead), "churn_risk": _tenths(churn),
               "expected_value_12m": f"{value_12m:.2f}"}
    label, reasons = _action(purchased, has_email, chats, lead, churn, value_12m, attributes,
                             tags, policy)
    return Action(label, reasons, figures)


def next_best_actions(purchases: Sequence[float], emails: Sequence[float],
                      chats: Sequence[float], leads: Sequence[float], churns: Sequence[float],
                      values_12m: Sequence[float], attributes: Sequence[Mapping[str, str]],
                      tags: Sequence[Sequence[str]], policy: ActionPolicy = DEFAULT_ACTIONS
                      ) -> tuple[list[str], list[tuple[str, ...]], list[dict[str, str]]]:
    """``next_best_action`` of a batch, from its columns (``NBA_FEATURES`` as three columns,
    the scores, attributes and tags per person): (labels, reasons, figures), the figures'
    texts formatted a column at once."""
    made = [_action(p > 0, e > 0, c, lead, churn, value, a, t, policy) for
            p, e, c, lead, churn, value, a, t in zip(purchases, emails, chats, leads, churns,
                                                     values_12m, attributes, tags, strict=True)]
    figures = [{"lead_score": a, "churn_risk": b, "expected_value_12m": c} for a, b, c in zip(
        map(_tenths, leads), map(_tenths, churns), map("{:.2f}".format, values_12m),
        strict=True)]
    return [m[0] for m in made], [m[1] for m in made], figures
