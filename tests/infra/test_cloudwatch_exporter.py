"""The CloudWatch exporter (YACE) that brings the ALB's own 5xx into each region's
Prometheus, checked against upstream material recorded in
infra/vendor/yet-another-cloudwatch-exporter/ (PROVENANCE.json): the pinned chart's
values.yaml, the config file's keys from YACE's pkg/config/scrapeconf.go, its supported
namespaces, and metric names from YACE's own tests and README."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra import validate
from infra.cloudwatch_exporter import (
    ACTIONS,
    EDGE_5XX_PER_SECOND,
    ELB_5XX,
    ELB_5XX_SERIES,
    METRICS_PORT,
    PERIOD_SECONDS,
    SERVICE_ACCOUNT,
    exported_metric_name,
)
from infra.config import CHART_VERSIONS
from tests.infra.conftest import PRIMARY, ROOT, STANDBY, Plan

VENDOR = ROOT / "infra" / "vendor" / "yet-another-cloudwatch-exporter"
PROVENANCE = json.loads((VENDOR / "PROVENANCE.json").read_text())
CHART_VALUES = yaml.safe_load((VENDOR / "chart-values.yaml").read_text())
SCHEMA = json.loads((VENDOR / "config-schema.json").read_text())
REGIONS = [("primary", PRIMARY), ("standby", STANDBY)]
# The SLI's edge-5xx term (observability/slos.yml) reads exactly this series.
SLI_SERIES = "aws_applicationelb_httpcode_elb_5_xx_count_sum"


def release(plan: Plan, role: str, region: str) -> dict[str, Any]:
    entry = plan.named(f"{role}-cloudwatch-exporter-release")
    assert entry["region"] == region
    inputs: dict[str, Any] = entry["inputs"]
    return inputs


def config(plan: Plan, role: str, region: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(release(plan, role, region)["values"]["config"])
    return document


def test_the_vendored_material_is_what_provenance_names() -> None:
    values = (VENDOR / "chart-values.yaml").read_text()
    assert hashlib.sha256(values.encode()).hexdigest() == PROVENANCE["chart"]["values_sha256"]
    assert PROVENANCE["chart"]["chart_version"] == CHART_VERSIONS["cloudwatchExporterChart"]
    assert PROVENANCE["exporter"]["tag"] == PROVENANCE["chart"]["app_version"]


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_the_pinned_chart_runs_in_each_region_on_that_regions_cluster(
    plan: Plan, plan_options: dict[str, dict[str, Any]], role: str, region: str
) -> None:
    inputs = release(plan, role, region)
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert inputs["chart"] == "prometheus-yet-another-cloudwatch-exporter"
    assert inputs["version"] == stack["orders:addons"]["cloudwatchExporterChart"]
    assert inputs["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    assert inputs["namespace"] == "monitoring"
    # after the Load Balancer Controller, whose webhooks would refuse its Service and Pod
    depends = plan_options[f"{role}-cloudwatch-exporter-release"]["dependsOn"]
    assert f"{role}-addons-aws-load-balancer-controller" in depends
    # it watches its own region's ALB only
    job = config(plan, role, region)["discovery"]["jobs"][0]
    assert job["regions"] == [region]


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_its_role_is_assumable_only_by_its_service_account(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, role, region)["values"]
    assert values["serviceAccount"]["name"] == SERVICE_ACCOUNT
    role_entry = plan.named(f"{role}-cloudwatch-exporter-role")
    annotation = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation == role_entry["outputs"]["arn"]
    (statement,) = json.loads(role_entry["inputs"]["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = statement["Condition"]["StringEquals"]
    subject = [v for k, v in conditions.items() if k.endswith(":sub")]
    assert subject == [f"system:serviceaccount:monitoring:{SERVICE_ACCOUNT}"]
    assert [v for k, v in conditions.items() if k.endswith(":aud")] == ["sts.amazonaws.com"]
    # the OIDC provider of this region's cluster
    assert f"oidc.eks.{region}.amazonaws.com" in statement["Principal"]["Federated"]


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_its_policy_allows_exactly_a_discovery_jobs_calls(
    plan: Plan, role: str, region: str
) -> None:
    entry = plan.named(f"{role}-cloudwatch-exporter-role-policy")
    (statement,) = json.loads(entry["inputs"]["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    # YACE README's minimum for discovery jobs, less GetMetricStatistics (static jobs only)
    assert sorted(statement["Action"]) == [
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "tag:GetResources",
    ]
    assert sorted(ACTIONS) == sorted(statement["Action"])


def alb_is_selected(job: dict[str, Any], tags: dict[str, str]) -> bool:
    """YACE's searchTags: every key present, its value matching the regex (RE2 here is
    Python's re: the patterns use only ^, $ and escaped literals)."""
    return all(
        t["key"] in tags and re.search(t["value"], tags[t["key"]]) is not None
        for t in job["searchTags"]
    )


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_the_job_selects_the_orders_alb_and_its_own_5xx_per_minute(
    plan: Plan, role: str, region: str
) -> None:
    (job,) = config(plan, role, region)["discovery"]["jobs"]
    assert job["type"] == "AWS/ApplicationELB"
    cluster = plan.named(f"{role}-cluster-eks")["inputs"]["name"]
    # the tags the Load Balancer Controller gives the Ingress's ALB and its target group
    alb = {
        "elbv2.k8s.aws/cluster": cluster,
        "ingress.k8s.aws/stack": "orders/orders-api",
        "ingress.k8s.aws/resource": "LoadBalancer",
    }
    target_group = {**alb, "ingress.k8s.aws/resource": "orders/orders-api-orders-api:80"}
    other_cluster = {**alb, "elbv2.k8s.aws/cluster": f"{cluster}-x"}
    assert alb_is_selected(job, alb)
    assert not alb_is_selected(job, target_group)
    assert not alb_is_selected(job, other_cluster)
    assert not alb_is_selected(job, {**alb, "ingress.k8s.aws/stack": "orders/other"})
    # only the per-ALB series: per-AZ or per-target-group ones would be summed twice
    assert job["dimensionNameRequirements"] == ["LoadBalancer"]
    metrics = {m["name"]: m for m in job["metrics"]}
    assert metrics[ELB_5XX]["statistics"] == ["Sum"]
    assert job["period"] == PERIOD_SECONDS == 60
    # one minute per request: a minute without datapoint reads 0, never an older minute
    assert job["length"] == job["period"] and job["nilToZero"] is True
    assert 60 <= job["delay"] <= 600
    assert release(plan, role, region)["values"]["extraArgs"] == {"scraping-interval": 60}


