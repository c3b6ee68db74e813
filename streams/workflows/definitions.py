"""Workflow definitions: YAML files (``schemas/workflows/*.yaml``) loaded into frozen specs.

A definition names a trigger (the event kind it listens to and conditions on that event), more
conditions, a window (fire at most once per subject and window), a cooldown, whether quiet
hours apply, a priority and its actions. Its format is in ``schemas/workflows/README.md``.

Invariants:
- a definition that breaks a rule is refused at load with its file and line
  (``DefinitionError``): nothing partially valid is ever run;
- workflow ids are unique across the files loaded;
- conditions only test facts (``fields.fact``); a condition on a missing fact is false
  (except ``exists: false``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from streams.kernel.paths import SCHEMAS_DIR
from streams.workflows.contract import DEFINITIONS_DIR
from streams.workflows.fields import KINDS, fact

OPS: Final = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists")
#: action type -> the channel it reaches the person on
ACTION_CHANNELS: Final[Mapping[str, str]] = {
    "email": "email", "sms": "sms", "push": "push", "chat": "chat",
    "crm_task": "crm", "audience": "ads", "campaign": "ads",
}
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_MS: Final = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                   "w": 604_800_000}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parse_duration(text: str) -> int | None:
    """Milliseconds of ``30m``, ``12h``, ``7d``, ``2w`` (or ``45s``); None if it is not one."""
    match = _DURATION.match(text.strip())
    return None if match is None else int(match.group(1)) * _UNIT_MS[match.group(2)]


class DefinitionError(ValueError):
    """An invalid definition: where (file and 1-based line) and why."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        got = facts.get(self.field) if "." not in self.field else fact(facts, self.field)
        if self.op == "exists":
            return (got is not None) == bool(self.value)
        if got is None:
            return False
        if self.op == "eq":
            return bool(got == self.value)
        if self.op == "ne":
            return bool(got != self.value)
        if self.op == "in":
            return got in self.value
        if self.op == "not_in":
            return got not in self.value
        if self.op == "contains":
            return isinstance(got, (list, tuple, str, dict)) and self.value in got
        if type(got) not in (int, float) or got != got:  # bool and NaN are no numbers here
            return False  # an ordering on a non-number never holds
        if self.op == "gt":
            return bool(got > self.value)
        if self.op == "gte":
            return bool(got >= self.value)
        if self.op == "lt":
            return bool(got < self.value)
        return bool(got <= self.value)  # lte


@dataclass(frozen=True, slots=True)
class Action:
    type: str
    channel: str
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Workflow:
    id: str
    name: str
    on: str  # the event kind that triggers it
    trigger: tuple[Condition, ...]
    conditions: tuple[Condition, ...]
    #: fire when the trigger becomes true (it was false on the subject's previous event)
    edge: bool
    window_ms: int
    cooldown_ms: int
    quiet_hours: bool
    priority: int
    actions: tuple[Action, ...]
    source: str  # file:line

    def matches(self, kind: str, facts: Mapping[str, Any]) -> bool:
        return kind == self.on and all(c.holds(facts) for c in self.trigger)

    def qualifies(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.conditions)


