"""Rule-based attribution: first touch, last touch, last non-direct, linear, time decay, position based.

Invariants:
- Credits are computed per conversion: for every model, the credit fractions of a non-empty
  journey's touchpoints are >= 0 and sum to 1; a conversion with an empty journey gets no rows.
- ``revenue_credit = conversion value * credit``, in the conversion's currency.
- last_non_direct credits the last touchpoint whose channel is not ``direct``; a journey of
  direct touches only credits its last touch.
- time_decay weighs a touch ``2 ** (-(conversion time - touch time) / half_life)``.
- position_based gives 40 % to the first and last touch and shares 20 % among the middle
  ones; one touch gets 100 %, two touches 50 % each.
- The fractions are computed for all journeys at once from arrays (``rule_fractions``); the
  per-conversion function (``attribute``, what the stream calls for every conversion) uses
  the same formulas in plain Python over the one journey (numpy's set-up costs more than a
  journey of a few touches takes), and the two agree to the last bits of rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from streams.customer.attribution import (
    DAY_MS,
    DEFAULT_LOOKBACK_MS,
    Conversion,
    ConversionTable,
    Floats,
    Ints,
    Journeys,
    Objects,
    Touchpoint,
    TouchTable,
    journey,
)

Model = Literal["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"]
RULE_MODELS: tuple[Model, ...] = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
                                  "position_based")
DEFAULT_HALF_LIFE_MS = 7 * DAY_MS
COLUMNS = ("conversion_id", "model", "model_version", "touchpoint_id", "channel", "campaign_id",
           "occurred_at", "credit", "revenue_credit", "currency")


def rule_fractions(model: Model, offsets: Ints, channel: Ints, age_ms: Ints | Floats | None = None,
                   direct: int = -1, half_life_ms: float = DEFAULT_HALF_LIFE_MS) -> Floats:
    """Credit fraction of every element of CSR journeys ``offsets`` (one value per element).

    ``channel`` holds channel codes per element (``direct`` is the code of the direct channel,
    -1 if none); ``age_ms`` the time from each touch to its conversion (time decay only).
    """
    lengths: Ints = np.diff(offsets)
    n: Ints = np.repeat(lengths, lengths)
    journey: Ints = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    pos: Ints = np.arange(len(channel), dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    last = pos == n - 1
    if model == "first_touch":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "last_touch":
        return np.asarray(last, dtype=np.float64)
    if model == "linear":
        return np.asarray(1.0 / n, dtype=np.float64)
    if model == "last_non_direct":
        # The last non-direct position of each journey, or -1 when all its touches are direct.
        candidate = np.where(channel != direct, pos, -1)
        best = np.full(len(lengths), -1, dtype=np.int64)
        np.maximum.at(best, journey, candidate)
        chosen = np.where(best >= 0, best, lengths - 1)
        return np.asarray(pos == chosen[journey], dtype=np.float64)
    if model == "time_decay":
        if age_ms is None:
            raise ValueError("time_decay needs the age of every touch")
        # Relative to the youngest touch of the journey so that old touches never underflow to 0/0.
        age = np.asarray(age_ms, dtype=np.float64)
        youngest = np.full(len(lengths), np.inf)
        np.minimum.at(youngest, journey, age)
        weight = np.exp2(-(age - youngest[journey]) / half_life_ms)
        total = np.bincount(journey, weights=weight, minlength=len(lengths))
        return np.asarray(weight / total[journey], dtype=np.float64)
    if model == "position_based":
        middle = np.where(n > 2, 0.2 / np.maximum(n - 2, 1), 0.0)
        ends = np.where(n == 1, 1.0, np.where(n == 2, 0.5, 0.4))
        return np.asarray(np.where((pos == 0) | last, ends, middle), dtype=np.float64)
    raise ValueError(f"unknown model {model!r}")


class Credit(NamedTuple):
    """One touchpoint's credit from one model (a named tuple: the stream makes one per model
    and touch of every conversion, and a frozen dataclass costs ten times more to build)."""

    conversion_id: str
    model: str
    touchpoint_id: str
    channel: str
    campaign_id: str | None
    occurred_at: int
    credit: float
    revenue_credit: float
    currency: str


@dataclass(frozen=True)
class CreditTable:
    """Credits as columns: one row per conversion, model and touchpoint of its journey."""

    conversion_id: Objects
    model: Objects
    touchpoint_id: Objects
    channel: Objects
    campaign_id: Objects
    occurred_at: Ints
    credit: Floats
    revenue_credit: Floats
    currency: Objects

    def __len__(self) -> int:
        return len(self.credit)

    def rows(self) -> list[Credit]:
        return [Credit(*row) for row in zip(self.conversion_id.tolist(), self.model.tolist(),
                                            self.touchpoint_id.tolist(), self.channel.tolist(),
                                            self.campaign_id.tolist(), self.occurred_at.tolist(),
                                            self.credit.tolist(), self.revenue_credit.tolist(),
                                            self.currency.tolist(), strict=True)]


def rule_credits(touches: TouchTable, conversions: ConversionTable, journeys: Journeys,
                 models: Sequence[Model] = RULE_MODELS, half_life_ms: float = DEFAULT_HALF_LIFE_MS,
                 direct_channel: str = "direct") -> CreditTable:
    """Every model's credits for every conversion whose journey is not empty."""
    rows = journeys.touch
    conv = journeys.journey_of_element()
    channel = touches.channel[rows]
    age = conversions.occurred_at[conv] - touches.occurred_at[rows]
    direct = touches.channels.index(direct_channel) if direct_channel in touches.channels else -1
    fractions = [rule_fractions(m, journeys.offsets, channel, age, direct, half_life_ms) for m in models]
    k = len(models)
    names = np.array(list(touches.channels), dtype=object)
    credit = np.concatenate(fractions) if fractions else np.zeros(0)
    model = np.repeat(np.array(list(models), dtype=object), len(rows))
    tile_conv = np.tile(conv, k)
    return CreditTable(
        conversion_id=np.tile(conversions.conversion_id[conv], k).astype(object),
        model=model,
        touchpoint_id=np.tile(touches.touchpoint_id[rows], k).astype(object),
        channel=np.tile(names[channel], k),
        campaign_id=np.tile(touches.campaign_id[rows], k),
        occurred_at=np.tile(touches.occurred_at[rows], k),
        credit=credit,
        revenue_credit=credit * conversions.value[tile_conv],
        currency=np.tile(conversions.currency[conv], k),
    )


