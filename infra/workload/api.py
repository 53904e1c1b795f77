"""The API: a canary Rollout whose analysis asks Prometheus, its Service and its PDB.

The background analysis queries the canary pods' 5xx rate and P99 latency and aborts
(rolls back) on a breach.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

import contract
from infra.workload.args import (
    ANALYSIS_TEMPLATE,
    API,
    HTTP_PORT,
    ROLLOUT_HASH_LABEL,
    manifest,
)
from infra.workload.pods import PodTemplates


def analysis_template(pods: PodTemplates, name: str, opts: pulumi.ResourceOptions) -> None:
    slo = pods.args.slo
    selector = (
        f'namespace="{pods.namespace}",app_kubernetes_io_name="{API}",'
        'rollouts_pod_template_hash="{{args.canary-hash}}"'
    )
    window = "[2m]"
    # Order traffic only (not probes or scrapes); no 5xx series at all is a 0 % error
    # rate, while no traffic at all stays "no data" (the denominator is empty).
    orders = f'{selector},route=~"/v1/.+"'
    error_rate = (
        f'(sum(rate(http_request_duration_seconds_count{{{orders},status=~"5.."}}{window}))'
        " or vector(0))"
        f" / sum(rate(http_request_duration_seconds_count{{{orders}}}{window}))"
    )
    p99 = (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{selector}}}{window})))"
    )
    # No data (an empty vector or NaN: no canary traffic, or Prometheus not scraping)
    # is never a pass: the measurement fails, and a scrape outage aborts the canary
    # instead of promoting it unanalysed.
    has_data = "len(result) > 0 && !isNaN(result[0])"
    prometheus = pods.args.prometheus_url
    k8s.apiextensions.CustomResource(
        f"{name}-analysis",
        api_version="argoproj.io/v1alpha1",
        kind="AnalysisTemplate",
        metadata={"name": ANALYSIS_TEMPLATE, "namespace": pods.namespace},
        spec={
            "args": [{"name": "canary-hash"}],
            "metrics": [
                {
                    "name": "error-rate",
                    "interval": "1m",
                    "initialDelay": "2m",  # a full rate() window of canary traffic
                    "failureLimit": 1,
                    "successCondition": (
                        f"{has_data} && result[0] <= {slo.error_rate_percent / 100:.4f}"
                    ),
                    "provider": {"prometheus": {"address": prometheus, "query": error_rate}},
                },
                {
                    "name": "p99-latency",
                    "interval": "1m",
                    "initialDelay": "2m",  # a full rate() window of canary traffic
                    "failureLimit": 1,
                    "successCondition": (
                        f"{has_data} && result[0] <= {slo.p99_latency_ms / 1000:.3f}"
                    ),
                    "provider": {"prometheus": {"address": prometheus, "query": p99}},
                },
            ],
        },
        opts=opts,
    )


def api(pods: PodTemplates, name: str, opts: pulumi.ResourceOptions) -> None:
    s, region = pods.args.settings, pods.args.region
    selector = {"matchLabels": {contract.APP_LABEL: API}}
    steps: list[dict[str, Any]] = []
    for weight in s.canary_weights:
        steps += [{"setWeight": weight}, {"pause": {"duration": f"{s.canary_pause_seconds}s"}}]
    k8s.apiextensions.CustomResource(
        f"{name}-api",
        api_version="argoproj.io/v1alpha1",
        kind="Rollout",
        metadata={
            "name": API,
            "namespace": pods.namespace,
            "labels": pods.labels(API),
            # make `pulumi up` fail when the canary is aborted instead of reporting success
            "annotations": {"pulumi.com/waitFor": "jsonpath={.status.phase}=Healthy"},
        },
        spec={
            "replicas": region.api_replicas,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": 600,
            "progressDeadlineAbort": True,
            "selector": selector,
            "template": pods.pod_spec(
                API,
                ["serve", "--host", "0.0.0.0", "--port", str(HTTP_PORT)],  # noqa: S104
                serves_http=True,
                hash_label=ROLLOUT_HASH_LABEL,
            ),
            "strategy": {
                "canary": {
                    "maxSurge": "25%",
                    "maxUnavailable": 0,
                    "analysis": {
                        "templates": [{"templateName": ANALYSIS_TEMPLATE}],
                        "startingStep": 1,
                        "args": [
                            {
                                "name": "canary-hash",
                                "valueFrom": {"podTemplateHashValue": "Latest"},
                            }
                        ],
                    },
                    "steps": steps,
                }
            },
        },
        # The HPA owns the replica count once the Rollout exists.
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                ignore_changes=["spec.replicas"],
                custom_timeouts=pulumi.CustomTimeouts(create="30m", update="30m"),
            ),
        ),
    )
    k8s.core.v1.Service(
        f"{name}-api-service",
        **manifest(
            metadata={"name": API, "namespace": pods.namespace, "labels": pods.labels(API)},
            spec={
                "type": "ClusterIP",
                "selector": {contract.APP_LABEL: API},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        ),
        opts=opts,
    )
    k8s.policy.v1.PodDisruptionBudget(
        f"{name}-api-pdb",
        **manifest(
            metadata={"name": API, "namespace": pods.namespace},
            # Unhealthy pods may always be evicted: a PDB must not pin nodes that host
            # only failing pods (a node-group upgrade or scale-down would stall).
            spec={"maxUnavailable": 1, "selector": selector,
                  "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        ),
        opts=opts,
    )
    # The API's autoscaler (CPU, memory and P99 latency) is a KEDA ScaledObject:
    # infra/monitoring.py.
