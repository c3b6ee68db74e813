"""Campaigns and hourly figures of the ad-metrics simulator (see ``streams.simulators.chat``).

Magnitudes follow what the platforms report: Google Ads cost in micros (whole cents), Meta
spend as a two-decimal string converted exactly to micros, email campaigns as delivered /
unique clicks with sends, opens, bounces and unsubscribes, web analytics as sessions with no
cost. Campaigns with ad groups report one row per ad group plus the campaign row, which is
their sum.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

HOUR_MS: Final = 3_600_000
CENT_MICROS: Final = 10_000

PLATFORMS: Final = ("GOOGLE_ADS", "META", "EMAIL", "WEB_ANALYTICS")
CURRENCIES: Final = ("USD", "EUR", "GBP")

#: platform -> (impressions/h at peak, click rate, cost per click (email: per 1,000 sends),
#: conversions per click (web analytics: per session)), each a (low, high) range
PROFILES: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    "GOOGLE_ADS": ((1_000, 30_000), (0.02, 0.08), (0.4, 3.5), (0.02, 0.10)),
    "META": ((5_000, 100_000), (0.005, 0.02), (0.2, 1.5), (0.01, 0.05)),
    "EMAIL": ((200, 20_000), (0.01, 0.05), (0.5, 1.2), (0.02, 0.08)),
    "WEB_ANALYTICS": ((200, 5_000), (0.5, 0.7), (0.0, 0.0), (0.01, 0.05)),
}
NAMES: Final[dict[str, tuple[str, ...]]] = {
    "GOOGLE_ADS": ("Search - Brand", "Search - Generic - Coffee makers", "PMax - Home & Kitchen",
                   "Display - Remarketing", "YouTube - Awareness", "Shopping - Best sellers",
                   "Search - Competitors"),
    "META": ("Prospecting - Lookalike 1%", "Retargeting - Cart abandoners",
             "Awareness - Video views", "Catalog sales - All products",
             "Lead gen - Demo requests", "Engagement - Spring launch"),
    "EMAIL": ("Weekly newsletter", "Cart abandonment flow", "Spring sale announcement",
              "Win-back 90 days", "Onboarding series", "Product launch: Pulse 2"),
    "WEB_ANALYTICS": ("(direct)", "(organic)", "spring_sale", "newsletter", "brand_search",
                      "partner_referral", "retargeting_q2"),
}
AUDIENCES: Final[dict[str, tuple[str | None, ...]]] = {
    "GOOGLE_ADS": (None, "In-market: Home & Kitchen", "Remarketing: site visitors 30d",
                   "Custom segment: coffee machines"),
    "META": ("Lookalike 1% purchasers", "Website visitors 30d", "Interests: cooking, coffee",
             "Broad 25-54"),
    "EMAIL": ("Newsletter subscribers", "Cart abandoners", "Lapsed customers 90d",
              "New sign-ups"),
    "WEB_ANALYTICS": (None,),
}
#: platform -> (prefix, digits) of account ids: Google customer id, Meta ad account,
#: ESP account, GA4 property
ACCOUNT_FORMAT: Final[dict[str, tuple[str, int]]] = {
    "GOOGLE_ADS": ("", 10), "META": ("act_", 15), "EMAIL": ("esp-", 6),
    "WEB_ANALYTICS": ("properties/", 9),
}
#: Chance per campaign and hour that a spike or a drop starts (lasting 1-4 hours).
ANOMALY_CHANCE: Final = 0.006


def meta_spend_to_micros(spend: str) -> int:
    """Meta's decimal ``spend`` string in micros, exactly (no float on the way)."""
    micros = Decimal(spend) * 1_000_000
    if micros != micros.to_integral_value():
        raise ValueError(f"spend {spend!r} has more than 6 decimals")
    return int(micros)


@dataclass
class Campaign:
    platform: str
    account_id: str
    campaign_id: str
    name: str
    currency: str
    audience: str | None
    peak_impressions: float
    click_rate: float
    cost_per_click: float
    conversion_rate: float
    order_value: float
    bid_micros: int | None
    budget_micros: int | None
    ad_groups: tuple[tuple[str, float], ...]  # (id, share of the campaign's traffic)
    anomaly_hours: int = 0
    anomaly_factor: float = 1.0


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(10 ** (n - 1), 10**n - 1))


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _campaign_id(rng: random.Random, platform: str, name: str) -> str:
    if platform == "GOOGLE_ADS":
        return _digits(rng, 11)
    if platform == "META":
        return "238" + _digits(rng, 14)
    if platform == "EMAIL":
        return f"cmp_{rng.getrandbits(40):010x}"
    return name  # GA4 reports the campaign by its utm_campaign name