def unknown_keys(document: dict[str, Any], struct: str) -> list[str]:
    """Keys of `document` that YACE's struct (and the structs it inlines) does not read."""
    structs: dict[str, dict[str, str]] = SCHEMA["structs"]
    known = dict(structs[struct])
    if ",inline" in known:
        known.update(structs[known.pop(",inline")])
    return sorted(set(document) - set(known))


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_the_config_file_has_yaces_keys_and_passes_its_discovery_job_checks(
    plan: Plan, role: str, region: str
) -> None:
    document = config(plan, role, region)
    assert unknown_keys(document, "ScrapeConf") == []
    assert document["apiVersion"] == "v1alpha1"
    assert unknown_keys(document["discovery"], "Discovery") == []
    for job in document["discovery"]["jobs"]:
        assert unknown_keys(job, "Job") == []
        # validateDiscoveryJob: a supported type, regions, metrics, valid tag regexes
        assert job["type"] in SCHEMA["namespaces"]
        assert job["regions"] and job["metrics"]
        for tag in job["searchTags"]:
            assert unknown_keys(tag, "Tag") == []
            re.compile(tag["value"])
        for metric in job["metrics"]:
            assert unknown_keys(metric, "Metric") == []
            # validateMetric: a name, statistics, length >= period; delay only at job level
            assert metric["name"] and (metric.get("statistics") or job.get("statistics"))
            assert metric.get("length", job["length"]) >= metric.get("period", job["period"])
            assert "delay" not in metric