class _Reader:
    """Reads a composed YAML node tree, refusing with file and line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: Node, message: str) -> DefinitionError:
        return DefinitionError(self.path, node.start_mark.line + 1, message)

    def mapping(self, node: Node, what: str, required: Sequence[str],
                optional: Sequence[str]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, f"a key of {what}")
            if key in out:
                raise self.fail(key_node, f"{what}: duplicate key {key!r}")
            if key not in required and key not in optional:
                allowed = ", ".join([*required, *optional])
                raise self.fail(key_node, f"{what}: unknown key {key!r} (allowed: {allowed})")
            out[key] = value_node
        for key in required:
            if key not in out:
                raise self.fail(node, f"{what}: missing key {key!r}")
        return out

    def sequence(self, node: Node, what: str, min_len: int = 0) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        if len(node.value) < min_len:
            raise self.fail(node, f"{what} needs at least {min_len} item(s)")
        return list(node.value)

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be a plain value")
        return str(node.value)

    def value(self, node: Node) -> Any:
        """A node as a plain value (the YAML's own types)."""
        return yaml.safe_load(yaml.serialize(node))

    def integer(self, node: Node, what: str, low: int, high: int) -> int:
        got = self.value(node)
        if isinstance(got, bool) or not isinstance(got, int) or not low <= got <= high:
            raise self.fail(node, f"{what} must be an integer in [{low}, {high}]")
        return got

    def duration(self, node: Node, what: str) -> int:
        text = self.scalar(node, what).strip()
        ms = parse_duration(text)
        if ms is None or ms <= 0:
            raise self.fail(node, f"{what}: {text!r} is not a duration like 30m, 12h, 7d, 2w")
        return ms

    def condition(self, node: Node, what: str) -> Condition:
        parts = self.mapping(node, what, ("field",), OPS)
        ops = [op for op in parts if op != "field"]
        if len(ops) != 1:
            raise self.fail(node, f"{what}: exactly one operator of {', '.join(OPS)}")
        op = ops[0]
        field = self.scalar(parts["field"], f"{what}.field")
        value = self.value(parts[op])
        if op in ("gt", "gte", "lt", "lte") and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.fail(parts[op], f"{what}: {op} needs a number, got {value!r}")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise self.fail(parts[op], f"{what}: {op} needs a list")
        if op == "exists" and not isinstance(value, bool):
            raise self.fail(parts[op], f"{what}: exists needs true or false")
        return Condition(field, op, value)

    def action(self, node: Node, what: str) -> Action:
        parts = self.mapping(node, what, ("type",), ("params",))
        kind = self.scalar(parts["type"], f"{what}.type")
        if kind not in ACTION_CHANNELS:
            raise self.fail(parts["type"], f"{what}: unknown action type {kind!r} "
                                           f"(known: {', '.join(sorted(ACTION_CHANNELS))})")
        params: list[tuple[str, str]] = []
        if "params" in parts:
            raw = self.value(parts["params"])
            if not isinstance(raw, dict) or any(
                    isinstance(v, (dict, list)) or v is None for v in raw.values()):
                raise self.fail(parts["params"], f"{what}.params must map names to values")
            params = sorted((str(k), str(v)) for k, v in raw.items())
        return Action(kind, ACTION_CHANNELS[kind], tuple(params))

    def workflow(self, node: Node) -> Workflow:
        parts = self.mapping(node, "workflow", ("id", "trigger", "actions"), (
            "name", "description", "conditions", "window", "cooldown", "quiet_hours",
            "priority", "edge"))
        wid = self.scalar(parts["id"], "id")
        if not _ID.match(wid):
            raise self.fail(parts["id"], f"id {wid!r} must be lower_snake_case")
        trig = self.mapping(parts["trigger"], "trigger", ("on",), ("when",))
        on = self.scalar(trig["on"], "trigger.on")
        if on not in KINDS:
            raise self.fail(trig["on"], f"trigger.on {on!r} is not one of {', '.join(KINDS)}")
        when = [self.condition(n, f"trigger.when[{i}]") for i, n in enumerate(
            self.sequence(trig["when"], "trigger.when", 1))] if "when" in trig else []
        conditions = [self.condition(n, f"conditions[{i}]") for i, n in enumerate(
            self.sequence(parts["conditions"], "conditions"))] if "conditions" in parts else []
        actions = [self.action(n, f"actions[{i}]") for i, n in enumerate(
            self.sequence(parts["actions"], "actions", 1))]
        flag = {key: self.value(parts[key]) for key in ("quiet_hours", "edge") if key in parts}
        for key, got in flag.items():
            if not isinstance(got, bool):
                raise self.fail(parts[key], f"{key} must be true or false")
        window = self.duration(parts["window"], "window") if "window" in parts else 86_400_000
        cooldown = self.duration(parts["cooldown"], "cooldown") if "cooldown" in parts else 0
        return Workflow(
            id=wid, name=self.scalar(parts["name"], "name") if "name" in parts else wid,
            on=on, trigger=tuple(when), conditions=tuple(conditions),
            edge=flag.get("edge", True), window_ms=window, cooldown_ms=cooldown,
            quiet_hours=flag.get("quiet_hours", True),
            priority=self.integer(parts["priority"], "priority", 0, 1000)
            if "priority" in parts else 100,
            actions=tuple(actions), source=f"{self.path}:{node.start_mark.line + 1}")


def parse(text: str, path: str) -> list[Workflow]:
    """The workflows of one file: a mapping (one workflow) or ``workflows: [...]``."""
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DefinitionError(path, (mark.line + 1) if mark else 1,
                              f"not valid YAML: {exc.problem}") from exc
    if root is None:
        raise DefinitionError(path, 1, "empty file")
    if isinstance(root, MappingNode) and any(
            isinstance(k, ScalarNode) and k.value == "workflows" for k, _ in root.value):
        items = reader.sequence(reader.mapping(root, "file", ("workflows",), ())["workflows"],
                                "workflows", 1)
        return [reader.workflow(node) for node in items]
    return [reader.workflow(root)]


def load(paths: Sequence[Path]) -> tuple[Workflow, ...]:
    """Every workflow of ``paths``, in priority order (highest first, then id); refused with
    file and line on the first invalid definition or repeated id."""
    seen: dict[str, str] = {}
    out: list[Workflow] = []
    for path in paths:
        for wf in parse(path.read_text(encoding="utf-8"), str(path)):
            if wf.id in seen:
                file, _, line = wf.source.rpartition(":")
                raise DefinitionError(file, int(line),
                                      f"workflow id {wf.id!r} already defined at {seen[wf.id]}")
            seen[wf.id] = wf.source
            out.append(wf)
    return tuple(sorted(out, key=lambda w: (-w.priority, w.id)))


def load_dir(directory: Path | None = None) -> tuple[Workflow, ...]:
    """The workflows of every ``*.yaml`` of ``directory`` (default ``schemas/workflows``)."""
    return load(sorted((directory or SCHEMAS_DIR / DEFINITIONS_DIR).glob("*.yaml")))
