"""A data-driven attribution run: Markov and Shapley credits of a data window, as one version.

A run reads every person's touchpoints and conversions (``customer_events``, with persons
merged away mapped to the person that absorbed them, so a journey spans all of a person's
identifiers; after a split, each event's row names its part's person, ``split_events``, and a
merge that a split undid no longer maps), builds each conversion's journey and the
non-converting paths, and credits channels (Markov chain removal effects at the orders asked,
with bootstrap intervals; Shapley values) and, for Shapley, channel and campaign pairs.

Invariants:
- The window: conversions with ``start_ms <= occurred_at <= end_ms``; their journeys read the
  touchpoints from ``start_ms - lookback_ms`` on. A non-converting path is a person's
  touchpoints after their last conversion (all of them if none) inside that range.
- Rows are long and additive: one per (model, order, level, measure, currency, channel,
  campaign). ``measure`` ``conversions`` (currency ``""``) sums, per model, order and level, to
  the conversions with a non-empty journey; ``revenue`` sums, per currency, to those
  conversions' value in that currency: amounts are never converted here.
- Markov credits are per channel (``level`` ``channel``, campaign ``""``): a chain over
  channel and campaign pairs would have too many rarely visited states to estimate. Shapley
  (its Möbius form is linear in the journeys) is given per channel and per channel and
  campaign (``level`` ``campaign``; a touch without a campaign counts as campaign ``""``).
- Bootstrap intervals resample journeys (seeded); with the same seed every currency draws the
  same journeys, so the conversions interval is the same whichever currency it comes from.
- A run is a version: every row carries its ``run_id`` (from the creation time and what was
  asked), the window, the model and order and ``created_at``; the latest run of a model and
  order is the one analysts read, earlier ones stay as history. The same run written twice
  leaves the same rows (the dedup key holds the run id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import numpy as np

from streams.customer.attribution import (
    DAY_MS,
    DEFAULT_LOOKBACK_MS,
    ConversionTable,
    TouchTable,
    build_journeys,
)
from streams.customer.attribution_paths import ChannelPaths, channel_paths
from streams.customer.markov import markov_attribution, markov_bootstrap
from streams.customer.shapley import shapley_attribution
from streams.kernel.records import Columns, empty_columns

DataModel = Literal["markov", "shapley"]
DATA_MODELS: Final[tuple[DataModel, ...]] = ("markov", "shapley")
#: separates a channel from its campaign in the players of the campaign-level game
_PAIR: Final = "\x1f"
RUN_COLUMNS: Final = (
    "run_id", "created_at", "window_start", "window_end", "lookback_days", "model",
    "markov_order", "level", "measure", "currency", "channel", "campaign_id", "credit",
    "credit_low", "credit_high", "removal_effect", "conversions", "journeys", "replicates",
    "confidence", "_version")

#: touchpoints and conversions of a window (parameters ``start`` and ``end``, epoch ms)
TOUCHPOINTS_SQL: Final = """
SELECT person_id, event_id, toUnixTimestamp64Milli(occurred_at) AS at, ifNull(channel, '') AS channel,
       campaign_id
FROM customer_events FINAL
WHERE kind = 'touchpoint'
  AND occurred_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')
  AND occurred_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')
"""
CONVERSIONS_SQL: Final = """
SELECT person_id, event_id, toUnixTimestamp64Milli(occurred_at) AS at, ifNull(value, 0) AS value,
       ifNull(currency, '') AS currency
FROM customer_events FINAL
WHERE kind = 'conversion'
  AND occurred_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')
  AND occurred_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')
"""
#: every merge (``other_person`` was absorbed into ``person_id``) and every part of a split
#: (``person_id`` lives again), in log order (``identity.observations`` is one partition)
MERGES_SQL: Final = """
SELECT other_person, person_id, kind FROM identity_links FINAL
WHERE (kind = 'merge' AND other_person IS NOT NULL) OR kind = 'split'
ORDER BY _offset, seq
"""


@dataclass(frozen=True, slots=True)
class Window:
    """Conversions from ``start_ms`` to ``end_ms`` (inclusive, epoch ms)."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError("a window ends after it starts")


