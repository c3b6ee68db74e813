"""The local single-node Apache Kafka (KRaft) used for development, tests and the demo.

The broker jars are the official ones, resolved from Maven Central by ``deploy/kafka/pom.xml``
into ``<cache_dir>/kafka/<version>/libs``; state (data, generated config, log, pid) lives in
``<local_state_dir>/kafka``. The broker listens on the loopback address and port named by
``kafka_bootstrap_servers``, its controller on the next port.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streams.kernel.paths import PROJECT_ROOT
from streams.settings import Settings

DEPLOY_DIR = PROJECT_ROOT / "deploy" / "kafka"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class KafkaLocalError(RuntimeError):
    """The local broker cannot be set up, started or stopped."""


@dataclass(frozen=True)
class LocalKafka:
    host: str
    port: int
    version: str
    heap: str
    libs_dir: Path
    state_dir: Path

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
        host=host,
        port=int(port),
        version=settings.kafka_version,
        heap=settings.kafka_heap,
        libs_dir=settings.cache_dir / "kafka" / settings.kafka_version / "libs",
        state_dir=settings.local_state_dir / "kafka" / f"{host}-{port}",
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
    kafka.config_file.write_text(
        template.format(
            host=kafka.host,
            port=kafka.port,
            controller_port=kafka.controller_port,
            data_dir=kafka.data_dir,
        )
    )


def _format_storage(kafka: LocalKafka) -> None:
    if (kafka.data_dir / "meta.properties").exists():
        return
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    result = subprocess.run(
        [
            _java(), "-cp", _classpath(kafka),
            f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.properties'}",
            "kafka.tools.StorageTool", "format",
            "-t", cluster_id, "-c", str(kafka.config_file),
        ],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise KafkaLocalError(f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}")


def _read_pid(kafka: LocalKafka) -> int | None:
    try:
        pid = int(kafka.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    # reap it if it is our own exited child (a zombie still answers kill(pid, 0))
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answering(bootstrap: str, timeout: float = 2.0) -> int | None:
    """Number of topics if a broker answers at ``bootstrap``, else None."""
    admin = AdminClient(
        {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 1000, "log_level": 0}
    )
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception:
        return None
    return len(metadata.topics)


def status(settings: Settings) -> Status:
    kafka = local_kafka(settings)
    pid = _read_pid(kafka)
    topics = answering(kafka.bootstrap)
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
    if answering(kafka.bootstrap) is not None:
        return status(settings)
    proc: subprocess.Popen[bytes] | None = None
    if _read_pid(kafka) is None:
        kafka.state_dir.mkdir(parents=True, exist_ok=True)
        classpath = _classpath(kafka)
        _write_config(kafka)
        _format_storage(kafka)
        with kafka.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    _java(), f"-Xmx{kafka.heap}", f"-Xms{kafka.heap}", "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.properties'}",
                    "-cp", classpath, "kafka.Kafka", str(kafka.config_file),
                ],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        kafka.pid_file.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answering(kafka.bootstrap, timeout=1.0) is not None:
            return status(settings)
        exited = proc.poll() is not None if proc is not None else _read_pid(kafka) is None
        if exited:
            tail = kafka.log_file.read_text(errors="replace")[-3000:] if kafka.log_file.exists() else ""
            raise KafkaLocalError(f"the local broker exited during start-up:\n{tail}")
        time.sleep(0.5)
    raise KafkaLocalError(f"the local broker did not answer within {timeout:.0f} s; see {kafka.log_file}")


def down(settings: Settings, *, timeout: float = 30.0) -> bool:
    """Stop the local broker started by ``up``; True if one was running."""
    kafka = local_kafka(settings)
    pid = _read_pid(kafka)
    if pid is None:
        kafka.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _read_pid(kafka) is not None:
        time.sleep(0.2)
    if _read_pid(kafka) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    kafka.pid_file.unlink(missing_ok=True)
    return True


def wipe(settings: Settings) -> None:
    """Delete the local broker's data (it must be stopped)."""
    kafka = local_kafka(settings)
    if _read_pid(kafka) is not None:
        raise KafkaLocalError("stop the local broker before wiping its data")
    shutil.rmtree(kafka.state_dir, ignore_errors=True)
