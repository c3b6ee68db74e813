"""The local single-node Apache Kafka (KRaft) used for development, tests and the demo.

The broker jars are the official ones, resolved from Maven Central by ``deploy/kafka/pom.xml``
into ``<cache_dir>/kafka/<version>/libs``; state (data, generated config, log, pid) lives in
``<local_state_dir>/kafka``. The broker listens on the loopback address and port named by
``kafka_bootstrap_servers``, its controller on the next port.

By default the listener is PLAINTEXT. With ``kafka_security_protocol=SASL_SSL`` (and a SCRAM
mechanism, user name, password, CA file and ``kafka_local_ssl_keystore``) it is SASL_SSL only:
TLS with the keystore's certificate, SCRAM authentication, the settings' user created as a
SCRAM credential when the storage is formatted, and the broker talking to itself as that user.
No other listener is opened for clients, so a client without credentials is refused.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from streams.io import local_process
from streams.kernel.paths import PROJECT_ROOT
from streams.settings import Settings

DEPLOY_DIR = PROJECT_ROOT / "deploy" / "kafka"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class KafkaLocalError(RuntimeError):
    """The local broker cannot be set up, started or stopped."""


@dataclass(frozen=True)
class Scram:
    """The SASL_SSL listener of a local broker: its TLS material and its one SCRAM user."""

    mechanism: str
    username: str
    password: str = field(repr=False)
    keystore: Path  # PEM: private key and certificate chain
    cafile: Path  # PEM: the CA the broker trusts when it connects to itself


@dataclass(frozen=True)
class LocalKafka:
    host: str
    port: int
    version: str
    heap: str
    libs_dir: Path
    state_dir: Path
    scram: Scram | None = None

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "kafka.log"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def service(self) -> local_process.Service:
        return local_process.Service("local broker", self.pid_file, self.log_file)


@dataclass(frozen=True)
class Status:
    running: bool
    answering: bool
    pid: int | None
    bootstrap: str
    version: str
    topics: int | None


def local_kafka(settings: Settings) -> LocalKafka:
    """The local broker described by the settings; refuses anything but one loopback address."""
    servers = [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]
    if len(servers) != 1:
        raise KafkaLocalError(
            f"the local broker needs one loopback bootstrap address, got {servers!r}; "
            "`touchstream kafka` manages only the local development broker"
        )
    host, _, port = servers[0].rpartition(":")
    host = host.strip("[]")
    if host not in LOOPBACK_HOSTS or not port.isdigit():
        raise KafkaLocalError(
            f"{servers[0]!r} is not a loopback address: `touchstream kafka` manages only the "
            "local development broker; point KAFKA_BOOTSTRAP_SERVERS at your cluster and skip it"
        )
    if host == "localhost":
        host = "127.0.0.1"
    return LocalKafka(
        scram=_scram(settings),
        host=host,
        port=int(port),
        version=settings.kafka_version,
        heap=settings.kafka_heap,
        libs_dir=settings.cache_dir / "kafka" / settings.kafka_version / "libs",
        state_dir=settings.local_state_dir / "kafka" / f"{host}-{port}",
    )


def _scram(settings: Settings) -> Scram | None:
    """The SASL_SSL listener the settings ask for; None for the default PLAINTEXT one."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol != "SASL_SSL":
        raise KafkaLocalError(f"the local broker offers PLAINTEXT or SASL_SSL, not {protocol}")
    mechanism = settings.kafka_sasl_mechanism
    if mechanism is None or not mechanism.startswith("SCRAM-"):
        raise KafkaLocalError("a SASL_SSL local broker authenticates with SCRAM: set "
                              "TOUCHSTREAM_KAFKA_SASL_MECHANISM to SCRAM-SHA-512 or SCRAM-SHA-256")
    missing = [name for name, value in (
        ("KAFKA_SASL_USERNAME", settings.kafka_sasl_username),
        ("KAFKA_SASL_PASSWORD", settings.kafka_sasl_password),
        ("KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile),
        ("KAFKA_LOCAL_SSL_KEYSTORE", settings.kafka_local_ssl_keystore),
    ) if not value]
    if missing:
        raise KafkaLocalError("a SASL_SSL local broker needs " + ", ".join(
            "TOUCHSTREAM_" + name for name in missing))
    assert settings.kafka_sasl_username and settings.kafka_sasl_password
    assert settings.kafka_ssl_cafile and settings.kafka_local_ssl_keystore
    return Scram(
        mechanism=mechanism,
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        keystore=settings.kafka_local_ssl_keystore.resolve(),
        cafile=settings.kafka_ssl_cafile.resolve(),
    )


def resolve_jars(kafka: LocalKafka) -> Path:
    """Resolve the broker and its whole dependency closure with Maven, once (cached)."""
    marker = kafka.libs_dir / ".resolved"
    if marker.exists():
        return kafka.libs_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaLocalError("Maven (`mvn`) is needed to resolve the Kafka broker jars")
    tmp = kafka.libs_dir.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        mvn, "-q", "-B", "-f", str(DEPLOY_DIR / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
        f"-Dkafka.version={kafka.version}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KafkaLocalError(
            f"resolving Kafka {kafka.version} with Maven failed:\n{result.stdout}{result.stderr}"
        )
    shutil.rmtree(kafka.libs_dir, ignore_errors=True)
    tmp.rename(kafka.libs_dir)
    marker.write_text(kafka.version + "\n")
    return kafka.libs_dir


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise KafkaLocalError("Java 17+ is needed to run the local Kafka broker")
    return java


def _classpath(kafka: LocalKafka) -> str:
    return str(resolve_jars(kafka) / "*")


def _write_config(kafka: LocalKafka) -> None:
    template = (DEPLOY_DIR / "server.properties.template").read_text()
    text = template.format(
        host=kafka.host,
        port=kafka.port,
        controller_port=kafka.controller_port,
        data_dir=kafka.data_dir,
    )
    if kafka.scram is not None:
        text = _with_overrides(text, _sasl_ssl_properties(kafka, kafka.scram))
    kafka.config_file.write_text(text)


def _sasl_ssl_properties(kafka: LocalKafka, scram: Scram) -> dict[str, str]:
    """The SASL_SSL listener: replaces the PLAINTEXT one (the controller stays on loopback)."""
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    jaas = (f"org.apache.kafka.common.security.scram.ScramLoginModule required "
            f"username={quoted(scram.username)} password={quoted(scram.password)};")
    listener = "listener.name.sasl_ssl." + scram.mechanism.lower()
    return {
        "listeners": f"SASL_SSL://{kafka.host}:{kafka.port},CONTROLLER://{kafka.host}:"
                     f"{kafka.controller_port}",
        "advertised.listeners": f"SASL_SSL://{kafka.host}:{kafka.port}",
        "inter.broker.listener.name": "SASL_SSL",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": scram.mechanism,
        "sasl.mechanism.inter.broker.protocol": scram.mechanism,
        f"{listener}.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(scram.keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(scram.cafile),
        "ssl.client.auth": "none",
    }


def _with_overrides(text: str, overrides: dict[str, str]) -> str:
    kept = [line for line in text.splitlines()
            if line.split("=", 1)[0].strip() not in overrides]
    # a properties file takes backslashes as escapes
    added = [f"{key}={value.replace(chr(92), chr(92) * 2)}" for key, value in overrides.items()]
    return "\n".join([*kept, "# SASL_SSL listener (kafka_security_protocol=SASL_SSL)", *added]) + "\n"


def new_cluster_id() -> str:
    """A random KRaft cluster id: a UUID in URL-safe base64, as Kafka's own ``Uuid.randomUuid``
    makes it, never starting with "-" (the storage tool would read such an id as an option:
    "argument --cluster-id/-t: expected one argument", one format in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(kafka: LocalKafka) -> None:
    if (kafka.data_dir / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    # the SASL user exists from the start: KRaft stores SCRAM credentials in its metadata
    scram = [] if kafka.scram is None else [
        "--add-scram",
        f"{kafka.scram.mechanism}=[name={kafka.scram.username},password={kafka.scram.password}]",
    ]
    result = subprocess.run(
        [
            _java(), "-cp", _classpath(kafka),
            f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.properties'}",
            "kafka.tools.StorageTool", "format",
            "-t", cluster_id, "-c", str(kafka.config_file), *scram,
        ],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise KafkaLocalError(f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}")


def _read_pid(kafka: LocalKafka) -> int | None:
    return local_process.read_pid(kafka.service)


def answering(bootstrap: str, timeout: float = 2.0,
              client_config: Mapping[str, Any] | None = None) -> int | None:
    """Number of topics if a broker answers at ``bootstrap`` (to a client with
    ``client_config``'s security settings, if given), else None."""
    admin = AdminClient({
        **(client_config or {}), "bootstrap.servers": bootstrap,
        "socket.connection.setup.timeout.ms": 1000, "log_level": 0,
    })
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception:
        return None
    return len(metadata.topics)


def status(settings: Settings) -> Status:
    kafka = local_kafka(settings)
    pid = _read_pid(kafka)
    topics = answering(kafka.bootstrap, client_config=settings.kafka_client_config())
    return Status(
        running=pid is not None,
        answering=topics is not None,
        pid=pid,
        bootstrap=kafka.bootstrap,
        version=kafka.version,
        topics=topics,
    )


def up(settings: Settings, *, timeout: float = 90.0) -> Status:
    """Start the local broker, or reuse the one already answering; wait until it answers."""
    kafka = local_kafka(settings)
    client = settings.kafka_client_config()
    if answering(kafka.bootstrap, client_config=client) is not None:
        return status(settings)
    proc: subprocess.Popen[bytes] | None = None
    if _read_pid(kafka) is None:
        kafka.state_dir.mkdir(parents=True, exist_ok=True)
        classpath = _classpath(kafka)
        _write_config(kafka)
        _format_storage(kafka)
        proc = local_process.spawn(kafka.service, [
            _java(), f"-Xmx{kafka.heap}", f"-Xms{kafka.heap}", "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.properties'}",
            "-cp", classpath, "kafka.Kafka", str(kafka.config_file),
        ])
    local_process.wait_ready(
        kafka.service, proc,
        lambda: answering(kafka.bootstrap, timeout=1.0, client_config=client) is not None,
        timeout, KafkaLocalError)
    return status(settings)


def down(settings: Settings, *, timeout: float = 30.0) -> bool:
    """Stop the local broker started by ``up``; True if one was running."""
    return local_process.stop(local_kafka(settings).service, timeout)


def wipe(settings: Settings) -> None:
    """Delete the local broker's data (it must be stopped)."""
    kafka = local_kafka(settings)
    if _read_pid(kafka) is not None:
        raise KafkaLocalError("stop the local broker before wiping its data")
    shutil.rmtree(kafka.state_dir, ignore_errors=True)
