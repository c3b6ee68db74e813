"""Producer duplicates: the same ``event_id`` at a new offset is neither folded again nor
given a second ``chat_events`` row, and is counted; a redelivery of the offset it was
absorbed at is not a duplicate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from streams import topics
from streams.contract.codec import AvroCodec
from streams.conversation import stage as conversation
from streams.conversation.state import duplicate, fold
from streams.kernel.records import Raw
from streams.kernel.stage import Computed, compute
from streams.settings import Settings
from streams.simulators.chat import conversations
from tests.unit.conversation.helpers import T0, Run, bot, customer, event
from tests.unit.kernel.test_stage import POLICY, Memory, raws_for


def ended_conversation() -> tuple[Run, list[dict[str, Any]]]:
    run = Run()
    events = [event("STARTED", at=T0), customer("my order never arrived", T0 + 1_000),
              bot("I am sorry, let me check", T0 + 2_000),
              customer("thanks, that works", T0 + 3_000),
              event("ENDED", at=T0 + 4_000, metadata={"resolution": "resolved"})]
    for e in events:
        run(e)
    return run, events


def test_a_duplicate_at_a_new_offset_changes_nothing() -> None:
    run, events = ended_conversation()
    before = run.s
    assert before["status"] == "ended" and before["events"] == 5
    again, effects = fold(before, events[3], 0, 17)
    assert again is before and effects == []
    assert duplicate(before, events[3], 17)
    # the offset it was absorbed at is a redelivery, not a duplicate
    assert not duplicate(before, events[3], 3)
    assert before["event_ids"] == {e["event_id"]: i for i, e in enumerate(events)}


def test_without_the_ids_a_duplicate_would_reopen_and_count_again() -> None:
    """The fault the ids prevent: a record that does not keep them folds the copy."""
    run, events = ended_conversation()
    forgetful = run.s.copy()
    del forgetful["event_ids"]
    started_again, _ = fold(forgetful, events[0], 0, 18)
    assert started_again["status"] == "open" and started_again["events"] == 6
    kept, _ = fold(run.s, events[0], 0, 18)
    assert kept["status"] == "ended" and kept["events"] == 5


def test_a_new_event_is_still_folded_and_its_id_kept() -> None:
    run, _ = ended_conversation()
    late = customer("one more question", T0 + 9_000)
    after, _ = fold(run.s, late, 0, 20)
    assert after["events"] == 6 and after["event_ids"][late["event_id"]] == 20
    assert late["event_id"] not in run.s["event_ids"]  # the argument is unchanged


CODEC = AvroCodec.from_settings(Settings())


def compute_all(raws: list[Raw], memory: Memory) -> Computed:
    stage = conversation.stage(POLICY)
    decoders = {i.topic: CODEC.decoder(i.topic) for i in stage.inputs}
    computed = compute(stage, raws, decoders, {i.topic: i for i in stage.inputs},
                       memory.lookup, lambda t: t + ".dlq", 0)
    memory.apply(computed.outcome.changes)
    return computed


def test_the_stage_drops_duplicates_in_the_same_and_a_later_batch() -> None:
    records = list(conversations(30, seed=11))
    raws = raws_for(CODEC, records)
    memory = Memory()
    first = compute_all(raws, memory)
    assert first.outcome.result.duplicates == 0
    state_before = {k: dict(v) for k, v in memory.tables[conversation.RECORDS].items()}
    n = len(raws)
    # every fifth event produced again, at new offsets: in a later batch, and twice within it
    copies = [replace(r, offset=n + i) for i, r in enumerate(raws[::5])]
    copies += [replace(r, offset=2 * n + i) for i, r in enumerate(raws[::5])]
    later = compute_all(copies, memory)
    result = later.outcome.result
    assert result.duplicates == len(copies)
    assert later.counts["events.consumed", topics.CHAT_EVENTS] == len(copies)
    assert later.counts["events.duplicates", topics.CHAT_EVENTS] == len(copies)
    assert later.dead == []
    assert result.inserts["chat_events"]["event_id"] == []
    assert not later.outcome.changes[conversation.RECORDS]
    assert not [o for o in result.outputs if o.topic == topics.CONVERSATION_INSIGHTS]
    assert memory.tables[conversation.RECORDS] == state_before


def test_a_copy_in_the_same_batch_as_its_original_gets_no_row() -> None:
    records = list(conversations(5, seed=12))
    raws = raws_for(CODEC, records)
    copy = replace(raws[2], offset=len(raws))
    computed = compute_all([*raws, copy], Memory())
    result = computed.outcome.result
    assert result.duplicates == 1
    ids = result.inserts["chat_events"]["event_id"]
    assert len(ids) == len(raws) == len(set(ids))
    per_conv: dict[str, int] = {}
    for r in records:
        per_conv[r.key] = per_conv.get(r.key, 0) + 1
    records_after = computed.outcome.changes[conversation.RECORDS]
    assert {k: v["events"] for k, (_, v) in records_after.items() if v} == per_conv


def test_a_redelivered_batch_still_writes_its_rows() -> None:
    """Redelivery after a crash (same offsets) is not a duplicate: its rows are written again
    and collapse in ClickHouse on their key."""
    raws = raws_for(CODEC, list(conversations(10, seed=13)))
    memory = Memory()
    compute_all(raws, memory)
    again = compute_all(raws, memory)
    assert again.outcome.result.duplicates == 0
    assert len(again.outcome.result.inserts["chat_events"]["event_id"]) == len(raws)
