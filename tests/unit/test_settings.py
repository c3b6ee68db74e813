"""The settings object: environment, config file, derived values, and the README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.kernel.paths import PROJECT_ROOT
from streams.settings import Settings, settings_table


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHSTREAM_TOPIC_PREFIX", "prod.")
    monkeypatch.setenv("TOUCHSTREAM_BATCH_MAX_EVENTS", "123")
    s = Settings()
    assert s.topic("chat.events") == "prod.chat.events"
    assert s.batch_max_events == 123


def test_config_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "touchstream.toml"
    config.write_text('app_id = "from-file"\nweb_port = 7000\n')
    monkeypatch.setenv("TOUCHSTREAM_CONFIG", str(config))
    monkeypatch.setenv("TOUCHSTREAM_WEB_PORT", "7001")
    s = Settings()
    assert s.app_id == "from-file"
    assert s.web_port == 7001


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHSTREAM_KAFKA_SECURITY_PROTOCOL", "CARRIER_PIGEON")
    with pytest.raises(ValueError):
        Settings()


def test_clickhouse_defaults_to_the_embedded_engine(tmp_path: Path) -> None:
    s = Settings(local_state_dir=tmp_path)
    assert s.embedded_clickhouse
    assert s.effective_clickhouse_url == f"chdb://{tmp_path / 'clickhouse'}"
    assert not Settings(clickhouse_url="https://u:p@ch:8443/db").embedded_clickhouse


def test_sasl_and_tls_reach_the_kafka_client_config() -> None:
    s = Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="u", kafka_sasl_password="s3cret-pw",  # type: ignore[arg-type]
        kafka_ssl_cafile=Path("/etc/ca.pem"),
    )
    conf = s.kafka_client_config()
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["sasl.password"] == "s3cret-pw"
    assert conf["ssl.ca.location"] == "/etc/ca.pem"
    assert "s3cret-pw" not in repr(s)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [env for env, _, _ in settings_table() if f"`{env}`" not in readme]
    assert not missing


def test_retention_must_outlast_the_inactivity_timeout() -> None:
    with pytest.raises(ValueError, match="must exceed"):
        Settings(conversation_inactivity_seconds=600, conversation_retention_seconds=600)
    assert Settings(conversation_inactivity_seconds=600,
                    conversation_retention_seconds=601).conversation_retention_seconds == 601


def test_behind_steps_and_writes_are_at_least_the_live_ones() -> None:
    with pytest.raises(ValueError, match="write_interval_behind_seconds must be at least"):
        Settings(write_interval_seconds=0.5, write_interval_behind_seconds=0.4)
    with pytest.raises(ValueError, match="step_max_events_behind must be at least"):
        Settings(step_max_events=500, step_max_events_behind=499)
    s = Settings(step_max_events=500, step_max_events_behind=500)
    assert (s.step_max_events, s.step_max_events_behind) == (500, 500)
