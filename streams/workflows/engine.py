"""The workflow engine: a pure fold of a subject's events into its state and decisions.

``fold(state, event, workflows, policy)`` returns the new state and the decisions the event
caused; ``release(state, now_ms, policy)`` returns the deferred actions that are due. "The
fold decides; the stage acts": a decision of status ``fired`` or ``released`` is an action to
deliver, every decision (``deferred`` and ``suppressed`` too) is an audit record.

Invariants:
- the state is a JSON object; ``fold`` and ``release`` never change their arguments;
- an event whose ``event_id`` the state has seen (the latest ``seen_events``), or whose
  ``sequence`` is at or below the last one of its kind (a profile's version), changes nothing
  and decides nothing, so a redelivered event never fires twice; a workflow also fires at
  most once per subject and window (its idempotency key is
  ``<workflow>:<subject>:<window index>``, the window index counted in event time), and not
  again within its cooldown after a firing;
- decisions are made in event time, so replaying history decides the same (``simulate``);
- with ``edge`` a workflow fires when its trigger becomes true, not on every event on which
  it holds (it is armed once trigger and conditions hold together, so a trigger that holds
  before its conditions do fires when they come to hold);
- ``profile`` workflows see the person's view: the latest profile's facts with the latest
  score of each kind merged in (``fields.from_score``), so a profile change and a score
  change both decide on the whole picture;
- an action that reaches the person carries the contact its channel needs in its params
  (``to`` for email and SMS, ``email_sha256``/``phone_sha256`` for audiences), from the
  state's latest profile;
- outbound messages (``policy.outbound``) respect, in this order: opt-outs (``all`` or the
  channel), consent for the channels that need it, quiet hours (deferred to their end, never
  dropped), and the daily cap per person (in the person's local day; the actions of one
  firing share its slot, so a multi-channel firing counts once): when workflows compete,
  the one with the highest priority takes the cap and the others are suppressed with the
  reason; market workflows act on a segment, not a person, and are not gated.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict

from streams.workflows.definitions import Action, Workflow
from streams.workflows.fields import (
    MERGED_FACTS,
    NEXT_BEST_ACTION,
    PERSONALISATION,
    PersonEvent,
    Preferences,
    QuietHours,
    sha256_of,
)

Status = Literal["fired", "deferred", "released", "suppressed"]
DELIVERED: Final[frozenset[str]] = frozenset({"fired", "released"})
State = dict[str, Any]


class Decision(TypedDict):
    """One audit record; an action to deliver when its status is in ``DELIVERED``."""

    action_id: str
    idempotency_key: str
    workflow_id: str
    priority: int
    subject: str
    action_type: str
    channel: str
    params: dict[str, str]
    status: str  # Status
    reason: str
    trigger_event_id: str
    triggered_at: int
    deliver_at: int


@dataclass(frozen=True, slots=True)
class WorkflowPolicy:
    outbound: frozenset[str] = frozenset({"email", "sms", "push", "chat"})
    #: channels that need the person's explicit consent (``consent_<channel>`` = true)
    consent_required: frozenset[str] = frozenset({"email", "sms", "push", "ads"})
    max_outbound_per_day: int = 1
    seen_events: int = 64  # event ids remembered per subject against redelivery
    keys_kept: int = 16  # idempotency keys remembered per workflow


def empty() -> State:
    return {"seen": [], "prefs": None, "workflows": {}, "outbound": {"day": "", "count": 0,
                                                                     "by": "", "keys": []},
            "deferred": [], "last_event_at": 0, "sequences": {}, "view": {}, "contacts": {}}


def _copy(state: State | None) -> State:
    base = empty() if state is None else state
    return {
        "seen": list(base["seen"]), "prefs": base["prefs"],
        "workflows": {k: {"armed": v["armed"], "last_fired_at": v["last_fired_at"],
                          "keys": list(v["keys"])} for k, v in base["workflows"].items()},
        "outbound": {**base["outbound"], "keys": list(base["outbound"]["keys"])},
        "deferred": [dict(d) for d in base["deferred"]],
        "last_event_at": base["last_event_at"], "sequences": dict(base["sequences"]),
        # replaced, never changed in place: shared with the state before
        "view": base.get("view") or {}, "contacts": base.get("contacts") or {},
    }


def _zone(name: str | None) -> dt.tzinfo:
    if not name or name == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _local(ms: int, zone: str | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=_zone(zone))


def quiet_until(ms: int, quiet: QuietHours | None) -> int | None:
    """The end of the quiet hours ``ms`` falls in (epoch ms), or None when it is not quiet."""
    if quiet is None:
        return None
    local = _local(ms, quiet["timezone"])
    start, end, hour = quiet["start"], quiet["end"], local.hour
    inside = start <= hour < end if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:
        until += dt.timedelta(days=1)
    return int(until.timestamp() * 1000)


def _gate(state: State, decision: Decision, honour_quiet: bool, policy: WorkflowPolicy,
          at_ms: int) -> Decision:
    """``decision`` (status fired or released) as the person's preferences and the daily
    cap leave it; a deferral is kept in ``state``."""
    prefs: Preferences | None = state["prefs"]
    channel = decision["channel"]
    opted = set(prefs["opted_out"]) if prefs else set()
    if "all" in opted or channel in opted:
        return {**decision, "status": "suppressed", "reason": f"opted_out:{channel}"}
    if channel in policy.consent_required and not (prefs and prefs["consent"].get(channel)):
        return {**decision, "status": "suppressed", "reason": f"no_consent:{channel}"}
    if channel not in policy.outbound:
        return decision
    quiet = prefs.get("quiet_hours") if prefs else None
    until = quiet_until(at_ms, quiet) if honour_quiet else None
    if until is not None:
        deferred: Decision = {**decision, "status": "deferred", "reason": "quiet_hours",
                              "deliver_at": until}
        state["deferred"].append(dict(deferred))
        return deferred
    day = _local(at_ms, prefs.get("timezone") if prefs else None).date().isoformat()
    cap = state["outbound"]
    if cap["day"] != day:
        cap.update(day=day, count=0, by="", keys=[])
    if decision["idempotency_key"] in cap["keys"]:  # the same firing's other channels
        return {**decision, "deliver_at": at_ms}
    if cap["count"] >= policy.max_outbound_per_day:
        return {**decision, "status": "suppressed", "reason": f"daily_cap:{cap['by']}"}
    cap["count"] += 1
    cap["by"] = decision["workflow_id"]
    cap["keys"] = [*cap["keys"], decision["idempotency_key"]]
    return {**decision, "deliver_at": at_ms}


def _due(state: State, at_ms: int) -> list[tuple[Decision, bool]]:
    due = [d for d in state["deferred"] if d["deliver_at"] <= at_ms]
    state["deferred"] = [d for d in state["deferred"] if d["deliver_at"] > at_ms]
    return [({**d, "status": "released", "reason": "quiet_hours_over"}, True)  # type: ignore[typeddict-item]
            for d in due]


def _settle(state: State, candidates: list[tuple[Decision, bool]], gated: bool,
            policy: WorkflowPolicy, at_ms: int) -> list[Decision]:
    """Gate the candidates, highest priority first (it takes the daily cap)."""
    out: list[Decision] = []
    for decision, honour_quiet in sorted(candidates, key=lambda c: (-c[0]["priority"],
                                                                     c[0]["action_id"])):
        if decision["status"] == "suppressed" or not gated:
            out.append(decision)
        else:
            out.append(_gate(state, decision, honour_quiet, policy, at_ms))
    return out


def release(state: State, now_ms: int, policy: WorkflowPolicy) -> tuple[State, list[Decision]]:
    """The deferred actions due at ``now_ms`` (a timer's tick), gated again: consent may have
    been withdrawn and the day's cap taken meanwhile."""
    if not any(d["deliver_at"] <= now_ms for d in state["deferred"]):
        return state, []
    new = _copy(state)
    decisions = _settle(new, _due(new, now_ms), True, policy, now_ms)
    return new, decisions


def addressed(params: dict[str, str], channel: str, contacts: dict[str, str]) -> dict[str, str]:
    """``params`` with the contact ``channel`` reaches the person by (see the invariants)."""
    if channel == "email" and "email" in contacts:
        return {**params, "to": contacts["email"]}
    if channel == "sms" and "phone" in contacts:
        return {**params, "to": contacts["phone"]}
    if channel == "ads":
        hashed = {f"{kind}_sha256": sha256_of(kind, value) for kind, value in contacts.items()}
        return {**params, **{k: v for k, v in hashed.items() if v}}
    return params


def merge_view(view: dict[str, Any], facts: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The person's view after an event's facts: a profile replaces its own keys, a score
    (``partial``) adds to them; the keys several sources fill merge one level deep."""
    out = {**view, **facts} if partial else dict(facts)
    if not view:
        return out
    for key in MERGED_FACTS:
        old = view.get(key)
        if old:
            got = facts.get(key)
            out[key] = {**old, **got} if got else old
    if not partial:
        for key in (NEXT_BEST_ACTION, PERSONALISATION):
            if key in view and key not in facts:
                out[key] = view[key]  # scores stay across profiles
    return out


def _decision(wf: Workflow, action: Action, index: int, key: str, event: PersonEvent,
              status: Status, reason: str, contacts: dict[str, str]) -> Decision:
    return Decision(action_id=f"{key}:{index}", idempotency_key=key, workflow_id=wf.id,
                    priority=wf.priority, subject=event["subject"], action_type=action.type,
                    channel=action.channel,
                    params=addressed(dict(action.params), action.channel, contacts),
                    status=status,
                    reason=reason, trigger_event_id=event["event_id"],
                    triggered_at=event["occurred_at"], deliver_at=event["occurred_at"])


def fold(state: State | None, event: PersonEvent, workflows: Sequence[Workflow],
         policy: WorkflowPolicy) -> tuple[State, list[Decision]]:
    """``state`` after ``event`` and what it decided (see the module's invariants)."""
    sequence = event.get("sequence")
    stream = event.get("stream", event["kind"])
    if state is not None and (
            (sequence is not None and sequence <= state["sequences"].get(stream, -1))
            or event["event_id"] in state["seen"]):
        return state, []
    new = _copy(state)
    if sequence is not None:
        new["sequences"][stream] = sequence
    new["seen"] = [*new["seen"], event["event_id"]][-policy.seen_events:]
    new["last_event_at"] = max(new["last_event_at"], event["occurred_at"])
    prefs = event.get("preferences")
    if prefs is not None:
        new["prefs"] = prefs
    contacts = event.get("contacts")
    if contacts is not None:
        new["contacts"] = contacts
    at = event["occurred_at"]
    candidates = _due(new, at)
    kind, facts = event["kind"], event["facts"]
    if kind == "profile":
        facts = new["view"] = merge_view(new["view"], facts, event.get("partial", False))
    for wf in workflows:
        if wf.on != kind:
            continue
        mine = new["workflows"].setdefault(wf.id, {"armed": False, "last_fired_at": None,
                                                   "keys": []})
        truth, was = wf.matches(kind, facts), mine["armed"]
        truth = truth and wf.qualifies(facts)
        mine["armed"] = truth
        if not truth or (wf.edge and was):
            continue
        key = f"{wf.id}:{event['subject']}:{at // wf.window_ms}"
        last = mine["last_fired_at"]
        reason = ""
        if key in mine["keys"]:
            reason = "once_per_window"
        elif last is not None and at - last < wf.cooldown_ms:
            reason = "cooldown"
        if reason:
            candidates += [(_decision(wf, a, i, key, event, "suppressed", reason,
                                      new["contacts"]), wf.quiet_hours)
                           for i, a in enumerate(wf.actions)]
            continue
        mine["keys"] = [*mine["keys"], key][-policy.keys_kept:]
        mine["last_fired_at"] = at
        candidates += [(_decision(wf, a, i, key, event, "fired", f"trigger:{wf.id}",
                                  new["contacts"]), wf.quiet_hours)
                       for i, a in enumerate(wf.actions)]
    return new, _settle(new, candidates, kind != "market", policy, at)
