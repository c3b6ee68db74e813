"""Definitions: the seed's workflows load; an invalid one is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.workflows.definitions import Condition, DefinitionError, load, parse
from tests.unit.workflows.helpers import SEED

VALID = """\
id: demo
trigger:
  on: profile
  when:
    - {field: scores.lead_score, gt: 70}
actions:
  - type: email
    params: {template: t1}
"""


def test_the_seed_workflows_load_in_priority_order() -> None:
    by_id = {w.id: w for w in SEED}
    assert set(by_id) == {"lead_nurture", "lookalike_high_value", "mql_proactive_chat",
                          "at_risk_retention", "service_cross_sell", "competitive_response"}
    assert [a.type for a in by_id["at_risk_retention"].actions] == ["email", "crm_task", "chat"]
    assert [a.type for a in by_id["lookalike_high_value"].actions] == ["audience"]
    assert by_id["mql_proactive_chat"].actions[0].channel == "chat"
    assert by_id["competitive_response"].on == "market"
    assert by_id["service_cross_sell"].on == "conversation"
    priorities = [w.priority for w in SEED]
    assert priorities == sorted(priorities, reverse=True)
    assert by_id["lead_nurture"].window_ms == 30 * 86_400_000
    assert by_id["lead_nurture"].source.endswith("lead_nurture.yaml:2")


def test_a_valid_definition_parses_with_defaults() -> None:
    [wf] = parse(VALID, "demo.yaml")
    assert wf.edge and wf.quiet_hours and wf.priority == 100 and wf.cooldown_ms == 0
    assert wf.matches("profile", {"scores": {"lead_score": 71}})
    assert not wf.matches("profile", {"scores": {"lead_score": 70}})
    assert not wf.matches("profile", {"scores": {}})
    assert not wf.matches("conversation", {"scores": {"lead_score": 90}})


@pytest.mark.parametrize(("text", "line", "message"), [
    (VALID.replace("  on: profile", "  on: profile\n  colour: red"), 4, "unknown key 'colour'"),
    (VALID.replace("gt: 70", "gt: high"), 5, "gt needs a number"),
    (VALID.replace("gt: 70", "between: 70"), 5, "unknown key 'between'"),
    (VALID.replace("type: email", "type: fax"), 7, "unknown action type 'fax'"),
    (VALID.replace("  on: profile", "  on: weather"), 3, "trigger.on 'weather'"),
    (VALID + "window: soon\n", 9, "not a duration"),
    (VALID + "window: 0d\n", 9, "not a duration"),
    (VALID + "priority: 5000\n", 9, "priority must be an integer"),
    (VALID.replace("id: demo\n", ""), 1, "missing key 'id'"),
    (VALID.replace("actions:\n  - type: email\n    params: {template: t1}\n", "actions: []\n"),
     6, "at least 1"),
    (VALID.replace("{field: scores.lead_score, gt: 70}", "{field: x, gt: 1, lt: 2}"), 5,
     "exactly one operator"),
    (VALID.replace("    - {field", "  - [field"), 5, "not valid YAML"),
    (VALID + "id: again\n", 9, "duplicate key 'id'"),
])
def test_an_invalid_definition_is_refused_with_file_and_line(text: str, line: int,
                                                             message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse(text, "bad.yaml")
    assert caught.value.path == "bad.yaml"
    assert message in caught.value.message
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"bad.yaml:{line}: ")


def test_a_repeated_id_across_files_is_refused_where_it_repeats(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text("# the same id again\n" + VALID)
    with pytest.raises(DefinitionError) as caught:
        load([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    assert caught.value.path == str(tmp_path / "b.yaml") and caught.value.line == 2
    assert "already defined at" in caught.value.message and "a.yaml:1" in caught.value.message


def test_a_file_may_hold_several_workflows() -> None:
    indented = "\n".join("    " + line for line in VALID.splitlines())
    text = "workflows:\n  - " + indented.strip() + "\n"
    second = text.replace("id: demo", "id: other")
    assert [w.id for w in parse(text, "x.yaml")] == ["demo"]
    both = "workflows:\n" + text.split("\n", 1)[1] + second.split("\n", 1)[1]
    assert [w.id for w in parse(both, "x.yaml")] == ["demo", "other"]


@pytest.mark.parametrize(("op", "value", "facts", "holds"), [
    ("gt", 5, {"a": {"b": 6}}, True),
    ("gt", 5, {"a": {"b": True}}, False),  # a flag is no number
    ("gt", 5, {"a": {"b": float("nan")}}, False),
    ("lte", 5, {"a": {"b": "4"}}, False),  # nor is text
    ("lte", 5, {"a": {"b": 5.0}}, True),
    ("in", [1, 2], {"a": {"b": 2}}, True),
    ("not_in", [1, 2], {"a": {"b": 3}}, True),
    ("not_in", [1, 2], {"a": {}}, False),  # missing: false
    ("contains", "vip", {"a": {"b": ["new", "vip"]}}, True),
    ("exists", False, {"a": {}}, True),
    ("exists", True, {"a": "flat"}, False),
    ("eq", "x", {"a": {"b": "x"}}, True),
    ("ne", "x", {"a": {"b": "y"}}, True),
])
def test_conditions(op: str, value: object, facts: dict[str, object], holds: bool) -> None:
    assert Condition("a.b", op, value).holds(facts) is holds
