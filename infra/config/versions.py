"""Pinned versions, checked against the providers' documentation and upstream repositories
(infra/README.md, "Pinned versions"); `python -m infra.preflight` re-checks them against
the target account and the chart repositories before a deployment."""

from __future__ import annotations

AURORA_ENGINE_VERSION = "17.7"
AURORA_PARAMETER_FAMILY = "aurora-postgresql17"
KUBERNETES_VERSION = "1.35"  # EKS standard support until 2027-03-27
MIN_PRE_STOP_SLEEP_K8S = (1, 30)  # lifecycle.preStop.sleep is on by default from 1.30
# The cluster autoscaler's minor version must match the cluster's.
CLUSTER_AUTOSCALER_IMAGES = {"1.35": "v1.35.0", "1.36": "v1.36.0"}
CHART_VERSIONS = {
    "loadBalancerControllerChart": "3.5.0",  # controller v3.5.0
    "argoRolloutsChart": "2.41.0",  # Argo Rollouts v1.9.0
    "kedaChart": "2.20.2",
    "prometheusChart": "29.27.0",  # Prometheus v3.14.0
    "clusterAutoscalerChart": "9.59.0",  # appVersion 1.35.0
    "metricsServerChart": "3.13.1",  # metrics-server 0.8.1
    "alertmanagerChart": "1.21.0",  # prometheus-community/alertmanager, Alertmanager v0.28
    # prometheus-community/prometheus-yet-another-cloudwatch-exporter, YACE v0.67.0
    "cloudwatchExporterChart": "0.47.0",
}