def values_outside_chart(values: Any, upstream: Any, path: str = "") -> list[str]:
    """Paths set in `values` that the chart's values.yaml does not have. Below a key whose
    upstream default is empty ({} or null) the content is free-form (annotations,
    securityContext, resources...)."""
    if not isinstance(values, dict) or not isinstance(upstream, dict) or not upstream:
        return []
    missing = []
    for key, value in values.items():
        if key not in upstream:
            missing.append(f"{path}{key}")
        else:
            missing += values_outside_chart(value, upstream[key], f"{path}{key}.")
    return missing


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_every_value_set_exists_in_the_pinned_charts_values(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, role, region)["values"]
    assert values_outside_chart(values, CHART_VALUES) == []
    assert values_outside_chart({"serviceAccount": {"automount": True}}, CHART_VALUES) == [
        "serviceAccount.automount"
    ]


def k8s_definition_errors(name: str, instance: Any) -> list[str]:
    schema = {"$ref": f"https://kubernetes.io/api/_definitions.json#/$defs/{name}"}
    validator = jsonschema.Draft202012Validator(schema, registry=validate._registry())
    return [e.message for e in validator.iter_errors(instance)]


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_the_pod_runs_non_root_read_only_with_resources(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, role, region)["values"]
    pod, container = values["podSecurityContext"], values["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
    assert values["resources"]["requests"] and values["resources"]["limits"]["memory"]
    # the chart renders these as the pod's and container's fields, as they are
    core = "io.k8s.api.core.v1."
    assert k8s_definition_errors(core + "PodSecurityContext", pod) == []
    assert k8s_definition_errors(core + "SecurityContext", container) == []
    assert k8s_definition_errors(core + "ResourceRequirements", values["resources"]) == []
    assert k8s_definition_errors(core + "SecurityContext", {"readOnlyRootFS": True}) != []


@pytest.mark.parametrize(("role", "region"), REGIONS)
def test_prometheus_scrapes_the_exporter_pod_and_may_reach_it(
    plan: Plan, role: str, region: str
) -> None:
    values = release(plan, role, region)["values"]
    # the Prometheus chart's kubernetes-pods job keeps pods annotated so, on that port
    annotations = values["podAnnotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(METRICS_PORT) == str(
        CHART_VALUES["containerPort"]
    )
    assert annotations["prometheus.io/path"] == "/metrics"
    assert values["replicaCount"] == 1  # two pods would double every series in a sum
    policy = plan.named(f"{role}-cloudwatch-exporter-network-policy")["inputs"]
    assert policy["metadata"]["namespace"] == "monitoring"
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/instance": release(plan, role, region)["name"]
    }
    (ingress,) = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": METRICS_PORT}]
    assert ingress["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    egress_ports = sorted(p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"])
    assert egress_ports == [53, 53, 443]


# YACE's own vectors: pkg/promutil/migrate_test.go TestBuildMetricName at v0.67.0
# (commit 15fb369c3ffaa46d7e32ab3ce22578cd98444623), and its README's ELB example
# (`aws_elb_httpcode_backend_4_xx_sum`, a digit followed by capitals, as in 5XX).
YACE_VECTORS = [
    ("AWS/ElastiCache", "CPUUtilization", "Average", "aws_elasticache_cpuutilization_average"),
    (
        "/aws/sagemaker/TrainingJobs",
        "CPUUtilization",
        "Average",
        "aws_sagemaker_trainingjobs_cpuutilization_average",
    ),
    ("Glue", "glue.driver.aggregate.bytesRead", "Average",
     "aws_glue_driver_aggregate_bytes_read_average"),
    ("Glue", "aggregate.glue.jobs.bytesRead", "Average",
     "aws_glue_aggregate_glue_jobs_bytes_read_average"),
    ("AWS/ELB", "HTTPCode_Backend_4XX", "Sum", "aws_elb_httpcode_backend_4_xx_sum"),
]


