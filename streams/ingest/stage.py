"""The stage that moves dead letters of input refused at ingest (the WebSocket gateway and
client write them straight to ``chat.events.dlq``) into the ``dead_letters`` table. The
worker's own dead letters are in the table already; their messages on the dead-letter topic
are recognised and skipped."""

from __future__ import annotations

from typing import Final

from streams.conversation.contract import CHAT_EVENTS
from streams.ingest.deadletters import ingest_dead_letter_columns
from streams.kernel.records import BatchResult
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage
from streams.kernel.topics import DEAD_LETTERS_TABLE, dlq

NAME: Final = "ingest_dead_letters"


def step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    return Outcome(BatchResult(inserts={
        DEAD_LETTERS_TABLE: ingest_dead_letter_columns(events.raws)}))


def stage() -> Stage:
    return Stage(name=NAME, inputs=(Input(dlq(CHAT_EVENTS), encoding="raw"),), step=step)
