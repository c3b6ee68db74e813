"""The contract rules of an ``ad.metrics`` record that Avro cannot express, in one place.

Both ends apply them: a connector turns a platform row that breaks them into a reject before
producing (``streams.marketing.connectors.rows``), and the KPI stage dead-letters a message
that breaks them whoever produced it (``streams.marketing.kpis.validate``).

Invariants: ``metric_problem`` names the first rule a record breaks (None when it keeps them
all), the same record and clock giving the same answer; it reads only the record's fields of
``schemas/avro/ad_metric.v1.avsc``; money is never converted here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

# Active ISO 4217 codes (2025); a code outside this set is a reject, not a guess.
_ISO_4217 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
_ZERO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
KNOWN_CURRENCIES: Final = frozenset(_ISO_4217.split())
# Currencies whose minor unit is not 1/100 (budgets in minor units, e.g. Meta's daily_budget).
MINOR_UNIT_DIGITS: Final[dict[str, int]] = {
    **dict.fromkeys(_ZERO_DIGITS.split(), 0),
    **dict.fromkeys(_THREE_DIGITS.split(), 3),
}
COUNT_FIELDS: Final = ("impressions", "clicks", "cost_micros")
OPTIONAL_COUNTS: Final = ("bid_micros", "budget_micros")


def metric_problem(record: Mapping[str, Any], now_ms: int, max_future_ms: int) -> str | None:
    """Why a record breaks the contract, or None when it is fine.

    Counts are whole and not negative, clicks not above impressions, amounts (conversions,
    their value, every ``extra`` metric) finite and not negative, the currency a known ISO
    4217 code, the interval's end after its start, its start not more than ``max_future_ms``
    after ``now_ms``, and the campaign id not empty."""
    for name in COUNT_FIELDS:
        value = record[name]
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{name} is not an integer ({value!r})"
        if value < 0:
            return f"{name} is negative ({value})"
    for name in OPTIONAL_COUNTS:
        value = record.get(name)
        if value is not None and value < 0:
            return f"{name} is negative ({value})"
    extra = record.get("extra") or {}
    for name in ("conversions", "conversion_value", *extra):
        value = record[name] if name in record else extra[name]
        if not math.isfinite(value):
            return f"{name} is not finite ({value!r})"
        if value < 0:
            return f"{name} is negative ({value})"
    if record["clicks"] > record["impressions"]:
        return f"clicks ({record['clicks']}) exceed impressions ({record['impressions']})"
    if record["currency"] not in KNOWN_CURRENCIES:
        return f"currency {record['currency']!r} is not a known ISO 4217 code"
    if record["interval_end"] <= record["interval_start"]:
        return "interval_end is not after interval_start"
    if record["interval_start"] > now_ms + max_future_ms:
        return "interval starts in the future"
    if not record["campaign_id"]:
        return "campaign_id is empty"
    return None