@dataclass(frozen=True, slots=True)
class RunPolicy:
    models: tuple[DataModel, ...] = DATA_MODELS
    orders: tuple[int, ...] = (1,)
    lookback_ms: int = DEFAULT_LOOKBACK_MS
    replicates: int = 100  # bootstrap replicates of the Markov credits; 0: no intervals
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(DATA_MODELS)
        if unknown or not self.models:
            raise ValueError(f"models are among {', '.join(DATA_MODELS)}; not {sorted(unknown)}")
        if not self.orders or any(not 1 <= o <= 3 for o in self.orders):
            raise ValueError("Markov orders are between 1 and 3")
        if self.replicates < 0 or not 0 < self.confidence < 1:
            raise ValueError("replicates >= 0 and a confidence level between 0 and 1")


@dataclass(frozen=True, slots=True)
class ModelCredit:
    model: DataModel
    order: int  # the Markov order; 0 for Shapley
    level: Literal["channel", "campaign"]
    measure: Literal["conversions", "revenue"]
    currency: str  # "" for conversions
    channel: str
    campaign_id: str
    credit: float
    low: float | None = None
    high: float | None = None
    removal_effect: float | None = None


@dataclass(frozen=True)
class RunResult:
    window: Window
    policy: RunPolicy
    credits: tuple[ModelCredit, ...]
    conversions: int  # in the window
    attributed: int  # with a non-empty journey
    journeys: int  # paths: converting and non-converting
    touchpoints: int


def parse_orders(text: str) -> tuple[int, ...]:
    """``"1"``, ``"1..3"`` or ``"1,3"`` as Markov orders."""
    text = text.strip()
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            orders = tuple(range(int(a), int(b) + 1))
        else:
            orders = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise ValueError(f"{text!r} is not an order like 1, 1..3 or 1,3") from None
    if not orders or any(not 1 <= o <= 3 for o in orders):
        raise ValueError(f"{text!r}: Markov orders are between 1 and 3")
    return orders


def survivors(merges: Iterable[tuple[str, str]] | Iterable[tuple[str, str, str]]
              ) -> dict[str, str]:
    """For every person merged away, the person that holds it now (merges followed to the
    end; a cycle, which identity resolution never makes, stops at its first repeat). Given
    in log order with their kinds, a ``split`` row's part (``(_, person, "split")``) is a
    person again: a merge of that id before the split no longer holds (a part's id is
    derived from its anchor, so a split can give back the id a merge took away)."""
    into: dict[str, str] = {}
    for row in merges:
        absorbed, survivor = row[0], row[1]
        if len(row) > 2 and row[2] == "split":
            into.pop(survivor, None)
        elif absorbed != survivor:
            into[absorbed] = survivor
    out: dict[str, str] = {}
    for start in into:
        seen = {start}
        person = into[start]
        while person in into and person not in seen:
            seen.add(person)
            person = into[person]
        out[start] = person
    return out


