"""The alert rules: valid for Prometheus (``promtool check rules``), their unit tests pass
(``promtool test rules``), every alert is unit-tested or named there, and every alert has a
runbook entry in the README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.deploy.panels import ALERTS
from tests.deploy.tools import readme_section, tool

TESTS = ALERTS.with_name("alerts_test.yml")


def alert_names() -> list[str]:
    return [rule["alert"] for group in yaml.safe_load(ALERTS.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_rules() -> None:
    done = subprocess.run([tool("promtool"), "check", "rules", str(ALERTS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    done = subprocess.run([tool("promtool"), "test", "rules", str(TESTS)],
                          capture_output=True, text=True, timeout=60, cwd=TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    """The unit tests can fail: the same file expecting another severity does."""
    (tmp_path / "alerts.yml").write_text(ALERTS.read_text())
    broken = TESTS.read_text().replace("severity: critical, job: touchstream-worker",
                                       "severity: warning, job: touchstream-worker")
    (tmp_path / "alerts_test.yml").write_text(broken)
    done = subprocess.run([tool("promtool"), "test", "rules", "alerts_test.yml"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0


def test_every_alert_has_a_runbook_entry_and_most_have_unit_tests() -> None:
    names = alert_names()
    assert len(names) == len(set(names))
    runbook = readme_section("Operations")
    missing = [n for n in names if not re.search(rf"\*\*{n}\*\*", runbook)]
    assert not missing, f"no runbook entry in the README's Operations section for {missing}"
    tested = set(re.findall(r"alertname: (\w+)", TESTS.read_text()))
    assert tested <= set(names)
    assert len(tested) >= 9, sorted(set(names) - tested)


def test_the_compose_prometheus_config_is_valid(tmp_path: Path) -> None:
    config = ALERTS.with_name("prometheus.yml").read_text()
    token = tmp_path / "token"
    token.write_text("t")
    config = config.replace("/etc/prometheus/alerts.yml", str(ALERTS)).replace(
        "/run/secrets/metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    done = subprocess.run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = {job["job_name"] for job in yaml.safe_load(config)["scrape_configs"]}
    # the alert rules select these jobs
    assert jobs == set(re.findall(r'job="([\w-]+)"', ALERTS.read_text()))
