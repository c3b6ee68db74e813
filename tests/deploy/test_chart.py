"""The Helm chart: ``helm lint --strict``, ``helm template`` rendered and decoded strictly into
the Kubernetes API types offline (``deploy/k8s-validate``), and the chart's own rules."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.panels import ROOT
from tests.deploy.tools import tool

CHART = ROOT / "deploy" / "helm" / "touchstream"
CI_VALUES = CHART / "ci" / "test-values.yaml"
KUBE_VERSION = "1.31.0"


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("helm"), *args], capture_output=True, text=True, timeout=120)


def render(*sets: str) -> subprocess.CompletedProcess[str]:
    args = ["template", "ts", str(CHART), "-f", str(CI_VALUES), "--kube-version", KUBE_VERSION]
    for s in sets:
        args += ["--set", s]
    return helm(*args)


def validate(manifests: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("k8s-validate")], input=manifests, capture_output=True,
                          text=True, timeout=60)


def docs(manifests: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifests) if d]


def test_helm_lint_strict() -> None:
    done = helm("lint", "--strict", str(CHART), "-f", str(CI_VALUES))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("sets", [(), ("gateway.enabled=false",), ("worker.replicas=1",)])
def test_rendered_manifests_decode_strictly_into_the_kubernetes_types(sets: tuple[str, ...]
                                                                      ) -> None:
    rendered = render(*sets)
    assert rendered.returncode == 0, rendered.stderr
    checked = validate(rendered.stdout)
    assert checked.returncode == 0, checked.stderr
    assert "manifests valid" in checked.stdout


def test_the_validator_refuses_a_misspelt_field_and_a_selector_that_matches_nothing() -> None:
    rendered = render().stdout
    typo = validate(rendered.replace("containerPort:", "containerPrt:", 1))
    assert typo.returncode == 1 and 'unknown field "containerPrt"' in typo.stderr
    manifests = docs(rendered)
    for d in manifests:
        if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"].endswith("gateway"):
            d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] = "gatewayx"
    orphan = validate(yaml.safe_dump_all(manifests))
    assert orphan.returncode == 1
    assert "PodDisruptionBudget ts-touchstream-gateway: selects no workload" in orphan.stderr


def test_workers_probes_pdb_resources_and_settings() -> None:
    manifests = docs(render().stdout)
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in manifests}
    worker = by_kind["Deployment", "ts-touchstream-worker"]
    assert worker["spec"]["replicas"] == 6
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["worker"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert container["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert worker["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    pdb = by_kind["PodDisruptionBudget", "ts-touchstream-worker"]
    assert pdb["spec"]["maxUnavailable"] == 1
    settings = by_kind["ConfigMap", "ts-touchstream-settings"]["data"]
    assert settings["TOUCHSTREAM_KAFKA_BOOTSTRAP_SERVERS"] == "kafka-0.kafka:9092,kafka-1.kafka:9092"
    assert settings["TOUCHSTREAM_WEB_HOST"] == "0.0.0.0"
    # every path the process writes is under the /tmp emptyDir (read-only root filesystem)
    assert settings["APP_DATADIR"].startswith("/tmp/")
    assert settings["TOUCHSTREAM_LOCAL_STATE_DIR"].startswith("/tmp/")
    mounts = worker["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "tmp", "mountPath": "/tmp"} in mounts
    secret = by_kind["Secret", "ts-touchstream-secrets"]["stringData"]
    assert secret["TOUCHSTREAM_WEB_SECRET"] == "change-me-web"
    # secrets never land in the ConfigMap
    assert not any("SECRET" in k or "CLICKHOUSE_URL" in k for k in settings)


def test_an_existing_secret_replaces_the_generated_one() -> None:
    manifests = docs(render("secrets.existingSecret=prod-touchstream").stdout)
    assert not [d for d in manifests if d["kind"] == "Secret"]
    worker = next(d for d in manifests if d["kind"] == "Deployment"
                  and d["metadata"]["name"].endswith("worker"))
    refs = worker["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "prod-touchstream"}} in refs


def test_more_workers_than_partitions_is_refused() -> None:
    done = render("worker.replicas=7")
    assert done.returncode != 0 and "above settings.topic_partitions (6)" in done.stderr
    assert render("worker.replicas=12", "settings.topic_partitions=12").returncode == 0


def test_several_workers_on_the_embedded_engine_are_refused() -> None:
    done = helm("template", "ts", str(CHART), "--kube-version", KUBE_VERSION)
    assert done.returncode != 0 and "several workers need a ClickHouse server" in done.stderr


def _by_kind(manifests: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs(manifests) if d["kind"] == kind}


def test_the_scheduled_jobs_and_the_optimisation_a_dry_run_unless_made_live() -> None:
    jobs = _by_kind(render().stdout, "CronJob")
    assert set(jobs) == {"ts-touchstream-optimise", "ts-touchstream-optimise-verify",
                         "ts-touchstream-identity-match"}
    cycle = jobs["ts-touchstream-optimise"]
    assert cycle["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cycle["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == ["optimise", "run", "--dry-run"]
    live = _by_kind(render("optimise.live=true").stdout, "CronJob")["ts-touchstream-optimise"]
    assert live["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "optimise", "run", "--live"]
    assert set(_by_kind(render("optimise.enabled=false").stdout, "CronJob")) == {
        "ts-touchstream-identity-match"}
    assert not _by_kind(render("optimise.enabled=false", "identityMatch.enabled=false").stdout,
                        "CronJob")
    match = jobs["ts-touchstream-identity-match"]["spec"]["jobTemplate"]["spec"]["template"]
    assert match["spec"]["containers"][0]["args"] == ["identity", "match", "--threshold", "0.9"]
    bad = validate(render().stdout.replace('schedule: "7 * * * *"', 'schedule: "hourly"'))
    assert bad.returncode == 1 and "not five cron fields" in bad.stderr


def test_the_connectors_run_once_and_keep_their_cursors_on_a_claim() -> None:
    [connectors] = _by_kind(render("connectors.existingClaim=cursors").stdout,
                            "Deployment")["ts-touchstream-connectors"]["spec"]["template"][
        "spec"]["volumes"][:1]
    assert connectors == {"name": "state", "persistentVolumeClaim": {"claimName": "cursors"}}
    deployment = _by_kind(render().stdout, "Deployment")["ts-touchstream-connectors"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["template"]["spec"]["volumes"][0] == {"name": "state",
                                                                    "emptyDir": {}}
