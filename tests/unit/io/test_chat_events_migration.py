"""Migration 0030: chat_events re-keyed by (conversation_id, event_id), its rows kept."""

from __future__ import annotations

import shutil
from pathlib import Path

from streams.io.clickhouse import ClickHouse
from streams.io.migrate import MIGRATIONS_DIR, migrate

COLUMNS = ("event_id", "conversation_id", "event_type", "occurred_at", "channel", "sender_role",
           "sender_id", "language", "customer_id", "text", "sentiment_compound",
           "sentiment_positive", "sentiment_neutral", "sentiment_negative", "sentiment_label",
           "_topic", "_partition", "_offset", "_kafka_ts")


def row(event_id: str, offset: int) -> list[object]:
    return [event_id, "c1", "MESSAGE", 1_767_225_600_000, "WEB", "CUSTOMER", "", "en", "",
            "hi", 0.1, 0.2, 0.7, 0.1, "neutral", "chat.events", 0, offset,
            1_767_225_600_000]


def test_existing_rows_move_and_a_duplicate_id_collapses(tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if path.name < "0030":
            shutil.copy(path, before / path.name)
    ch = ClickHouse(f"chdb://{tmp_path / 'store'}")
    try:
        migrate(ch, before)
        rows = [row("e1", 1), row("e2", 2), row("e1", 9)]  # e1 produced twice
        ch.insert("chat_events", {c: [r[i] for r in rows] for i, c in enumerate(COLUMNS)})
        assert ch.query("SELECT count() FROM chat_events FINAL").rows[0][0] == 3
        assert "0030_chat_events_by_event_id" in migrate(ch)
        keys = ch.query("SELECT sorting_key FROM system.tables WHERE name = 'chat_events'"
                        " AND database = currentDatabase()").rows
        assert keys == [("conversation_id, event_id",)]
        got = ch.query("SELECT event_id, count() FROM chat_events FINAL GROUP BY event_id"
                       " ORDER BY event_id").rows
        assert got == [("e1", 1), ("e2", 1)]
        ch.insert("chat_events", {c: [v] for c, v in zip(COLUMNS, row("e2", 30), strict=True)})
        assert ch.query("SELECT count() FROM chat_events FINAL").rows[0][0] == 2
        tables = {t for (t,) in ch.query("SHOW TABLES").rows}
        assert "chat_events_by_event_id" not in tables
        assert migrate(ch) == []
    finally:
        ch.close()