def make_campaigns(rng: random.Random) -> list[Campaign]:
    """4-6 campaigns on each platform, spread over two accounts per platform."""
    campaigns: list[Campaign] = []
    for platform in PLATFORMS:
        accounts = []
        for _ in range(2):
            prefix, digits = ACCOUNT_FORMAT[platform]
            accounts.append((prefix + _digits(rng, digits), rng.choice(CURRENCIES)))
        impressions, ctr, cpc, cr = PROFILES[platform]
        names = rng.sample(NAMES[platform], rng.randint(4, 6))
        paid = platform in ("GOOGLE_ADS", "META")
        # a few paid campaigns also report their ad groups (ad sets); most rows stay campaigns
        split = set(rng.sample(names, rng.randint(1, 2))) if paid else set()
        for name in names:
            account_id, currency = rng.choice(accounts)
            campaign_id = _campaign_id(rng, platform, name)
            peak = _log_uniform(rng, *impressions)
            click_rate = rng.uniform(*ctr)
            cost_per_click = round(rng.uniform(*cpc), 2)
            daily_spend = peak * 0.55 * 24 * click_rate * cost_per_click
            ad_groups: tuple[tuple[str, float], ...] = ()
            if name in split:
                weights = [rng.gammavariate(2.0, 1.0) for _ in range(rng.randint(2, 3))]
                ad_groups = tuple(
                    (_digits(rng, 11) if platform == "GOOGLE_ADS" else "238" + _digits(rng, 14),
                     w / sum(weights))
                    for w in weights
                )
            campaigns.append(Campaign(
                platform=platform, account_id=account_id, campaign_id=campaign_id, name=name,
                currency=currency, audience=rng.choice(AUDIENCES[platform]),
                peak_impressions=peak, click_rate=click_rate, cost_per_click=cost_per_click,
                conversion_rate=rng.uniform(*cr), order_value=rng.uniform(25, 250),
                bid_micros=round(cost_per_click * 130) * CENT_MICROS
                if platform == "GOOGLE_ADS" else None,
                budget_micros=math.ceil(daily_spend * 1.25) * 1_000_000 if paid else None,
                ad_groups=ad_groups,
            ))
    return campaigns


def _diurnal(hour_ms: int) -> float:
    """Traffic of the hour relative to the daily peak (lowest 03:00, highest 15:00 UTC)."""
    hour = hour_ms // HOUR_MS % 24
    return 0.55 - 0.45 * math.cos(2 * math.pi * (hour - 3) / 24)


def _figures(rng: random.Random, c: Campaign, volume: float) -> dict[str, Any]:
    impressions = max(0, round(volume * rng.lognormvariate(0, 0.12)))
    clicks = min(impressions, round(impressions * c.click_rate * rng.lognormvariate(0, 0.1)))
    extra: dict[str, float] = {}
    cost_micros = 0
    if c.platform == "GOOGLE_ADS":
        cost = clicks * c.cost_per_click * rng.lognormvariate(0, 0.08)
        cost_micros = round(cost * 100) * CENT_MICROS
        conversions = round(clicks * c.conversion_rate * rng.lognormvariate(0, 0.25), 2)
    elif c.platform == "META":
        spend = f"{clicks * c.cost_per_click * rng.lognormvariate(0, 0.08):.2f}"
        cost_micros = meta_spend_to_micros(spend)
        conversions = float(round(clicks * c.conversion_rate * rng.lognormvariate(0, 0.25)))
        frequency = rng.uniform(1.05, 1.8)
        reach = round(impressions / frequency)
        extra = {"reach": float(reach), "frequency": round(impressions / reach, 4) if reach
                 else 0.0}
    elif c.platform == "EMAIL":
        delivered = impressions
        sends = round(delivered / (1 - rng.uniform(0.005, 0.03)))
        opens = round(delivered * rng.uniform(0.15, 0.45))
        clicks = min(clicks, opens)
        cost_micros = round(sends / 1000 * c.cost_per_click * 100) * CENT_MICROS
        conversions = float(round(clicks * c.conversion_rate * rng.lognormvariate(0, 0.25)))
        extra = {"sends": float(sends), "opens": float(opens),
                 "bounces": float(sends - delivered),
                 "unsubscribes": float(round(delivered * rng.uniform(0.0005, 0.004)))}
    else:  # WEB_ANALYTICS: impressions are sessions, clicks engaged sessions
        conversions = float(round(impressions * c.conversion_rate * rng.lognormvariate(0, 0.2)))
        extra = {"sessions": float(impressions),
                 "total_users": float(round(impressions * rng.uniform(0.72, 0.9))),
                 "key_events": conversions}
    value = round(conversions * c.order_value * rng.lognormvariate(0, 0.2), 2)
    return {"impressions": impressions, "clicks": clicks, "cost_micros": cost_micros,
            "conversions": conversions, "conversion_value": value, "extra": extra}


