"""Every dashboard panel query parses (promtool, as a recording rule) and names only metrics
that something we run exports: the service, Patroni 3.0.2, the audit-log integrator, the
edge (HAProxy's exporter, scraped from the real binary; the ALB through the CloudWatch
exporter), or our own recording rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from localenv.procs import free_port
from observability import dashboards, generate
from service.observability import Metrics
from tests.observability.haproxy import exported, running, write_config

PROMTOOL = shutil.which("promtool")  # Debian prometheus, from scripts/install-system-deps.sh
# patroni/api.py do_GET_metrics at tag v3.0.2 (the Debian package's version)
PATRONI = {
    "patroni_version", "patroni_postgres_running", "patroni_postmaster_start_time",
    "patroni_master", "patroni_primary", "patroni_xlog_location", "patroni_standby_leader",
    "patroni_replica", "patroni_sync_standby", "patroni_xlog_received_location",
    "patroni_xlog_replayed_location", "patroni_xlog_replayed_timestamp", "patroni_xlog_paused",
    "patroni_postgres_server_version", "patroni_cluster_unlocked",
    "patroni_failsafe_mode_is_active", "patroni_postgres_timeline", "patroni_dcs_last_seen",
    "patroni_pending_restart", "patroni_is_paused",
}
# the integrator's metrics, as agreed with the audit-log work
INTEGRATOR = {
    "audit_integration_lag_seconds", "audit_checkpoint_age_seconds", "audit_tree_size",
    "audit_integrator_active",
}
PROMETHEUS = {"up", "ALERTS"}
# yet-another-cloudwatch-exporter's name for AWS/ApplicationELB HTTPCode_ELB_5XX_Count, Sum
# (aws_<namespace>_<metric in snake case>_<statistic>), the one CloudWatch metric an SLI reads
ALB_CLOUDWATCH = {"aws_applicationelb_httpcode_elb_5_xx_count_sum"}
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "and", "or",
    "unless", "bool", "inf", "nan",
}


def service_metrics() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":  # labelled counters have no samples until used
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}_{s}" for s in ("bucket", "count", "sum"))
    return names


@pytest.fixture(scope="module")
def haproxy_metrics(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The metric names the Debian HAProxy's built-in exporter serves, with the API backend
    and a server named as the local stack names them."""
    port = free_port()
    config = write_config(tmp_path_factory.mktemp("haproxy") / "haproxy.cfg", port, [
        "defaults", "    mode http", "    timeout connect 1s", "    timeout server 5s",
        "backend api_replicas", "    server api-a 127.0.0.1:1",
    ])
    with running(config, port):
        text = exported(port)
    return {line.split("{")[0].split()[0] for line in text.splitlines()
            if line and not line.startswith("#")}


def recorded_metrics() -> set[str]:
    names: set[str] = set()
    for path in (generate.HERE / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names.update(r["record"] for r in group["rules"] if "record" in r)
    return names


def metric_names(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end():].lstrip()
        if following.startswith("(") or match.group(0).lower() in KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def panel_queries() -> list[tuple[str, str]]:
    queries = []
    for path in sorted(dashboards.DIRECTORY.glob("*.json")):
        model = json.loads(path.read_text())
        for panel in model["panels"]:
            queries += [(f"{path.stem}: {panel['title']}", t["expr"]) for t in panel["targets"]]
    return queries


def test_checked_in_dashboards_equal_the_builder() -> None:
    built = dashboards.dashboards()
    assert {p.stem for p in dashboards.DIRECTORY.glob("*.json")} == set(built)
    for uid, model in built.items():
        assert (dashboards.DIRECTORY / f"{uid}.json").read_text() == dashboards.render(model)
        assert model["uid"] == uid and model["panels"]


def test_metric_names_are_found_and_unknown_ones_rejected() -> None:
    assert metric_names(
        'sum by (le) (rate(http_request_duration_seconds_bucket{route="/v1/x"}[5m])) '
        "/ on (slo) group_left slo:error_budget:ratio offset 1d and up == 0"
    ) == {"http_request_duration_seconds_bucket", "slo:error_budget:ratio", "up"}


def test_every_panel_query_parses_and_names_exported_metrics(
    tmp_path: Path, haproxy_metrics: set[str]
) -> None:
    known = (service_metrics() | PATRONI | INTEGRATOR | PROMETHEUS | recorded_metrics()
             | haproxy_metrics | ALB_CLOUDWATCH)
    queries = panel_queries()
    assert len(queries) >= 20
    unknown = {
        where: sorted(metric_names(expr) - known)
        for where, expr in queries
        if metric_names(expr) - known
    }
    assert unknown == {}
    rules = [
        {"record": f"dashboard:query:{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, (_, expr) in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    assert PROMTOOL, "promtool not found; run: sudo apt-get install -y prometheus"
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_name_exported_metrics_too(haproxy_metrics: set[str]) -> None:
    assert "haproxy_server_http_responses_total" in haproxy_metrics  # the exporter answered
    known = (service_metrics() | PATRONI | INTEGRATOR | PROMETHEUS | recorded_metrics()
             | haproxy_metrics | ALB_CLOUDWATCH)
    for path in (generate.HERE / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                assert metric_names(rule["expr"]) <= known, (rule, metric_names(rule["expr"]))
