"""chat.events -> message sentiment -> ClickHouse, plus the per-conversation rollup table."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, Final, TypeVar

import faust
from faust.serializers import codecs
from faust.types import Message

from agents.runtime.batching import BatchTopic, Durable, raw_of, where
from agents.runtime.core import Runtime, agent, durable_part, group_commit, new_guard, now_ms
from streams import topics
from streams.conversation.escalation import DEFAULT_POLICY
from streams.conversation.intelligence import Intelligence, due_follow_ups, expire_idle
from streams.conversation.rollup import ConversationState
from streams.conversation.state import ConversationRecord
from streams.conversation.step import process_chat
from streams.io.publisher import Outgoing
from streams.kernel import retention
from streams.kernel.isolation import isolating
from streams.kernel.records import Columns, OutputRecord

log = logging.getLogger(__name__)

NAME = "chat_events"  # the agent
TABLE_NAME = "conversations"
RECORDS_TABLE = "conversation_states"
FOLLOW_UPS_TABLE = "follow_ups"
#: statuses of a conversation the inactivity timeout may still end
OPEN: Final = frozenset({"open", "handoff"})
R = TypeVar("R")


def _status(record: object) -> object:
    return record.get("status") if isinstance(record, dict) else None


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    # bytes keys (the conversation id as produced), JSON values (ConversationState)
    table = app.Table(TABLE_NAME, key_type=bytes, partitions=settings.topic_partitions)
    # the conversation-intelligence record (lifecycle, journey, escalation episodes)
    records = app.Table(RECORDS_TABLE, key_type=bytes, partitions=settings.topic_partitions)
    # pending follow-up tasks (crm.tasks values), emitted by the timer when due
    follow_ups = app.Table(FOLLOW_UPS_TABLE, key_type=bytes,
                           partitions=settings.topic_partitions)
    # keys of the records still open (open or handed off), so that the timer looks at those
    # only, not at every conversation the retention period keeps: kept as records change,
    # rebuilt when the table is recovered, pruned by the timer as it goes
    open_keys: set[bytes] = set()

    @records.on_recover
    async def index_open_records() -> None:
        open_keys.clear()
        open_keys.update(k for k, v in records.data.items() if _status(v) in OPEN)

    # Per table, the entries the timers fail on (a bug, or a changelog written by something
    # else): kept in their table, skipped from then on, logged once and counted, so that one
    # bad entry neither stops the worker (again after every restart) nor holds up the others.
    quarantined: dict[str, set[bytes]] = {}

    def guarded(what: str, items: Sequence[tuple[bytes, Any]],
                run: Callable[[Sequence[tuple[bytes, Any]]], R]) -> R:
        """``run`` over the entries of table ``what`` not quarantined; those it fails on
        (``isolating``) are quarantined."""
        skip = quarantined.setdefault(what, set())
        result, failed = isolating([item for item in items if item[0] not in skip], run)
        for key, error in failed:
            skip.add(key)
            runtime.counters.incr("timer.quarantined", what)
            log.error("%s entry %r: a timer fails on it; it stays in the table and the timers "
                      "skip it from now on", what, key, exc_info=error)
        return result

    policy = replace(DEFAULT_POLICY,
                     follow_up_delay_ms=int(settings.follow_up_delay_seconds * 1000))
    inactivity_ms = int(settings.conversation_inactivity_seconds * 1000)
    # the agent's steps and the timer's ticks become durable in the order they were made
    commit = group_commit(app, runtime, NAME)
    physical = settings.topic(topics.CHAT_EVENTS)
    dlq_topic = settings.topic(topics.dlq(topics.CHAT_EVENTS))
    decode = runtime.codec.decoder(topics.CHAT_EVENTS)

    def load_state(key: str) -> ConversationState | None:
        value: ConversationState | None = table.data.get(key.encode())
        return value

    def load_record(key: str) -> ConversationRecord | None:
        value: ConversationRecord | None = records.data.get(key.encode())
        return value

    def state_next(topic: str, partitions: list[int]) -> dict[int, int]:
        # the tables are written after the sink: where they stand bounds the replay too
        rollups: dict[int, int] = {}
        for state in table.data.values():
            p = state["partition"]
            if state["topic"] == topic and p in partitions:
                rollups[p] = max(rollups.get(p, 0), state["offset"] + 1)
        rich: dict[int, int] = {}
        for record in records.data.values():
            p = record["partition"]
            if p in partitions:
                rich[p] = max(rich.get(p, 0), record["offset"] + 1)
        return {p: min(rollups.get(p, 0), rich.get(p, 0)) for p in partitions}

    guard = new_guard(app, runtime, ("chat_events", "conversations", "conversation_states"),
                      also=state_next)

    # Changelog records, in the order they must be sent: (topic, key, value, partition).
    Changelog = list[tuple[str, bytes, bytes | None, int]]

    def apply(target: Any, changes: Iterable[tuple[str, dict[str, Any] | None, int]]
              ) -> Changelog:
        """Change a table in memory now (``None``: delete the key); its changelog records
        (tombstones for deletions) are sent by the durable step, after the sink has the
        batch."""
        changelog = target.changelog_topic.get_topic_name()
        out: Changelog = []
        for key, value, partition in changes:
            kb = key.encode()
            if value is None:
                if target.data.pop(kb, None) is None:
                    continue
                payload = None  # a tombstone: recovery deletes the key
            else:
                target.data[kb] = value
                payload = codecs.dumps("json", value)
            out.append((changelog, kb, payload, partition))
        return out

    def apply_records(target: Any, changed: dict[str, Any]) -> Changelog:
        # In offset order: a partition's changelog then always holds a prefix of its
        # events, which is what the position guard replays from after a crash.
        ordered = sorted(changed.items(), key=lambda kv: kv[1]["offset"])
        return apply(target, ((key, value, value["partition"]) for key, value in ordered))

    def apply_conversation_records(changed: dict[str, ConversationRecord]) -> Changelog:
        for key, value in changed.items():
            (open_keys.add if value["status"] in OPEN else open_keys.discard)(key.encode())
        return apply_records(records, changed)

    def apply_follow_ups(changed: dict[str, dict[str, Any] | None],
                         partition_of: dict[str, int]) -> Changelog:
        return apply(follow_ups, (
            (key, None if value is None else {**value, "partition": partition_of[key]},
             partition_of[key])
            for key, value in changed.items()))

    def outgoing(changes: Changelog) -> list[Outgoing]:
        # Published with the batch's outputs through the worker's librdkafka publisher,
        # durably (Faust's own producer works record by record in Python on the event loop,
        # and its send-soon buffer holds back the delivery of new input while it drains).
        return [Outgoing(topic, key, value, None, partition)
                for topic, key, value, partition in changes]

    def active_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == physical}

    def prepare_tick() -> Durable | None:
        """Time out silent conversations and emit the follow-ups that fell due."""
        now = now_ms()
        mine = active_partitions()
        candidates = []
        for key in list(open_keys):
            record = records.data.get(key)
            if _status(record) not in OPEN:
                open_keys.discard(key)
            else:
                candidates.append((key, record))

        def expire(items: Sequence[tuple[bytes, Any]]) -> Intelligence:
            idle = sorted((r for _, r in items if r["partition"] in mine),
                          key=lambda r: r["offset"])
            return expire_idle(idle, now, inactivity_ms, policy, settings.topic)

        expired = guarded(RECORDS_TABLE, candidates, expire)
        fresh = {k: v for k, v in expired.follow_ups.items() if v is not None}

        def fall_due(items: Sequence[tuple[bytes, Any]]
                     ) -> tuple[dict[str, Any], list[OutputRecord], Columns]:
            stored = {k.decode(): v for k, v in items if v["partition"] in mine}
            return stored, *due_follow_ups({**stored, **fresh}, now)

        stored, due, task_rows = guarded(FOLLOW_UPS_TABLE, list(follow_ups.data.items()),
                                         fall_due)
        if not expired.records and not due:
            return None
        # a stored follow-up carries its partition: its conversation's record may have left
        # the table since (the retention period can be shorter than the delay)
        partition_of = {key: value["partition"] for key, value in stored.items()}
        partition_of.update((key, record["partition"])
                            for key, record in expired.records.items())
        changes: dict[str, dict[str, Any] | None] = dict(expired.follow_ups)
        for r in due:
            changes[r.key] = None
        changelog = apply_conversation_records(expired.records) + apply_follow_ups(changes, partition_of)
        return Durable(inserts={**expired.inserts, "crm_tasks": task_rows}, outputs=due,
                       changelog=outgoing(changelog))

    retain_ms = int(settings.conversation_retention_seconds * 1000)

    def prepare_sweep() -> Durable | None:
        """Forget conversations closed and silent for the retention period (tombstones on
        the changelogs, so a restarted worker does not recover them)."""
        now = now_ms()
        mine = active_partitions()

        def expired_of(what: str, target: Any, closed: Callable[[dict[str, Any]], bool]
                       ) -> list[retention.Entry]:
            def run(items: Sequence[tuple[bytes, Any]]) -> list[retention.Entry]:
                return retention.expired(
                    [retention.Entry(k.decode(), v["partition"], v["offset"],
                                     v["last_event_at"], closed(v))
                     for k, v in items if v["partition"] in mine], now, retain_ms)

            return guarded(what, list(target.data.items()), run)

        # the rollup has no timeout of its own: its conversation is over once it is silent
        # for longer than the inactivity timeout, which the retention period exceeds
        rollups = expired_of(TABLE_NAME, table, lambda v: True)
        rich = expired_of(RECORDS_TABLE, records, lambda v: v["status"] not in OPEN)
        if not rollups and not rich:
            return None
        log.info("forgetting %d conversation rollups and %d records closed for %.0f s",
                 len(rollups), len(rich), retain_ms / 1000)
        changelog = (apply(table, ((e.key, None, e.partition) for e in rollups))
                     + apply(records, ((e.key, None, e.partition) for e in rich)))
        return Durable(changelog=outgoing(changelog))

    def every(interval: float, name: str, prepare_part: Callable[[], Durable | None]) -> None:
        """Run ``prepare_part`` every ``interval`` seconds and commit what it returns. If it
        raises, the failure is logged and counted (``timer.errors``) and the next tick tries
        again; a failed write stops the worker, as the agent's do."""

        async def run() -> None:
            try:
                part = prepare_part()
            except Exception:
                runtime.counters.incr("timer.errors", name)
                log.exception("timer %s failed; it runs again at its next tick", name)
                return
            if part is not None:
                await commit.submit(part, 0)

        run.__name__ = run.__qualname__ = name
        app.timer(interval=interval, name=name)(run)

    every(min(60.0, settings.conversation_retention_seconds / 4), "chat_retention",
          prepare_sweep)
    every(settings.timer_interval_seconds, "chat_timeouts", prepare_tick)

    def prepare(messages: Sequence[Message]) -> Durable:
        admission = guard.admit(list(messages), where)
        raws = [raw_of(message) for message in admission.admitted]
        batch = process_chat(decode, raws, load_state, dlq_topic, now_ms(),
                             load_record, settings.topic, policy)
        # The tables change in memory at once (the next batch folds onto them); their
        # changelog records are sent last: a crash before that replays the batch against
        # the old state and reproduces the same rows, which ClickHouse deduplicates.
        changelog = (
            apply_records(table, dict(batch.states))
            + apply_conversation_records(dict(batch.records))
            + apply_follow_ups(
                batch.follow_ups,
                {cid: batch.records[cid]["partition"] for cid in batch.follow_ups})
        )
        return durable_part(topics.CHAT_EVENTS, batch.result, len(raws), batch.dead,
                            outgoing(changelog), admission.rewind)

    return agent(app, runtime, NAME, physical, prepare, commit)
