"""The delivery stage: each action of ``workflow.actions`` performed once, through the wire
format of its target, and audited.

- ``crm_task``: a ``crm.tasks`` record (``CrmTask``; task id = action id, type ``workflow``,
  keyed by the person);
- ``audience``: a row of ``audience_members`` and an ``audiences`` record (hashed email and
  phone for the ad tools' customer-match uploads);
- ``email``: a request to the email platform's send API (SendGrid v3 ``mail/send`` body);
- ``chat``: a proactive-message frame to the chat service over its WebSocket;
- anything else (``sms``, ``push``, ``campaign``), an email without an address, an audience
  member without a hashed contact, or a target not configured: ``failed`` with the reason.

Invariants:
- every action performed leaves one row of ``workflow_actions`` with status ``delivered`` or
  ``failed`` (the reason says where it went or why not), carrying the position of its
  ``workflow.actions`` record;
- an action id the subject's state (``workflow_deliveries``) holds is not performed again: a
  re-delivered action record is skipped (counted as a duplicate), also within one batch;
- outside calls go through ``Perform`` (the runtime's adapters), with the action id as the
  request id: a step computed again (a retry after ``Unavailable``, a crash before the state
  was written) repeats them, and the targets answer a known request id without acting twice;
- a target that cannot be reached raises ``Unavailable``: the batch waits and is retried with
  back-off, never dead-lettered; a target that refuses a request (4xx) fails that action;
- the step changes nothing it looks up; records and rows are built from the action alone, so
  a step computed again produces the same records.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from streams.kernel.errors import Dependency, InvalidMessage, Unavailable
from streams.kernel.records import BatchResult, Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage, Table, Value
from streams.workflows import contract as names
from streams.workflows.definitions import parse_duration
from streams.workflows.engine import DELIVERED, Decision
from streams.workflows.records import Position, action_columns

NAME: Final = "workflow_delivery"
STATES: Final = names.WORKFLOW_DELIVERIES
Target = Literal["email", "chat"]
AUDIENCE_COLUMNS: Final = (
    "audience", "person_id", "operation", "email_sha256", "phone_sha256", "action_id",
    "workflow_id", "changed_at", "_topic", "_partition", "_offset", "_version",
)
#: record field -> decision field (``records`` names them the other way round)
_FROM_RECORD: Final = {"subject_id": "subject"}


@dataclass(frozen=True, slots=True)
class Request:
    """A call to an outside target; ``action_id`` is its request id."""

    action_id: str
    target: Target
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Response:
    ok: bool
    detail: str  # the target's reference when ok, else why it refused


class TargetUnavailable(Unavailable):
    """An outside target (the email platform, the chat service) cannot be reached now."""

    def __init__(self, target: Target, detail: str) -> None:
        Exception.__init__(self, f"{target} target unavailable: {detail}")
        self.dependency = cast(Dependency, target)
        self.detail = detail


#: performs requests in order and answers each; raises ``Unavailable`` when a target is down
Perform = Callable[[Sequence[Request]], list[Response]]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    #: targets with an adapter configured (``email``, ``chat``); others fail ``no_target``
    targets: frozenset[str] = frozenset()
    sender: str = "noreply@touchstream.example"  # the email's From
    remembered: int = 256  # action ids kept per subject against redelivery
    retain_ms: int = 45 * 86_400_000  # a subject's delivered ids kept this long after its last
    crm_due_default: str = "1d"


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    if not value["subject_id"] or raw.key_str != value["subject_id"]:
        raise InvalidMessage("invalid_field", f"key {raw.key_str!r} is not the subject id "
                             f"{value['subject_id']!r}")
    if not value["action_id"].startswith(f"{value['idempotency_key']}:"):
        raise InvalidMessage("invalid_field", f"action id {value['action_id']!r} is not of "
                             f"its idempotency key {value['idempotency_key']!r}")
    if value["status"] not in DELIVERED:
        raise InvalidMessage("invalid_field", f"status {value['status']!r} is not one to "
                             "deliver")


def stage(policy: DeliveryPolicy, perform: Perform) -> Stage:
    return Stage(
        name=NAME,
        inputs=(Input(names.WORKFLOW_ACTIONS, validate),),
        step=functools.partial(step, policy, perform),
        tables=(Table(STATES, positioned=True, retain_ms=policy.retain_ms),),
        sunk=(names.WORKFLOW_ACTIONS_TABLE,),
    )


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _priority(action: Mapping[str, Any]) -> str:
    given = action["params"].get("priority", "")
    if given in ("P1", "P2", "P3", "P4"):
        return str(given)
    level = int(action["priority"])
    return "P1" if level >= 90 else "P2" if level >= 70 else "P3" if level >= 40 else "P4"


def crm_task(action: Mapping[str, Any], policy: DeliveryPolicy) -> dict[str, Any]:
    """The ``CrmTask`` of a ``crm_task`` action."""
    params: Mapping[str, str] = action["params"]
    trigger = str(action["trigger_event_id"])
    created = int(action["deliver_at"])
    due = parse_duration(params.get("due_in", policy.crm_due_default)) or 86_400_000
    return {
        "task_id": action["action_id"], "task_type": "workflow",
        "conversation_id": trigger.removeprefix("conversation:")
        if trigger.startswith("conversation:") else "",
        "customer_id": action["subject_id"], "team": params.get("team", "general"),
        "priority": _priority(action), "title": params.get("title", action["workflow_id"]),
        "description": f"Workflow {action['workflow_id']} ({action['reason']}), triggered by "
                       f"{trigger} at {_iso(int(action['triggered_at']))}.",
        "due_at": created + due, "created_at": created, "status": "open",
        "reasons": [f"workflow:{action['workflow_id']}"], "escalation_id": None,
        "channel": "workflow", "language": "", "intent": None,
    }


def audience_change(action: Mapping[str, Any]) -> dict[str, Any]:
    """The ``AudienceChange`` of an ``audience`` action."""
    params: Mapping[str, str] = action["params"]
    return {
        "audience": params.get("list", action["workflow_id"]),
        "person_id": action["subject_id"],
        "operation": "remove" if params.get("operation") == "remove" else "add",
        "email_sha256": params.get("email_sha256") or None,
        "phone_sha256": params.get("phone_sha256") or None,
        "action_id": action["action_id"], "workflow_id": action["workflow_id"],
        "changed_at": int(action["deliver_at"]),
    }


def email_request(action: Mapping[str, Any], policy: DeliveryPolicy) -> Request:
    """A SendGrid v3 ``mail/send`` body; the template and campaign from the definition."""
    params: Mapping[str, str] = action["params"]
    custom = {"action_id": action["action_id"], "person_id": action["subject_id"],
              "workflow_id": action["workflow_id"]}
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": params["to"]}], "custom_args": custom}],
        "from": {"email": policy.sender},
        "template_id": params.get("template", action["workflow_id"]),
        "categories": [params.get("campaign", action["workflow_id"])],
    }
    return Request(action["action_id"], "email", body)


def chat_request(action: Mapping[str, Any]) -> Request:
    """The chat service's proactive-message frame."""
    params: Mapping[str, str] = action["params"]
    return Request(action["action_id"], "chat", {
        "type": "proactive", "message_id": action["action_id"],
        "person_id": action["subject_id"], "message": params.get("message", ""),
        "team": params.get("team", ""), "workflow_id": action["workflow_id"]})


