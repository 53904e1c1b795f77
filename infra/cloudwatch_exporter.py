"""The load balancer's own 5xx, from CloudWatch into the region's in-cluster Prometheus.

When every API replica is unready the ALB answers 503 itself and the service never sees
the request; only CloudWatch counts those (`HTTPCode_ELB_5XX_Count`). YACE
(yet-another-cloudwatch-exporter, prometheus-community chart) reads it for the orders ALB
of its own region and serves it on a pod that the Prometheus chart's `kubernetes-pods`
job scrapes (the `prometheus.io/*` annotations the service's pods use).

What it exports, per 60-second CloudWatch period (the SLI divides by 60):
`aws_applicationelb_httpcode_elb_5_xx_count_sum` is the Sum of the newest complete
minute, read `delay` seconds after it ended; `length == period`, so the request covers
exactly that minute and a minute without a datapoint (the ALB sent no 5xx) reads 0
(nilToZero), never an older minute's value. YACE re-reads CloudWatch every period
(`scraping-interval`), so each minute is fetched once. Only the load balancer's own
dimension (`LoadBalancer`) is requested: the per-AZ and per-target-group series of the
same metric would be counted twice by a `sum`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.workload.args import manifest

CHART = "prometheus-yet-another-cloudwatch-exporter"
CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
MONITORING_NAMESPACE = "monitoring"
RELEASE = SERVICE_ACCOUNT = "cloudwatch-exporter"
METRICS_PORT = 5000  # YACE's --listen-address default (the chart's containerPort)
NAMESPACE = "AWS/ApplicationELB"
PERIOD_SECONDS = 60
ELB_5XX = "HTTPCode_ELB_5XX_Count"
# Beside the SLI's metric: the targets' own 5xx and the request count, for the same cost
# order (one GetMetricData metric per minute each).
ALB_METRICS = (ELB_5XX, "HTTPCode_Target_5XX_Count", "RequestCount")
# A discovery job's calls (YACE README, "bare minimum permissions": GetMetricStatistics
# only serves static jobs). sts:GetCallerIdentity needs no permission; without
# iam:ListAccountAliases YACE logs a warning and omits the account_alias label.
ACTIONS = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources")
# Tags the AWS Load Balancer Controller puts on every ALB it creates (its docs, "Resource
# Tags"; pkg/shared_constants/tag_keys.go): the cluster, the Ingress (namespace/name of an
# implicit IngressGroup) and the resource kind (its target groups carry other values).
CLUSTER_TAG, STACK_TAG, RESOURCE_TAG = (
    "elbv2.k8s.aws/cluster",
    "ingress.k8s.aws/stack",
    "ingress.k8s.aws/resource",
)


def exported_metric_name(namespace: str, metric: str, statistic: str) -> str:
    """The Prometheus name YACE gives a CloudWatch metric (its promutil.BuildMetricName):
    lower-cased, `_` before an upper-case letter that follows a lower-case letter or a
    digit, the namespace's words not repeated, the statistic appended."""

    def prom(text: str) -> str:
        out, prev = [], ""
        for c in text:
            if c in " ,\t/\\.-:=@<>()\u201c":
                out.append("_")
            elif c == "%":
                out.append("_percent")
            else:
                if c.isupper() and (prev.islower() or prev.isdigit()):
                    out.append("_")
                out.append(c.lower())
            prev = c
        return "".join(out)

    space = prom(namespace.removeprefix("/").lower())
    name = prom(metric)
    skip = 0
    for part in space.split("_"):
        if name[skip:].startswith(part):
            skip = len(part)
    name = name[skip:].removeprefix("_")
    prefix = "" if space.startswith("aws") else "aws_"
    return f"{prefix}{space}_{name}_{prom(statistic)}"


ELB_5XX_SERIES = exported_metric_name(NAMESPACE, ELB_5XX, "Sum")
# The exporter's scrapes (labels of the Prometheus chart's kubernetes-pods job).
EXPORTER_UP = f'up{{namespace="{MONITORING_NAMESPACE}",app_kubernetes_io_instance="{RELEASE}"}}'
# The edge's own 5xx per second over `{{window}}`, for the SLIs: the per-minute Sums
# summed over every scrape, divided by the number of scrapes and by 60. Robust where
# `sum(avg_over_time(...))` is not: a replaced exporter pod starts a new series (its `pod`
# label), and a sum of per-series averages then doubles; the series is also absent until
# the ALB has had a 5xx within two weeks (CloudWatch ListMetrics lists no older metric),
# so absence reads 0 and does not shrink the window.
EDGE_5XX_PER_SECOND = (
    f"(sum(sum_over_time({ELB_5XX_SERIES}[{{{{window}}}}]))"
    f" / sum(count_over_time({EXPORTER_UP}[{{{{window}}}}])) / {PERIOD_SECONDS})"
    " or vector(0)"
)