def _row(c: Campaign, hour_ms: int, level: str, ad_group_id: str | None,
         figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "platform": c.platform, "account_id": c.account_id, "campaign_id": c.campaign_id,
        "campaign_name": c.name, "level": level, "ad_group_id": ad_group_id, "ad_id": None,
        "device": None, "interval_start": hour_ms, "interval_end": hour_ms + HOUR_MS,
        **figures,
        "currency": c.currency, "bid_micros": c.bid_micros, "budget_micros": c.budget_micros,
        "audience": c.audience, "reported_at": 0,
    }


def hourly_rows(rng: random.Random, c: Campaign, hour_ms: int) -> list[dict[str, Any]]:
    """The rows of one campaign for one hour (``reported_at`` left for the caller)."""
    if c.anomaly_hours > 0:
        c.anomaly_hours -= 1
    elif rng.random() < ANOMALY_CHANCE:
        c.anomaly_hours = rng.randint(0, 3)
        spike = rng.random() < 0.5
        c.anomaly_factor = rng.uniform(2.5, 6.0) if spike else rng.uniform(0.05, 0.3)
    else:
        c.anomaly_factor = 1.0
    volume = c.peak_impressions * _diurnal(hour_ms) * c.anomaly_factor
    if not c.ad_groups:
        return [_row(c, hour_ms, "CAMPAIGN", None, _figures(rng, c, volume))]
    groups = [(gid, _figures(rng, c, volume * share)) for gid, share in c.ad_groups]
    total: dict[str, Any] = {
        "impressions": sum(f["impressions"] for _, f in groups),
        "clicks": sum(f["clicks"] for _, f in groups),
        "cost_micros": sum(f["cost_micros"] for _, f in groups),
        "conversions": round(sum(f["conversions"] for _, f in groups), 2),
        "conversion_value": round(sum(f["conversion_value"] for _, f in groups), 2),
        "extra": {},
    }
    if c.platform == "META":  # ad sets overlap: campaign reach is below the sum of theirs
        reach = round(sum(f["extra"]["reach"] for _, f in groups) * 0.92)
        total["extra"] = {"reach": float(reach),
                          "frequency": round(total["impressions"] / reach, 4) if reach else 0.0}
    rows = [_row(c, hour_ms, "AD_GROUP", gid, f) for gid, f in groups]
    rows.append(_row(c, hour_ms, "CAMPAIGN", None, total))
    return rows


def revise(rng: random.Random, c: Campaign, value: dict[str, Any]) -> dict[str, Any]:
    """The same interval reported again 1-48 h later: late conversions, filtered clicks."""
    later = dict(value, extra=dict(value["extra"]))
    later["reported_at"] = value["reported_at"] + rng.randint(1, 48) * HOUR_MS + rng.randrange(
        HOUR_MS)
    growth = 1 + rng.uniform(0.005, 0.08)
    if c.platform in ("GOOGLE_ADS", "META"):
        filtered = 1 - rng.uniform(0.0, 0.01)
        later["clicks"] = round(value["clicks"] * filtered)
        if c.platform == "META":
            spend = (Decimal(value["cost_micros"]) / 1_000_000 * Decimal(str(filtered))
                     ).quantize(Decimal("0.01"))
            later["cost_micros"] = meta_spend_to_micros(str(spend))
        else:
            later["cost_micros"] = round(value["cost_micros"] * filtered / CENT_MICROS
                                         ) * CENT_MICROS
    conversions = value["conversions"] * growth
    later["conversions"] = (round(conversions, 2) if c.platform == "GOOGLE_ADS"
                            else float(math.ceil(conversions)))
    later["conversion_value"] = round(value["conversion_value"] * growth, 2)
    if "key_events" in later["extra"]:
        later["extra"]["key_events"] = later["conversions"]
    return later