@pytest.mark.parametrize(("namespace", "metric", "statistic", "expected"), YACE_VECTORS)
def test_metric_names_follow_yaces_naming(
    namespace: str, metric: str, statistic: str, expected: str
) -> None:
    assert exported_metric_name(namespace, metric, statistic) == expected


def test_the_sli_reads_the_series_yace_exports_for_the_elb_5xx_sum() -> None:
    assert ELB_5XX_SERIES == SLI_SERIES
    readme = Path(ROOT / "infra" / "README.md").read_text()
    assert SLI_SERIES in readme


# `promtool test rules` scenarios, 1-minute scrapes of the exporter over one hour; `up`
# carries the labels the chart's kubernetes-pods job gives the exporter's pod.
UP = 'up{namespace="monitoring",app_kubernetes_io_instance="cloudwatch-exporter",pod="%s"}'
M = ELB_5XX_SERIES + '{pod="%s"}'
SCENARIOS: list[tuple[str, dict[str, str], float]] = [
    # 6 load-balancer 5xx every minute: 0.1 per second
    ("steady", {M % "a": "6x60", UP % "a": "1x60"}, 0.1),
    # the same, but the exporter pod was replaced at minute 30 (a new `pod` series)
    (
        "pod replaced",
        {M % "a": "6x29 stale", M % "b": "_x30 6x30",
         UP % "a": "1x29 stale", UP % "b": "_x30 1x30"},
        0.1,
    ),
    # no 5xx for two weeks: the series appears with the first ones, 10 minutes of 6
    ("series appears", {M % "a": "_x51 6x9", UP % "a": "_ 1x59"}, 60 / 3600),
    # never any 5xx: no series at all
    ("absent", {UP % "a": "1x60"}, 0.0),
]


def promtool_failures(tmp_path: Path, expr: str) -> str:
    """promtool's output for the scenarios when the edge term is `expr` ("" on success)."""
    rules = {"groups": [{"name": "edge", "rules": [
        {"record": "edge_5xx_per_second", "expr": expr.replace("{{window}}", "1h")}
    ]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    tests = [
        {
            "interval": "1m",
            "name": name,
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "promql_expr_test": [{
                "expr": "edge_5xx_per_second",
                "eval_time": "60m",
                "exp_samples": [{"labels": "edge_5xx_per_second", "value": value}],
            }],
        }
        for name, series, value in SCENARIOS
    ]
    (tmp_path / "test.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests})
    )
    assert shutil.which("promtool"), "run: sudo apt-get install -y prometheus"
    done = subprocess.run(
        ["promtool", "test", "rules", "test.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def test_the_edge_term_reads_5xx_per_second_through_pod_changes_and_absence(
    tmp_path: Path,
) -> None:
    assert promtool_failures(tmp_path, EDGE_5XX_PER_SECOND) == ""
    # The SLIs' own ALB term, as the rule generator wraps it, reads the same.
    sli_term = yaml.safe_load((ROOT / "observability" / "slos.yml").read_text())
    wrapped = f"(({sli_term['edge_errors']['alb'].strip()}) or vector(0))"
    assert promtool_failures(tmp_path, wrapped) == ""
    # The first form proposed for the SLI: 0.2 once the exporter's pod is replaced, 0.1
    # (not 0.0167) when the series appears late in the window, nothing when it is absent.
    naive = f"sum(avg_over_time({ELB_5XX_SERIES}[{{{{window}}}}])) / 60"
    got = re.findall(r"got: (.*)", promtool_failures(tmp_path, naive))
    assert got == ['{__name__="edge_5xx_per_second"} 2E-01',
                   '{__name__="edge_5xx_per_second"} 1E-01', "nil"]


def test_the_edge_terms_up_selector_names_the_exporter_release(plan: Plan) -> None:
    inputs = release(plan, "primary", PRIMARY)
    selector = f'namespace="{inputs["namespace"]}",app_kubernetes_io_instance="{inputs["name"]}"'
    assert f"up{{{selector}}}" in EDGE_5XX_PER_SECOND
