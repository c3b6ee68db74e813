"""The marketing domain's processing step: a batch of raw ``ad.metrics`` messages to campaign
KPIs, with their rows, outputs and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.kernel.deadletter import DeadLetter, dead_letter_columns
from streams.kernel.records import BatchResult, Raw
from streams.kernel.step import Decode, decode_batch, one_by_one
from streams.marketing import kpis as ads


@dataclass(slots=True)
class AdsBatch:
    result: BatchResult
    dead: list[DeadLetter]


def process_ads(
    decode: Decode, raws: Sequence[Raw], dlq_topic: str, now_ms: int
) -> AdsBatch:
    try:
        return _process_ads(decode, raws, dlq_topic, now_ms)
    except Exception:  # isolate the message that fails, below
        pass
    return one_by_one(AdsBatch(result=BatchResult(), dead=[]), raws,
                       lambda raw: _process_ads(decode, [raw], dlq_topic, now_ms),
                       dlq_topic, now_ms)


def _process_ads(
    decode: Decode, raws: Sequence[Raw], dlq_topic: str, now_ms: int
) -> AdsBatch:
    decoded = decode_batch(decode, raws, ads.validate, dlq_topic, now_ms)
    result = BatchResult(processed=len(decoded.values), dead=len(decoded.dead))
    kpis = ads.kpi_columns(decoded.raws, decoded.values)
    result.inserts["campaign_kpis"] = kpis
    result.inserts["dead_letters"] = dead_letter_columns(decoded.dead)
    result.outputs = ads.kpi_records(kpis)
    return AdsBatch(result=result, dead=decoded.dead)