def _objects(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def tables_from_rows(touch_rows: Sequence[Sequence[Any]], conversion_rows: Sequence[Sequence[Any]],
                     merged: Mapping[str, str] | None = None) -> tuple[TouchTable, ConversionTable]:
    """Touchpoint rows ``(person, id, at ms, channel, campaign)`` and conversion rows
    ``(person, id, at ms, value, currency)`` (the order of ``TOUCHPOINTS_SQL`` and
    ``CONVERSIONS_SQL``) as tables, persons mapped through ``merged``."""
    merged = merged or {}
    tp = list(zip(*touch_rows, strict=True)) if touch_rows else [()] * 5
    cv = list(zip(*conversion_rows, strict=True)) if conversion_rows else [()] * 5
    channels = sorted(set(tp[3]))
    index = {c: i for i, c in enumerate(channels)}
    touches = TouchTable(_objects(tp[1]), _objects([merged.get(p, p) for p in tp[0]]),
                         np.array(tp[2], dtype=np.int64),
                         np.array([index[c] for c in tp[3]], dtype=np.int64),
                         _objects([c or None for c in tp[4]]), tuple(channels))
    conversions = ConversionTable(_objects(cv[1]), _objects([merged.get(p, p) for p in cv[0]]),
                                  np.array(cv[2], dtype=np.int64),
                                  np.array(cv[3], dtype=np.float64), _objects(cv[4]))
    return touches, conversions


def query_window(window: Window, lookback_ms: int) -> dict[str, int]:
    """The parameters of ``TOUCHPOINTS_SQL`` (conversions: ``start`` is ``window.start_ms``)."""
    return {"start": window.start_ms - lookback_ms, "end": window.end_ms}


class Rows(Protocol):
    @property
    def rows(self) -> list[tuple[Any, ...]]: ...


#: a ClickHouse SELECT with ``{name:Type}`` parameters (``ClickHouse.query``)
Query = Callable[[str, Mapping[str, Any]], Rows]


def load(query: Query, window: Window, lookback_ms: int) -> tuple[TouchTable, ConversionTable]:
    """The window's touchpoints (from its start minus the lookback) and conversions, persons
    merged away mapped to their survivors, read with ``query``."""
    touches = query(TOUCHPOINTS_SQL, query_window(window, lookback_ms)).rows
    conversions = query(CONVERSIONS_SQL, {"start": window.start_ms, "end": window.end_ms}).rows
    merged = survivors((str(a), str(b), str(kind)) for a, b, kind in query(MERGES_SQL, {}).rows)
    return tables_from_rows(touches, conversions, merged)


def in_window(conversions: ConversionTable, window: Window) -> ConversionTable:
    keep = (conversions.occurred_at >= window.start_ms) & (conversions.occurred_at <= window.end_ms)
    return ConversionTable(conversions.conversion_id[keep], conversions.person[keep],
                           conversions.occurred_at[keep], conversions.value[keep],
                           conversions.currency[keep])


def _campaign_touches(touches: TouchTable) -> TouchTable:
    """The same touches with (channel, campaign) pairs as their channels."""
    names = [f"{touches.channels[c]}{_PAIR}{k or ''}"
             for c, k in zip(touches.channel.tolist(), touches.campaign_id.tolist(), strict=True)]
    pairs = sorted(set(names))
    index = {p: i for i, p in enumerate(pairs)}
    return TouchTable(touches.touchpoint_id, touches.person, touches.occurred_at,
                      np.array([index[n] for n in names], dtype=np.int64), touches.campaign_id,
                      tuple(pairs))


def _currencies(paths: ChannelPaths) -> list[str]:
    return sorted({str(c) for c in paths.currency.tolist() if c is not None})


def _markov(paths: ChannelPaths, order: int, policy: RunPolicy) -> list[ModelCredit]:
    out: list[ModelCredit] = []
    channels = paths.paths.channels
    currencies = _currencies(paths) or [""]
    for i, currency in enumerate(currencies):
        p = paths.in_currency(currency)
        if policy.replicates:
            b = markov_bootstrap(p, order, policy.replicates, policy.seed, policy.confidence)
            est = b.estimate
            conv_lo, conv_hi = b.conversions_low.tolist(), b.conversions_high.tolist()
            val_lo, val_hi = b.values_low.tolist(), b.values_high.tolist()
        else:
            est = markov_attribution(p, order)
            conv_lo = conv_hi = val_lo = val_hi = [None] * len(channels)
        for c, name in enumerate(channels):
            if i == 0:
                out.append(ModelCredit("markov", order, "channel", "conversions", "", name, "",
                                       float(est.conversions[c]), conv_lo[c], conv_hi[c],
                                       float(est.removal_effects[c])))
            if currency:
                out.append(ModelCredit("markov", order, "channel", "revenue", currency, name, "",
                                       float(est.values[c]), val_lo[c], val_hi[c],
                                       float(est.value_removal_effects[c])))
    return out


def _shapley(paths: ChannelPaths, level: Literal["channel", "campaign"]) -> list[ModelCredit]:
    out: list[ModelCredit] = []
    currencies = _currencies(paths)
    for i, currency in enumerate(currencies or [""]):
        result = shapley_attribution(paths.in_currency(currency))
        for c, name in enumerate(result.channels):
            channel, _, campaign = name.partition(_PAIR)
            if i == 0:
                out.append(ModelCredit("shapley", 0, level, "conversions", "", channel, campaign,
                                       float(result.conversions[c])))
            if currency:
                out.append(ModelCredit("shapley", 0, level, "revenue", currency, channel,
                                       campaign, float(result.values[c])))
    return out


def compute(touches: TouchTable, conversions: ConversionTable, window: Window,
            policy: RunPolicy = RunPolicy()) -> RunResult:
    """Every asked model's credits over the window (journeys in, credits out)."""
    conversions = in_window(conversions, window)
    journeys = build_journeys(touches, conversions, policy.lookback_ms)
    paths = channel_paths(touches, conversions, journeys)
    credits: list[ModelCredit] = []
    if len(paths.paths) and paths.paths.conversions.sum() > 0:
        if "markov" in policy.models:
            for order in policy.orders:
                credits += _markov(paths, order, policy)
        if "shapley" in policy.models:
            credits += _shapley(paths, "channel")
            pairs = _campaign_touches(touches)
            credits += _shapley(channel_paths(pairs, conversions, journeys), "campaign")
    return RunResult(window, policy, tuple(credits), len(conversions.occurred_at),
                     len(conversions.occurred_at) - paths.unattributed, len(paths.paths),
                     len(touches.occurred_at))


def run_id(created_at_ms: int, window: Window, policy: RunPolicy) -> str:
    """``ar-<created_at ms>-<hash of what was asked>``: one id per run, the same for the same
    run written again."""
    asked = (f"{window.start_ms}:{window.end_ms}:{policy.lookback_ms}:{policy.models}:"
             f"{policy.orders}:{policy.replicates}:{policy.confidence}:{policy.seed}")
    return f"ar-{created_at_ms}-{hashlib.sha256(asked.encode()).hexdigest()[:8]}"


def run_columns(result: RunResult, created_at_ms: int) -> Columns:
    """The ``attribution_model_credits`` rows of a run."""
    cols = empty_columns(RUN_COLUMNS)
    rid = run_id(created_at_ms, result.window, result.policy)
    policy = result.policy
    for c in result.credits:
        for name, value in (
                ("run_id", rid), ("created_at", created_at_ms),
                ("window_start", result.window.start_ms), ("window_end", result.window.end_ms),
                ("lookback_days", policy.lookback_ms / DAY_MS), ("model", c.model),
                ("markov_order", c.order), ("level", c.level), ("measure", c.measure),
                ("currency", c.currency), ("channel", c.channel), ("campaign_id", c.campaign_id),
                ("credit", c.credit), ("credit_low", c.low), ("credit_high", c.high),
                ("removal_effect", c.removal_effect), ("conversions", result.attributed),
                ("journeys", result.journeys),
                ("replicates", policy.replicates if c.model == "markov" else 0),
                ("confidence", policy.confidence), ("_version", created_at_ms)):
            cols[name].append(value)
    return cols


def summary_rows(result: RunResult) -> list[tuple[Any, ...]]:
    """Per model, order and channel: conversions credited (with the interval), their share,
    the removal effect and the revenue per currency, best first: what the CLI prints."""
    revenue: dict[tuple[str, int, str], list[str]] = {}
    for c in result.credits:
        if c.level == "channel" and c.measure == "revenue":
            revenue.setdefault((c.model, c.order, c.channel), []).append(
                f"{c.credit:,.2f} {c.currency}")
    total = max(result.attributed, 1)
    rows = [c for c in result.credits if c.level == "channel" and c.measure == "conversions"]
    rows.sort(key=lambda c: (c.model, c.order, -c.credit, c.channel))
    return [(c.model if c.model == "shapley" else f"markov-{c.order}", c.channel,
             round(c.credit, 2),
             None if c.low is None or c.high is None else f"{c.low:,.1f} to {c.high:,.1f}",
             f"{c.credit / total:.1%}",
             None if c.removal_effect is None else round(c.removal_effect, 4),
             "; ".join(revenue.get((c.model, c.order, c.channel), [])))
            for c in rows]


SUMMARY_COLUMNS: Final = ("model", "channel", "conversions", "interval", "share",
                          "removal effect", "revenue")
