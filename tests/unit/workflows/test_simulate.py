"""``touchstream workflows simulate|check`` over a JSON-lines history, without ClickHouse."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from streams.cli import main
from streams.ops import workflows as ops
from tests.unit.workflows.helpers import CONSENTING, SEED, at, profile, score


def history(tmp_path: Path) -> Path:
    t = at("2026-03-02T21:30")
    lines = [
        profile("p1", 1, t, scores={"lead_score": 30}),
        profile("p1", 2, t + 3_600_000, scores={"lead_score": 85},  # 22:30 local: quiet
                attributes={**CONSENTING, "timezone": "UTC", "quiet_hours": "22-07"}),
        profile("p2", 1, t, stage="mql"),
        {"kind": "conversation", "conversation_id": "c1", "person_id": "p3", "ended_at": t,
         "intent": "technical_issue", "sentiment": 0.5, "resolved": True, "escalated": False},
        {"kind": "market", "event_id": "m1", "occurred_at": t, "type": "competitor_campaign",
         "competitor": "acme", "segment": "trail", "magnitude": 0.3},
        {"kind": "weather"},
        profile("p9", 1, t + 12 * 3_600_000, stage="lead"),  # the history runs to 09:30
    ]
    path = tmp_path / "history.jsonl"
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    path.write_text(text)
    return path


def test_simulate_folds_history_and_releases_deferred_actions(tmp_path: Path) -> None:
    with history(tmp_path).open() as fh:
        events, rejected = ops.read_jsonl(fh)
    assert [(r.line, r.reason) for r in rejected] == [(6, "unknown kind 'weather'"),
                                                      (8, rejected[1].reason)]
    result = ops.simulate(events, SEED)
    seen = [(d["subject"], d["workflow_id"], d["action_type"], d["status"])
            for d in result.decisions]
    assert ("p2", "mql_proactive_chat", "chat", "fired") in seen
    assert ("p3", "service_cross_sell", "email", "suppressed") in seen  # no consent on p3
    assert ("market:trail", "competitive_response", "campaign", "fired") in seen
    assert [s for s in seen if s[0] == "p1"] == [
        ("p1", "lead_nurture", "email", "deferred"), ("p1", "lead_nurture", "email", "released")]
    released = next(d for d in result.decisions if d["status"] == "released")
    assert released["deliver_at"] == at("2026-03-03T07:00")
    assert result.counts()["lead_nurture", "released"] == 1


def test_the_simulate_command_prints_a_table(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["workflows", "simulate", "--events",
                                    str(history(tmp_path)), "--since", "7d"],
                             env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "mql_proactive_chat" in out.output and "released" in out.output
    assert "line 6 rejected: unknown kind 'weather'" in out.output
    narrow = CliRunner().invoke(main, ["workflows", "simulate", "--events",
                                       str(history(tmp_path)), "--since", "1h"],
                                env={"COLUMNS": "200"})
    assert "0 decisions from 1 events" in narrow.output  # only the last hour of the file


def test_the_check_command_refuses_with_file_and_line(tmp_path: Path) -> None:
    good = CliRunner().invoke(main, ["workflows", "check"], env={"COLUMNS": "200"})
    assert good.exit_code == 0 and "6 workflows, valid" in good.output
    (tmp_path / "broken.yaml").write_text(
        "id: broken\ntrigger:\n  on: profile\nactions:\n  - type: pigeon\n")
    bad = CliRunner().invoke(main, ["workflows", "check", "--dir", str(tmp_path)],
                             env={"COLUMNS": "200"})
    assert bad.exit_code == 1
    assert "broken.yaml:5:" in bad.output and "pigeon" in bad.output


def test_scores_in_the_history_trigger_as_in_the_stream() -> None:
    t = at("2026-03-02T10:00")
    lines = [json.dumps(profile("p1", 1, t, stage="customer",
                                attributes={**CONSENTING, "timezone": "UTC"})),
             json.dumps({**score("p1", "churn", 88.0, t + 60_000, label="high"),
                         "kind": "score", "score_kind": "churn"}),
             json.dumps({"kind": "score", "person_id": "p2"})]
    events, rejected = ops.read_jsonl(lines)
    assert [r.line for r in rejected] == [3]
    result = ops.simulate(events, SEED)
    assert sorted((d["workflow_id"], d["action_type"], d["trigger_event_id"])
                  for d in result.decisions) == [
        ("at_risk_retention", a, f"score:p1:churn:{t + 60_000}")
        for a in ("chat", "crm_task", "email")]
    # rows as ClickHouse returns them build the same events
    rows = [{**score("p1", "churn", 88.0, t + 60_000)}]
    [profile_event, score_event] = ops.events_from_rows(
        [{**profile("p1", 1, t, stage="customer")}], rows)
    assert profile_event["event_id"] == "profile:p1:1"
    assert score_event["facts"]["score"] == {"churn": 88.0} and score_event["partial"]
