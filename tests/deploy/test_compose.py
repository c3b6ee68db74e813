"""The Compose file (``docker-compose config``: Debian's docker-compose 1.29) and the
Dockerfile it builds (its stages, user, entry points and the files it copies)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.panels import ROOT
from tests.deploy.tools import tool

DEPLOY = ROOT / "deploy"


def config(env_file: Path | None) -> subprocess.CompletedProcess[str]:
    args = [tool("docker-compose"), "-f", str(DEPLOY / "compose.yaml")]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    return subprocess.run([*args, "config"], capture_output=True, text=True, timeout=60,
                          cwd=DEPLOY, env={"PATH": "/usr/bin:/bin"})


def test_compose_config_resolves_with_the_example_environment() -> None:
    done = config(DEPLOY / "env.example")
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = yaml.safe_load(done.stdout)
    services = resolved["services"]
    assert {"kafka", "schema-registry", "clickhouse", "setup", "worker", "gateway",
            "prometheus", "grafana"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    worker = services["worker"]
    assert worker["build"]["target"] == "worker"
    assert worker["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert worker["environment"]["TOUCHSTREAM_SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
    assert services["gateway"]["command"] == ["ingest", "server"]
    # a target's image is tagged apart: the worker's HEALTHCHECK must not land on the gateway
    built = [(s["image"], s["build"]["target"]) for s in services.values() if "build" in s]
    assert len({image for image, _ in built}) == len({target for _, target in built}) == 3
    # published ports stay on loopback (1.29 prints the short syntax)
    published = [(name, str(port)) for name, service in services.items()
                 for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for _, port in published), published
    # the mounted files exist
    binds = [str(v).split(":")[0] for s in services.values() for v in s.get("volumes", [])
             if str(v).startswith("/")]
    assert len(binds) >= 5
    for source in binds:
        assert Path(source).exists(), source


def test_compose_refuses_to_start_without_the_secrets() -> None:
    done = config(None)
    assert done.returncode != 0
    assert "set CLICKHOUSE_PASSWORD in deploy/.env" in done.stderr


def test_dockerfile_stages_user_and_entry_points() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, re.M)
    assert stages == ["build", "runtime", "cli", "gateway", "worker"]
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["tini", "--", "touchstream"]' in text
    assert 'CMD ["ingest", "server"]' in text and 'CMD ["worker"]' in text
    # the build stage has compilers, the runtime does not
    runtime = text[text.index("AS runtime"):]
    assert "build-essential" not in runtime
    # what it copies exists, and the ignore file lets it through
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text()
    for kept in ("streams/", "agents/", "schemas/", "models/", "pyproject.toml"):
        assert f"!{kept}" in ignored
    # the Compose targets are stages of this file
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    targets = {s["build"]["target"] for s in compose["services"].values() if "build" in s}
    assert targets <= set(stages)
