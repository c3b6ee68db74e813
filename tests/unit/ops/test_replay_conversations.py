"""The replay command: chat events as JSON lines through the conversation stage, one summary
line per conversation, escalations pointing at the message that triggered them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from streams.cli import main
from streams.ops.replay_conversations import replay

T0 = 1_767_225_600_000
FIELDS = {"conversation_id", "intent", "intent_confidence", "team", "language", "escalations",
          "messages"}


def ev(cid: str, n: int, kind: str, role: str = "SYSTEM", text: str | None = None,
       value: Any = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": f"{cid}-{n}", "conversation_id": cid, "event_type": kind,
        "occurred_at": T0 + n * 1000, "channel": "WEB", "sender_role": role, "text": text,
        "language": "en", "customer": {"customer_id": f"cus-{cid}"}}
    if value is not None:
        event["metadata"] = {"customer_value": value}
    return event


def lines(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(e) for e in events]


def two_conversations() -> list[dict[str, Any]]:
    return [
        ev("a", 0, "STARTED", value=5000),
        ev("b", 1, "STARTED"),
        ev("a", 2, "MESSAGE", "CUSTOMER", "Hi, when is my next invoice due?"),
        ev("b", 3, "MESSAGE", "CUSTOMER", "Hello, the app crashes every time I open it."),
        ev("a", 4, "MESSAGE", "BOT", "Your next invoice is due on the 1st."),
        ev("a", 5, "MESSAGE", "CUSTOMER",
           "I want to talk to a human agent right now, this is useless."),
        ev("b", 6, "MESSAGE", "BOT", "Please try reinstalling the app."),
        ev("a", 7, "ENDED"),
    ]


def test_one_line_per_conversation_with_exactly_the_fields_of_the_issue() -> None:
    result = replay(lines(two_conversations()))
    assert not result.rejected
    assert [c["conversation_id"] for c in result.conversations] == ["a", "b"]
    for conv in result.conversations:
        assert set(conv) == FIELDS
        for message in conv["messages"]:
            assert set(message) == {"event_id", "intent", "intent_confidence", "language",
                                    "sentiment"}
        for escalation in conv["escalations"]:
            assert set(escalation) == {"event_id", "reasons", "team", "priority"}
    a, b = result.conversations
    assert [m["event_id"] for m in a["messages"]] == ["a-2", "a-5"]  # customer messages only
    assert [m["event_id"] for m in b["messages"]] == ["b-3"]
    assert b["intent"] == "technical_issue" and b["team"] == "technical"
    assert a["language"] == "en" and a["messages"][0]["intent"] == "billing"


def test_an_escalation_names_the_message_that_triggered_it() -> None:
    result = replay(lines(two_conversations()))
    a, b = result.conversations
    assert [e["event_id"] for e in a["escalations"]] == ["a-5"]
    assert "human_request" in a["escalations"][0]["reasons"]
    assert a["escalations"][0]["priority"] in ("P1", "P2", "P3", "P4")
    assert b["escalations"] == []


def test_batches_do_not_change_the_result() -> None:
    events = two_conversations()
    assert replay(lines(events), batch=1).conversations == replay(lines(events)).conversations


def test_bad_lines_are_reported_with_their_line_number_and_the_rest_replayed() -> None:
    events = lines(two_conversations())
    bad = dict(two_conversations()[2], channel="CARRIER_PIGEON")
    result = replay([*events[:3], "{not json", json.dumps(bad), "", *events[3:]])
    assert [r.line for r in result.rejected] == [4, 5]
    assert "channel" in result.rejected[1].reason
    assert [c["conversation_id"] for c in result.conversations] == ["a", "b"]


def test_the_command_writes_json_lines_to_a_file(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines(two_conversations())) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["conversations", "replay", str(source), "--out",
                                       str(out)])
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [c["conversation_id"] for c in written] == ["a", "b"]
    assert written[0]["escalations"][0]["event_id"] == "a-5"


def test_the_command_prints_to_standard_output_without_out(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines(two_conversations()[:4])) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["conversations", "replay", str(source)])
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["conversation_id"] for line in result.stdout.splitlines()
           if line.startswith("{")]
    assert ids == ["a", "b"]