@dataclass(frozen=True)
class AlbSelector:
    """The orders ALB, by the tags its controller gives it."""

    cluster_name: str
    namespace: str
    ingress_name: str

    def search_tags(self) -> list[dict[str, str]]:
        # YACE matches each value as a regular expression: anchored, literal.
        exact = [
            (CLUSTER_TAG, self.cluster_name),
            (STACK_TAG, f"{self.namespace}/{self.ingress_name}"),
            (RESOURCE_TAG, "LoadBalancer"),
        ]
        return [{"key": k, "value": f"^{re.escape(v)}$"} for k, v in exact]


def exporter_config(region: str, alb: AlbSelector, delay_seconds: int) -> dict[str, Any]:
    """YACE's config file (apiVersion v1alpha1): one discovery job, this region's ALB."""
    return {
        "apiVersion": "v1alpha1",
        "sts-region": region,
        "discovery": {
            "jobs": [
                {
                    "type": NAMESPACE,
                    "regions": [region],
                    "searchTags": alb.search_tags(),
                    "dimensionNameRequirements": ["LoadBalancer"],
                    "period": PERIOD_SECONDS,
                    "length": PERIOD_SECONDS,
                    # only the job-level delay is honoured (a metric-level one is ignored)
                    "delay": delay_seconds,
                    "nilToZero": True,
                    "metrics": [{"name": m, "statistics": ["Sum"]} for m in ALB_METRICS],
                }
            ]
        },
    }


def exporter_values(config: dict[str, Any], role_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The chart's values (every key exists in the pinned chart's values.yaml)."""
    return {
        "fullnameOverride": RELEASE,
        # One replica: two would export the same series twice and a `sum` would double it.
        "replicaCount": 1,
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "podAnnotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(METRICS_PORT),
            "prometheus.io/path": "/metrics",
        },
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,  # the image's `nobody`
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"memory": "128Mi"},
        },
        # Re-read CloudWatch once per period (the default, 300 s, would skip 4 minutes in 5).
        "extraArgs": {"scraping-interval": PERIOD_SECONDS},
        # The chart passes this string through `tpl`: no template braces in it.
        "config": yaml.safe_dump(config, sort_keys=False),
    }


def exporter_policy() -> str:
    # These actions support no resource ARNs or conditions (Service Authorization
    # Reference: CloudWatch, Resource Groups Tagging API): Resource must be "*".
    return policy_document([{"Effect": "Allow", "Action": list(ACTIONS), "Resource": "*"}])


def network_policy_spec() -> dict[str, Any]:
    """Prometheus (the monitoring namespace) in on the metrics port; out only DNS and
    HTTPS (STS, CloudWatch through its VPC endpoint, the tagging API through NAT)."""
    return {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": RELEASE}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [_namespace_peer(MONITORING_NAMESPACE)],
                "ports": [{"protocol": "TCP", "port": METRICS_PORT}],
            }
        ],
        "egress": [
            {
                "to": [_namespace_peer("kube-system")],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {"ports": [{"protocol": "TCP", "port": 443}]},
        ],
    }


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


@dataclass(frozen=True)
class CloudWatchExporterArgs:
    region: str
    alb: AlbSelector
    chart_version: str
    delay_seconds: int
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    # Helm releases that must be installed first (the Load Balancer Controller's webhooks).
    after: Sequence[pulumi.Resource] = ()


class CloudWatchExporter(pulumi.ComponentResource):
    """YACE in one region: its IRSA role, the Helm release, its NetworkPolicy."""

    def __init__(
        self, name: str, args: CloudWatchExporterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:CloudWatchExporter", name, None, opts)
        role = irsa_role(
            f"{name}-role",
            self,
            args.oidc_provider_arn,
            args.oidc_provider_url,
            MONITORING_NAMESPACE,
            SERVICE_ACCOUNT,
            exporter_policy(),
            description=f"{args.alb.cluster_name} {MONITORING_NAMESPACE}/{SERVICE_ACCOUNT}",
        )
        config = exporter_config(args.region, args.alb, args.delay_seconds)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE,
            chart=CHART,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=MONITORING_NAMESPACE,
            create_namespace=True,
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            values=exporter_values(config, role.arn),
            opts=child(self, depends_on=list(args.after)),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            **manifest(
                metadata={"name": RELEASE, "namespace": MONITORING_NAMESPACE},
                spec=network_policy_spec(),
            ),
            opts=child(self, depends_on=[self.release]),
        )
        self.register_outputs({"role_arn": role.arn})
