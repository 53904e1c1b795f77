"""The EKS cluster (version, API access, admins, logs) and the Helm charts on it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from infra.config.reader import CLOUDWATCH_RETENTION_DAYS, ROLE_ARN_RE, Section
from infra.config.versions import (
    CHART_VERSIONS,
    CLUSTER_AUTOSCALER_IMAGES,
    KUBERNETES_VERSION,
    MIN_PRE_STOP_SLEEP_K8S,
)

CHART_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class ClusterConfig:
    kubernetes_version: str
    endpoint_public_access: bool
    public_access_cidrs: tuple[str, ...]
    # Networks routed into the VPC (VPN, peering, an in-VPC runner's subnet) that may reach
    # the private endpoint on 443: the deployer's path when the public endpoint is off.
    private_access_cidrs: tuple[str, ...]
    admin_role_arns: tuple[str, ...]
    log_retention_days: int


@dataclass(frozen=True)
class AddonsConfig:
    load_balancer_controller_chart: str
    argo_rollouts_chart: str
    keda_chart: str
    prometheus_chart: str
    cluster_autoscaler_chart: str
    metrics_server_chart: str
    alertmanager_chart: str
    cloudwatch_exporter_chart: str
    # How long after a minute ends the exporter asks CloudWatch for it (ingestion delay).
    cloudwatch_delay_seconds: int


def read_cluster(s: Section) -> ClusterConfig:
    config = ClusterConfig(
        kubernetes_version=s.text("kubernetesVersion", KUBERNETES_VERSION),
        endpoint_public_access=s.flag("endpointPublicAccess", False),
        public_access_cidrs=s.texts("publicAccessCidrs", []),
        private_access_cidrs=s.texts("privateAccessCidrs", []),
        admin_role_arns=s.texts("adminRoleArns", []),
        log_retention_days=s.integer("logRetentionDays", 365),
    )
    s.reject_unknown()
    _check_kubernetes_version(config.kubernetes_version, s)
    _check_api_access(config, s)
    for arn in config.admin_role_arns:
        if not ROLE_ARN_RE.match(arn):
            s.problems.append(f"{s.path}.adminRoleArns: {arn!r} is not an IAM role ARN")
    if config.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        s.problems.append(f"{s.path}.logRetentionDays is not a CloudWatch retention value")
    return config


def _check_kubernetes_version(version_text: str, s: Section) -> None:
    version = re.fullmatch(r"(\d+)\.(\d+)", version_text)
    if version is None:
        s.problems.append(f"{s.path}.kubernetesVersion must look like 1.35")
    elif (int(version[1]), int(version[2])) < MIN_PRE_STOP_SLEEP_K8S:
        s.problems.append(f"{s.path}.kubernetesVersion must be >= 1.30 (preStop sleep action)")
    elif version_text not in CLUSTER_AUTOSCALER_IMAGES:
        s.problems.append(
            f"{s.path}.kubernetesVersion {version_text} has no matching "
            f"cluster-autoscaler image pinned (known: {', '.join(CLUSTER_AUTOSCALER_IMAGES)})"
        )


def _check_api_access(config: ClusterConfig, s: Section) -> None:
    """The deployer must have a path to the API: the endpoint is private by default and
    the stack creates the VPC, so nothing outside reaches it unless configured."""
    if config.endpoint_public_access and not config.public_access_cidrs:
        s.problems.append(
            f"{s.path}.publicAccessCidrs must list the deployer/VPN ranges when "
            "endpointPublicAccess is true"
        )
    if not config.endpoint_public_access and not config.private_access_cidrs:
        s.problems.append(
            f"{s.path}: the deployer has no path to the Kubernetes API; set "
            "privateAccessCidrs (VPN / in-VPC runner ranges) or endpointPublicAccess with "
            "publicAccessCidrs (infra/README.md, 'Reaching the cluster')"
        )
    for key, cidrs in (
        ("publicAccessCidrs", config.public_access_cidrs),
        ("privateAccessCidrs", config.private_access_cidrs),
    ):
        for cidr in cidrs:
            try:
                if ipaddress.ip_network(cidr, strict=True).prefixlen == 0:
                    s.problems.append(f"{s.path}.{key} must not contain {cidr}")
            except ValueError:
                s.problems.append(f"{s.path}.{key}: {cidr!r} is not a CIDR")


def read_addons(s: Section) -> AddonsConfig:
    config = AddonsConfig(
        load_balancer_controller_chart=s.text(
            "loadBalancerControllerChart", CHART_VERSIONS["loadBalancerControllerChart"]
        ),
        argo_rollouts_chart=s.text("argoRolloutsChart", CHART_VERSIONS["argoRolloutsChart"]),
        keda_chart=s.text("kedaChart", CHART_VERSIONS["kedaChart"]),
        prometheus_chart=s.text("prometheusChart", CHART_VERSIONS["prometheusChart"]),
        cluster_autoscaler_chart=s.text(
            "clusterAutoscalerChart", CHART_VERSIONS["clusterAutoscalerChart"]
        ),
        metrics_server_chart=s.text("metricsServerChart", CHART_VERSIONS["metricsServerChart"]),
        alertmanager_chart=s.text("alertmanagerChart", CHART_VERSIONS["alertmanagerChart"]),
        cloudwatch_exporter_chart=s.text(
            "cloudwatchExporterChart", CHART_VERSIONS["cloudwatchExporterChart"]
        ),
        cloudwatch_delay_seconds=s.integer("cloudwatchDelaySeconds", 120, lo=0, hi=600),
    )
    s.reject_unknown()
    for key, value in vars(config).items():
        if key.endswith("_chart") and not CHART_VERSION_RE.match(value):
            s.problems.append(f"{s.path}: chart version {key}={value!r} must be pinned (x.y.z)")
    return config