def journey_fractions(model: Model, channels: Sequence[str], ages_ms: Sequence[int],
                      direct_channel: str = "direct",
                      half_life_ms: float = DEFAULT_HALF_LIFE_MS) -> list[float]:
    """``rule_fractions`` of one non-empty journey, in plain Python: its touches' channels and
    ages (time to the conversion) in journey order."""
    n = len(channels)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "last_non_direct":
        chosen = next((i for i in range(n - 1, -1, -1) if channels[i] != direct_channel), n - 1)
        return [1.0 if i == chosen else 0.0 for i in range(n)]
    if model == "time_decay":
        youngest = min(ages_ms)
        weights = [2.0 ** (-(a - youngest) / half_life_ms) for a in ages_ms]
        total = sum(weights)
        return [w / total for w in weights]
    if model == "position_based":
        if n <= 2:
            return [1.0 / n] * n
        middle = 0.2 / (n - 2)
        return [0.4] + [middle] * (n - 2) + [0.4]
    raise ValueError(f"unknown model {model!r}")


def attribute(conversion: Conversion, touchpoints: Iterable[Touchpoint],
              models: Sequence[Model] = RULE_MODELS, lookback_ms: int = DEFAULT_LOOKBACK_MS,
              half_life_ms: float = DEFAULT_HALF_LIFE_MS, direct_channel: str = "direct") -> list[Credit]:
    """The credits of one conversion, from the person's touchpoints (as a stream step sees
    them): the rows ``rule_credits`` gives it, model by model in journey order."""
    touches = journey(conversion, touchpoints, lookback_ms)
    if not touches:
        return []
    channels = [t.channel for t in touches]
    ages = [conversion.occurred_at - t.occurred_at for t in touches]
    value, cid, currency = conversion.value, conversion.conversion_id, conversion.currency
    return [Credit(cid, model, t.touchpoint_id, t.channel, t.campaign_id, t.occurred_at, f,
                   f * value, currency)
            for model in models
            for t, f in zip(touches, journey_fractions(model, channels, ages, direct_channel,
                                                       half_life_ms), strict=True)]


def credit_columns(credits: CreditTable | Sequence[Credit], model_version: str) -> dict[str, list[Any]]:
    """ClickHouse-style columns (column name -> list of values) for an attribution credits table."""
    if isinstance(credits, CreditTable):
        n = len(credits)
        return {"conversion_id": credits.conversion_id.tolist(), "model": credits.model.tolist(),
                "model_version": [model_version] * n, "touchpoint_id": credits.touchpoint_id.tolist(),
                "channel": credits.channel.tolist(), "campaign_id": credits.campaign_id.tolist(),
                "occurred_at": credits.occurred_at.tolist(), "credit": credits.credit.tolist(),
                "revenue_credit": credits.revenue_credit.tolist(), "currency": credits.currency.tolist()}
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for c in credits:
        for name in COLUMNS:
            columns[name].append(model_version if name == "model_version" else getattr(c, name))
    return columns


def channel_totals(credits: CreditTable, model: str) -> dict[str, tuple[float, float]]:
    """Conversions and revenue credited to each channel by one model."""
    pick = credits.model == model
    names, index = np.unique(credits.channel[pick], return_inverse=True)
    conv = np.bincount(index, weights=credits.credit[pick], minlength=len(names))
    value = np.bincount(index, weights=credits.revenue_credit[pick], minlength=len(names))
    return {str(n): (float(c), float(v)) for n, c, v in zip(names.tolist(), conv, value, strict=True)}
