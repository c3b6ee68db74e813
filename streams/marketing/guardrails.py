"""Guard rails between the rules and any platform: what may change, how much, how often.

``check`` splits one cycle's recommendations into accepted and refused; every refusal keeps the
recommendation and names the guard rail that stopped it. ``record`` folds the accepted changes
into the guard state (recent changes per lever), which the next cycle checks against.

Guards, in the order they are tried (the first that fails is the one reported):
1. ``data_anomalous`` / ``data_incomplete``: no decision, not even an alert, on flagged data;
2. ``learning_phase``: no change to a campaign in its learning phase (alerts still pass);
3. ``change_cap``: one change of a proportional lever moves it by at most its cap;
4. ``cooldown``: a lever (entity + action) changed less than its cooldown ago stays;
5. ``daily_cap``: at most ``max_changes_per_day`` changes of a lever in 24 h, and their
   compounded move at most ``max_daily_change``;
6. ``cycle_limit``: at most ``max_changes_per_cycle`` changes, the highest expected effect
   (times confidence) first; a second change of the same lever in one cycle is a ``conflict``.

Invariants: pure (the clock is an argument); alerts never count against change limits; the
same inputs give the same split, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from streams.marketing.rules import Recommendation

Guard = Literal["data_anomalous", "data_incomplete", "learning_phase", "change_cap", "cooldown",
                "daily_cap", "cycle_limit", "conflict", "low_confidence"]
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
#: Levers moved by a proportion; pauses and exclusions are on/off and have no proportional cap.
PROPORTIONAL: Final = frozenset({"set_bid", "set_budget", "set_hour_modifiers", "set_segment_modifier"})


@dataclass(frozen=True)
class GuardPolicy:
    max_change: tuple[tuple[str, float], ...] = (
        ("set_bid", 0.20), ("set_budget", 0.25), ("set_hour_modifiers", 0.30),
        ("set_segment_modifier", 0.30))
    max_daily_change: float = 0.30
    max_changes_per_day: int = 2
    # A lever's effect needs days to show in the data a rule reads: bids and budgets wait three
    # days, an hour-of-week schedule a week (every hour of the week once), the rest a day.
    cooldown: tuple[tuple[str, float], ...] = (
        ("set_bid", 72.0), ("set_budget", 72.0), ("set_hour_modifiers", 168.0))
    cooldown_hours: float = 24.0
    max_changes_per_cycle: int = 50
    protect_learning: bool = True
    min_confidence: float = 0.0

    def cap(self, action: str) -> float:
        return dict(self.max_change).get(action, 1.0)

    def cooldown_of(self, action: str) -> float:
        return dict(self.cooldown).get(action, self.cooldown_hours)


@dataclass(frozen=True)
class DataFlags:
    """Campaign ids whose data the inputs flag, and campaigns in their learning phase."""

    anomalous: frozenset[str] = frozenset()
    incomplete: frozenset[str] = frozenset()
    learning: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AppliedChange:
    lever: str  # "<entity>|<action>"
    at_ms: int
    change: float


@dataclass(frozen=True)
class GuardState:
    changes: tuple[AppliedChange, ...] = ()


@dataclass(frozen=True)
class Refusal:
    recommendation: Recommendation
    guard: Guard
    detail: str


@dataclass(frozen=True)
class GuardOutcome:
    accepted: tuple[Recommendation, ...] = ()
    refused: tuple[Refusal, ...] = field(default_factory=tuple)


def lever(rec: Recommendation) -> str:
    return f"{rec.entity}|{rec.action}"


def _first_guard(rec: Recommendation, policy: GuardPolicy, flags: DataFlags,
                 history: dict[str, list[AppliedChange]], now_ms: int) -> tuple[Guard, str] | None:
    cid = rec.campaign_id
    if cid in flags.anomalous:
        return "data_anomalous", f"campaign {cid} has anomalous data in the window"
    if cid in flags.incomplete:
        return "data_incomplete", f"campaign {cid} has incomplete data in the window"
    if rec.confidence < policy.min_confidence:
        return "low_confidence", f"confidence {rec.confidence:.2f} < {policy.min_confidence:.2f}"
    if not rec.is_change:
        return None
    if policy.protect_learning and cid in flags.learning:
        return "learning_phase", f"campaign {cid} is in its learning phase"
    cap = policy.cap(rec.action)
    if rec.action in PROPORTIONAL and abs(rec.change) > cap + 1e-9:
        return "change_cap", f"{rec.action} {rec.change:+.1%} exceeds ±{cap:.0%}"
    past = history.get(lever(rec), [])
    if past:
        last = max(c.at_ms for c in past)
        cooldown = policy.cooldown_of(rec.action)
        if now_ms - last < cooldown * HOUR_MS:
            return "cooldown", (f"{lever(rec)} changed {(now_ms - last) / HOUR_MS:.1f} h ago "
                                f"(cooldown {cooldown:g} h)")
    today = [c for c in past if now_ms - c.at_ms < DAY_MS]
    if len(today) >= policy.max_changes_per_day:
        return "daily_cap", f"{len(today)} changes of {lever(rec)} in the last 24 h"
    if rec.action in PROPORTIONAL and rec.action != "set_hour_modifiers":
        compound = 1.0 + rec.change
        for c in today:
            compound *= 1.0 + c.change
        if abs(compound - 1) > policy.max_daily_change + 1e-9:
            return "daily_cap", (f"{lever(rec)} would move {compound - 1:+.1%} in 24 h "
                                 f"(cap ±{policy.max_daily_change:.0%})")
    return None


def check(recommendations: Sequence[Recommendation], policy: GuardPolicy, state: GuardState,
          flags: DataFlags, now_ms: int) -> GuardOutcome:
    history: dict[str, list[AppliedChange]] = {}
    for c in state.changes:
        history.setdefault(c.lever, []).append(c)
    accepted: list[Recommendation] = []
    refused: list[Refusal] = []
    changes: list[Recommendation] = []
    for rec in recommendations:
        stop = _first_guard(rec, policy, flags, history, now_ms)
        if stop is not None:
            refused.append(Refusal(rec, stop[0], stop[1]))
        elif rec.is_change:
            changes.append(rec)
        else:
            accepted.append(rec)
    # Highest expected effect first; ties by lever so the order never depends on the input's.
    changes.sort(key=lambda r: (-r.priority, lever(r)))
    taken: set[str] = set()
    for rec in changes:
        if lever(rec) in taken:
            refused.append(Refusal(rec, "conflict", f"{lever(rec)} already changed in this cycle"))
        elif len(taken) >= policy.max_changes_per_cycle:
            refused.append(Refusal(rec, "cycle_limit",
                                   f"{policy.max_changes_per_cycle} changes per cycle reached"))
        else:
            taken.add(lever(rec))
            accepted.append(rec)
    return GuardOutcome(tuple(accepted), tuple(refused))


def record(state: GuardState, applied: Iterable[Recommendation], now_ms: int,
           policy: GuardPolicy) -> GuardState:
    """The guard state after ``applied`` changes at ``now_ms``, forgetting what no guard needs."""
    horizon = max([policy.cooldown_hours, *(h for _, h in policy.cooldown)]) * HOUR_MS
    horizon = max(horizon, DAY_MS)
    kept = [c for c in state.changes if now_ms - c.at_ms < horizon]
    kept += [AppliedChange(lever(r), now_ms, r.change) for r in applied if r.is_change]
    return GuardState(tuple(kept))
