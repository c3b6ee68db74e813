"""Security, exercised: a local broker with only a SASL_SSL listener (TLS with a certificate
made here by ``openssl``, SCRAM-SHA-512), started once for the module on its own ports and
data folder. A worker, the CLI producer (``touchstream simulate``), the ingest gateway's
producer (``KafkaEventSink``) and the dead-letter replay all work through it with the
settings' credentials; a client without credentials, one with TLS but no SASL, and one with a
wrong password are refused.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.ingest.kafka_sink import KafkaEventSink
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, end_offsets
from streams.ops.replay import replay
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations
from streams.simulators.run import bad_messages, produce_bad
from tests.integration import expected
from tests.integration.conftest import Pipeline, _free_port, eventually

pytestmark = pytest.mark.integration

USER = "touchstream"


def _two_free_ports() -> int:
    """A port whose next port is free too (the broker's controller takes it)."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def make_certificates(folder: Path) -> tuple[Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (CA file, broker keystore
    with the unencrypted PKCS#8 key and the chain, PEM)."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=touchstream test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (folder / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    keystore = folder / "keystore.pem"
    keystore.write_text("".join((folder / name).read_text()
                                for name in ("server.key", "server.pem", "ca.pem")))
    return folder / "ca.pem", keystore


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Settings values (as for ``Settings(**values)``) of a running SASL_SSL local broker."""
    folder = tmp_path_factory.mktemp("sasl-ssl")
    cafile, keystore = make_certificates(folder)
    values = {
        "kafka_bootstrap_servers": f"127.0.0.1:{_two_free_ports()}",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": USER,
        "kafka_sasl_password": uuid.uuid4().hex,
        "kafka_ssl_cafile": str(cafile),
        "kafka_local_ssl_keystore": str(keystore),
        "local_state_dir": str(folder / "state"),
        "kafka_heap": "384m",
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    kafka_local.up(settings)
    yield values
    kafka_local.down(settings)


@pytest.fixture
def secure_pipeline(secure_broker: dict[str, str], tmp_path: Path) -> Iterator[Pipeline]:
    run = uuid.uuid4().hex[:8]
    values = {
        **secure_broker,
        "topic_prefix": f"s{run}.",
        "app_id": f"touchstream-sasl-{run}",
        "clickhouse_url": f"chdb://{tmp_path / 'clickhouse'}",
        "web_port": str(_free_port()),
        "batch_max_events": "2000",
        "consumer_session_timeout_seconds": "6",
        "log_level": "INFO",
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    create_topics(settings)
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    env = {f"TOUCHSTREAM_{k.upper()}": v for k, v in values.items()}
    p = Pipeline(settings=settings, env=env, log_dir=log_dir)
    yield p
    p.stop_workers()


def targets(p: Pipeline) -> dict[str, dict[int, int]]:
    return {t: end_offsets(p.settings, t) for t in (topics.CHAT_EVENTS, topics.AD_METRICS)}


def scalar(p: Pipeline, sql: str) -> Any:
    """``p.scalar`` asked again when a busy worker misses its health check (the querier then
    tries the store the worker holds, and is refused)."""
    for attempt in range(10):
        try:
            return p.scalar(sql)
        except Exception:
            if attempt == 9:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def test_worker_cli_gateway_and_replay_work_through_sasl_ssl(secure_pipeline: Pipeline) -> None:
    p = secure_pipeline
    p.start_worker()

    # the CLI producer, as an operator runs it, with the credentials in its environment
    cli = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", "--chat", "300", "--ads", "300",
         "--seed", "9"],
        env={**os.environ, **p.env}, capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    ads = list(ad_metrics(300, seed=10))

    # the ingest gateway's producer
    gateway_events = [rec.value for rec in conversations(200, seed=77)]

    async def through_gateway() -> int:
        sink = KafkaEventSink(p.settings, max_in_flight=100)
        await sink.send(gateway_events)
        return await sink.close()

    assert asyncio.run(through_gateway()) == 0

    p.wait_sunk(targets(p), timeout=120)
    assert scalar(p, "SELECT count() FROM chat_events") == 300 + len(gateway_events)
    assert scalar(p, "SELECT count() FROM campaign_kpis FINAL") == len(
        expected.latest_metrics(ads))
    assert scalar(p, "SELECT count() FROM dead_letters") == 0

    # bad input is dead-lettered through the secure broker, then replayed through it
    codec = AvroCodec.from_settings(p.settings)
    produce_bad(p.settings, bad_messages(codec, topics.AD_METRICS, 4, seed=3))
    eventually(lambda: p.scalar("SELECT count() FROM dead_letters FINAL") == 4, timeout=60)
    report = replay(p.settings, topics.AD_METRICS)
    assert len(report.items) == 4 and not report.dry_run
    # back on the input topic (at new offsets), still bad: dead-lettered again
    eventually(lambda: p.scalar("SELECT count() FROM dead_letters FINAL") == 8, timeout=60)
    assert sum(end_offsets(p.settings, topics.dlq(topics.AD_METRICS)).values()) == 8


def test_clients_without_valid_credentials_are_refused(secure_broker: dict[str, str]) -> None:
    settings = Settings(**secure_broker)  # type: ignore[arg-type]
    bootstrap = settings.kafka_bootstrap_servers
    good = settings.kafka_client_config()
    assert kafka_local.answering(bootstrap, client_config=good) is not None  # the control

    no_credentials: dict[str, str] = {"security.protocol": "PLAINTEXT"}
    tls_only = {"security.protocol": "SSL", "ssl.ca.location": good["ssl.ca.location"]}
    wrong_password = {**good, "sasl.password": "not-the-password"}
    untrusted = {k: v for k, v in good.items() if k != "ssl.ca.location"}
    for refused in (no_credentials, tls_only, wrong_password, untrusted):
        assert kafka_local.answering(bootstrap, timeout=3, client_config=refused) is None, refused


@pytest.mark.parametrize(("values", "missing"), [
    ({"kafka_sasl_mechanism": "PLAIN"}, "SCRAM-SHA-512 or SCRAM-SHA-256"),
    ({"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": USER},
     "TOUCHSTREAM_KAFKA_SASL_PASSWORD, TOUCHSTREAM_KAFKA_SSL_CAFILE, "
     "TOUCHSTREAM_KAFKA_LOCAL_SSL_KEYSTORE"),
])
def test_a_sasl_ssl_local_broker_says_what_it_is_missing(values: dict[str, str],
                                                          missing: str) -> None:
    settings = Settings(kafka_security_protocol="SASL_SSL", **values)  # type: ignore[arg-type]
    with pytest.raises(kafka_local.KafkaLocalError, match=missing):
        kafka_local.local_kafka(settings)
