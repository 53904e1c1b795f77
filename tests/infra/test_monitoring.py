"""Alerting and Prometheus-driven autoscaling as the program declares them, in both regions:
the chart's rule files are the generated ones, Alertmanager's routing passes `amtool`
(Debian prometheus-alertmanager) and routes page and ticket apart, and the KEDA triggers
have the fields of the keda.sh/v1alpha1 ScaledObject schema."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.monitoring import RULES_DIR, alertmanager_config
from tests.infra.conftest import PRIMARY, STANDBY, Plan

REGIONS = [("primary", PRIMARY), ("standby", STANDBY)]


def release(plan: Plan, name: str, region: str) -> dict[str, Any]:
    (found,) = [
        r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release", region)
        if r["inputs"]["name"] == name
    ]
    return found


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_prometheus_loads_the_generated_rules_and_sends_to_alertmanager(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, "prometheus", region)["values"]
    files = values["serverFiles"]
    assert files["recording_rules.yml"] == yaml.safe_load((RULES_DIR / "slos.yml").read_text())
    assert files["alerting_rules.yml"] == yaml.safe_load((RULES_DIR / "alerts.yml").read_text())
    (target,) = values["server"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert target == "alertmanager.monitoring.svc.cluster.local:9093"
    assert values["server"]["retention"] == "3d"  # the chart's own settings survive


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_alertmanager_routes_pages_and_tickets_to_their_topics(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, "alertmanager", region)["values"]
    config = values["config"]
    routes = {r["matchers"][0]: r["receiver"] for r in config["route"]["routes"]}
    assert routes == {'severity="page"': "page", 'severity="ticket"': "ticket"}
    receivers = {r["name"]: r["sns_configs"][0] for r in config["receivers"]}
    assert receivers["page"]["topic_arn"] != receivers["ticket"]["topic_arn"]
    assert all(r["sigv4"]["region"] == region for r in receivers.values())
    annotations = values["serviceAccount"]["annotations"]
    assert "eks.amazonaws.com/role-arn" in annotations
    policies = [
        p["inputs"]["policy"] for p in plan.of_type("aws:iam/rolePolicy:RolePolicy", region)
        if p["name"] == f"{role}-monitoring-alertmanager-policy"
    ]
    assert len(policies) == 1 and "sns:Publish" in policies[0]


def test_amtool_accepts_the_alertmanager_config_and_routes_by_severity(tmp_path: Path) -> None:
    config = alertmanager_config(
        "eu-central-1",
        "arn:aws:sns:eu-central-1:111111111111:orders-primary-alarms",
        "arn:aws:sns:eu-central-1:111111111111:orders-primary-tickets",
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))

    assert shutil.which("amtool"), "run: sudo apt-get install -y prometheus-alertmanager"

    def amtool(*args: str) -> str:
        done = subprocess.run(
            ["amtool", *args], capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    assert "SUCCESS" in amtool("check-config", str(path))
    route = ["config", "routes", "test", f"--config.file={path}"]
    assert amtool(*route, "alertname=OrdersAvailabilityBudgetBurn", "severity=page") == "page"
    assert amtool(*route, "alertname=RedisDegraded", "severity=ticket") == "ticket"


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_keda_scales_the_api_on_p99_and_the_relays_on_the_outbox(
    plan: Plan, role: str, region: str
) -> None:
    scalers = {
        s["inputs"]["metadata"]["name"]: s["inputs"]["spec"]
        for s in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject", region)
    }
    api, relay = scalers["orders-api"], scalers["orders-relay"]
    assert 2 <= api["minReplicaCount"] < api["maxReplicaCount"] or role == "standby"
    (latency,) = [t for t in api["triggers"] if t["type"] == "prometheus"]
    assert latency["metricType"] == "Value"
    assert set(latency["metadata"]) == {"serverAddress", "query", "threshold"}
    assert float(latency["metadata"]["threshold"]) < 0.5  # before the P99 objective breaks
    assert "histogram_quantile(0.99" in latency["metadata"]["query"]
    (backlog,) = relay["triggers"]
    assert backlog["type"] == "prometheus" and backlog["metricType"] == "AverageValue"
    assert "outbox_backlog" in backlog["metadata"]["query"]
    assert relay["scaleTargetRef"] == {"name": "orders-relay"}
    assert relay["minReplicaCount"] >= 1 and relay["maxReplicaCount"] > relay["minReplicaCount"]
