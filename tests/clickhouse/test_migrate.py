from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.migrate import MIGRATIONS_DIR, MigrationError, discover, migrate, split_statements

TABLES = [
    "campaign_kpis", "chat_events", "conversation_states", "conversations", "crm_tasks",
    "dead_letters", "escalations", "schema_migrations",
]


def tables(ch: ClickHouse) -> list[str]:
    rows = ch.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name"
    ).rows
    return [r[0] for r in rows]


def test_migrate_is_idempotent(ch: ClickHouse) -> None:
    first = migrate(ch)
    assert first[:7] == ["0001_chat_events", "0002_conversations", "0003_campaign_kpis",
                         "0004_dead_letters", "0005_escalations", "0006_crm_tasks",
                         "0007_conversation_states"]
    assert first == [m.name for m in discover()]  # the domains' later files too, in order
    assert migrate(ch) == []
    assert set(tables(ch)) >= set(TABLES)
    recorded = ch.query(
        "SELECT version, name, length(checksum), applied_at > now64(3) - 600"
        " FROM schema_migrations FINAL ORDER BY version"
    ).rows
    assert recorded == [(int(name[:4]), name, 64, True) for name in first]


def test_ddl_columns_are_the_contract(ch: ClickHouse) -> None:
    migrate(ch)
    columns = ch.query(
        "SELECT name, type, default_expression FROM system.columns"
        " WHERE database = currentDatabase() AND table = 'chat_events' ORDER BY position"
    ).rows
    assert columns[3] == ("occurred_at", "DateTime64(3, 'UTC')", "")
    assert columns[10] == ("sentiment_compound", "Nullable(Float32)", "")
    assert columns[-1] == ("_ingested_at", "DateTime64(3, 'UTC')", "now64(3)")
    engines = dict(ch.query(
        "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()"
    ).rows)
    assert engines["conversations"].startswith("ReplacingMergeTree(_version)")
    assert "ORDER BY (_topic, _partition, _offset)" in engines["dead_letters"]


def test_new_files_applied_later_and_multi_statement(ch: ClickHouse, tmp_path: Path) -> None:
    directory = tmp_path / "ddl"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("insights"))
    assert len(migrate(ch, directory)) == len(discover())
    (directory / "0099_extra.sql").write_text(
        "-- two tables; one comment has a ; in it\n"
        "CREATE TABLE IF NOT EXISTS extra_a (s String DEFAULT 'a;b') ENGINE = Memory;\n"
        "/* block ; comment */\n"
        "CREATE TABLE IF NOT EXISTS extra_b (s String) ENGINE = Memory;\n"
    )
    (directory / "notes.sql").write_text("not a migration")
    assert migrate(ch, directory) == ["0099_extra"]
    ch.insert("extra_b", {"s": ["x"]})
    ch.command("INSERT INTO extra_a (s) SELECT 'y'")
    assert ch.query("SELECT s FROM extra_a").rows == [("y",)]
    assert migrate(ch, directory) == []


def test_changed_checksum_of_applied_file_is_an_error(ch: ClickHouse, tmp_path: Path) -> None:
    directory = tmp_path / "ddl"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("insights"))
    migrate(ch, directory)
    path = directory / "0002_conversations.sql"
    path.write_text(path.read_text() + "\n-- edited\n")
    (directory / "0099_later.sql").write_text("CREATE TABLE later (x UInt8) ENGINE = Memory")
    with pytest.raises(MigrationError, match=r"0002_conversations\.sql changed"):
        migrate(ch, directory)
    assert "later" not in tables(ch)  # nothing applied once a mismatch is found


def test_duplicate_versions_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_b.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="two migrations with version 0001"):
        discover(tmp_path)


def test_split_statements() -> None:
    sql = """
    -- leading comment; with a semicolon
    CREATE TABLE a (s String DEFAULT 'x;y', t String DEFAULT 'it''s;', u String DEFAULT 'q\\';');
    /* a ; block */ SELECT "we;ird", `id;` FROM a;
    ;
    -- only a comment ;
    SELECT 1
    """
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[0].endswith("DEFAULT 'q\\';')")
    assert statements[1].endswith('SELECT "we;ird", `id;` FROM a')
    assert statements[2].endswith("SELECT 1")