def _outcome_of(action: Mapping[str, Any], policy: DeliveryPolicy
                ) -> Request | OutputRecord | tuple[OutputRecord, dict[str, Any]] | str:
    """What performs ``action``: a request, a record (and a member row), or why it fails."""
    kind = action["action_type"]
    if kind == "crm_task":
        return OutputRecord(names.CRM_TASKS, action["subject_id"], crm_task(action, policy))
    if kind == "audience":
        change = audience_change(action)
        if not change["email_sha256"] and not change["phone_sha256"]:
            return "no_contact:ads"
        return OutputRecord(names.AUDIENCES, action["subject_id"], change), change
    if kind in ("email", "chat") and kind not in policy.targets:
        return f"no_target:{kind}"
    if kind == "email":
        return email_request(action, policy) if action["params"].get("to") else "no_contact:email"
    if kind == "chat":
        return chat_request(action)
    return f"no_target:{kind}"


def _decision(action: Mapping[str, Any], status: str, reason: str) -> Decision:
    value = {_FROM_RECORD.get(k, k): v for k, v in action.items()}
    return {**value, "status": status, "reason": reason}  # type: ignore[typeddict-item]


def audience_columns(rows: Sequence[tuple[dict[str, Any], Position]], now_ms: int) -> Columns:
    columns = empty_columns(AUDIENCE_COLUMNS)
    for change, where in rows:
        for name in AUDIENCE_COLUMNS[:8]:
            value = change[name]
            columns[name].append("" if value is None else value)
        columns["_topic"].append(where.topic)
        columns["_partition"].append(where.partition)
        columns["_offset"].append(where.offset)
        columns["_version"].append(now_ms)
    return columns


def step(policy: DeliveryPolicy, perform: Perform, events: Events, lookup: Lookup,
         now_ms: int) -> Outcome:
    states: dict[str, Value] = {}
    audited: list[tuple[Decision, Position]] = []
    outputs: list[OutputRecord] = []
    members: list[tuple[dict[str, Any], Position]] = []
    calls: list[tuple[Request, Mapping[str, Any], Position]] = []
    duplicates = 0
    for raw, action in zip(events.raws, events.values, strict=True):
        subject = action["subject_id"]
        current = states.get(subject) or lookup(STATES, subject)
        done: list[str] = [] if current is None else current["done"]
        if action["action_id"] in done:
            duplicates += 1
            continue
        last = max(int(action["deliver_at"]), 0 if current is None else current["last_event_at"])
        states[subject] = {"partition": raw.partition, "offset": raw.offset,
                           "last_event_at": last,
                           "done": [*done, action["action_id"]][-policy.remembered:]}
        where = Position(raw.topic, raw.partition, raw.offset)
        how = _outcome_of(action, policy)
        if isinstance(how, str):
            audited.append((_decision(action, "failed", how), where))
        elif isinstance(how, Request):
            calls.append((how, action, where))
        elif isinstance(how, OutputRecord):
            outputs.append(how)
            audited.append((_decision(action, "delivered", how.topic), where))
        else:
            record, change = how
            outputs.append(record)
            members.append((change, where))
            audited.append((_decision(action, "delivered", record.topic), where))
    if calls:
        answers = perform([request for request, _, _ in calls])
        for (request, called, where), answer in zip(calls, answers, strict=True):
            status = "delivered" if answer.ok else "failed"
            audited.append((_decision(called, status, f"{request.target}:{answer.detail}"),
                            where))
    inserts: dict[str, Columns] = {
        names.WORKFLOW_ACTIONS_TABLE: action_columns(audited, now_ms)}
    if members:
        inserts[names.AUDIENCE_MEMBERS_TABLE] = audience_columns(members, now_ms)
    result = BatchResult(inserts=inserts, outputs=outputs, duplicates=duplicates)
    return Outcome(result, {STATES: {k: (v["partition"], v) for k, v in states.items()}})
