"""First run: a worker without a broker says once where it waits and then waits quietly; a
query before ``db migrate`` names the migration that creates its table."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from streams.cli.worker import bootstrap_addresses, wait_for_kafka
from streams.io.clickhouse import ClickHouse
from streams.io.errors_hint import MissingMigration, creating_migrations, hinted
from streams.io.migrate import migrate
from streams.settings import Settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_bootstrap_addresses() -> None:
    assert bootstrap_addresses("a:1, kafka://b:2,[::1]:3,c") == [
        ("a", 1), ("b", 2), ("::1", 3), ("c", 9092)]


def test_waits_quietly_on_a_closed_port_and_goes_on_once_a_broker_listens() -> None:
    port = closed_port()
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}")
    said: list[str] = []
    slept: list[float] = []
    listener: list[socket.socket] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 5:  # the broker comes up during the fifth wait
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            s.listen()
            listener.append(s)

    try:
        assert wait_for_kafka(settings, say=said.append, sleep=sleep)
    finally:
        for s in listener:
            s.close()
    assert len(said) == 2  # once waiting, once going on: nothing per attempt
    assert f"Waiting for Kafka at 127.0.0.1:{port}" in said[0]
    assert "`touchstream kafka up` starts a local broker" in said[0]
    assert "answers" in said[1]
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_a_remote_broker_gets_no_local_advice_and_back_off_is_capped() -> None:
    said: list[str] = []
    slept: list[float] = []
    settings = Settings(kafka_bootstrap_servers="broker1:9093,broker2:9093")
    assert not wait_for_kafka(settings, say=said.append, answers=lambda _: False,
                              sleep=slept.append, deadline_s=60)
    assert len(said) == 1 and "kafka up" not in said[0] and "broker1:9093" in said[0]
    assert max(slept) == 15.0 and sum(slept) >= 60


def test_no_message_when_kafka_answers_at_once() -> None:
    said: list[str] = []
    assert wait_for_kafka(Settings(), say=said.append, answers=lambda _: True)
    assert said == []


def test_a_query_before_migrations_names_the_migration(tmp_path: Path) -> None:
    assert creating_migrations()["chat_events"] == "0001_chat_events.sql"
    ch = ClickHouse(f"chdb://{tmp_path / 'clickhouse'}")
    try:
        with pytest.raises(MissingMigration) as caught:
            hinted(ch.query, "SELECT count() FROM campaign_kpis FINAL")
        first = str(caught.value).splitlines()[0]
        assert first == ("table campaign_kpis does not exist yet: run `touchstream db migrate` "
                         "(migration 0003_campaign_kpis.sql creates it)")
        assert "Unknown table" in str(caught.value.__cause__)
        # a table no migration creates, and other errors, stay as the engine said them
        with pytest.raises(Exception, match="no_such_table") as other:
            hinted(ch.query, "SELECT 1 FROM no_such_table")
        assert not isinstance(other.value, MissingMigration)
        with pytest.raises(Exception, match=r"(?i)syntax") as syntax:
            hinted(ch.query, "SELEC 1")
        assert not isinstance(syntax.value, MissingMigration)
        migrate(ch)
        assert hinted(ch.query, "SELECT count() FROM campaign_kpis FINAL").rows == [(0,)]
    finally:
        ch.close()


def test_the_sql_command_says_it(tmp_path: Path) -> None:
    from streams.cli import main
    from streams.settings import get_settings

    env = {"TOUCHSTREAM_LOCAL_STATE_DIR": str(tmp_path / "state"),
           "TOUCHSTREAM_WEB_PORT": str(closed_port())}
    get_settings.cache_clear()  # the settings are read once a process: read these
    try:
        result = CliRunner().invoke(main, ["sql", "SELECT count() FROM escalations"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "run `touchstream db migrate`" in " ".join(result.output.split())
    assert "0005_escalations.sql" in result.output


def test_the_demo_tables_name_real_columns_and_fit_80_columns(tmp_path: Path) -> None:
    from rich.console import Console

    from streams.cli import common
    from streams.cli.demo import DEMO_INSIGHTS
    from streams.io.insights import run_insight

    ch = ClickHouse(f"chdb://{tmp_path / 'clickhouse'}")
    try:
        migrate(ch)
        for name, params, shown in DEMO_INSIGHTS:
            columns = run_insight(ch, name, params).column_names
            missing = [c.partition(":")[0] for c in shown if c.partition(":")[0] not in columns]
            assert not missing, (name, missing)
    finally:
        ch.close()
    # the campaign table with rows as the simulator writes them: no header cut, within 80
    shown = dict(DEMO_INSIGHTS[i][::2] for i in range(len(DEMO_INSIGHTS)))["campaign_kpis"]
    headers = tuple(c.partition(":")[2] or c for c in shown)
    narrow = Console(width=80, record=True, force_terminal=False)
    original = common.console
    common.console = narrow
    try:
        common.print_result("campaign_kpis", headers, [
            ("GOOGLE_ADS", "Search - Generic - Coffee makers", 17279.09, "GBP", 639.0, 2.1429),
            ("META", "Prospecting - Lookalike 1%", 5112.18, "EUR", 45.0, 1.8739)])
    finally:
        common.console = original
    text = narrow.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "GOOGLE_ADS" in text and "17,279.09" in text
