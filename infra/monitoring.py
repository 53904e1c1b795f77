"""Alerting and Prometheus-driven autoscaling in each region.

- The generated rule files (observability/rules/) become the Prometheus chart's
  `serverFiles` (`recording_rules.yml`, `alerting_rules.yml`), and the chart's server sends
  alerts to this component's Alertmanager (`prometheus_server_values`, merged into the
  chart release by ClusterAddons). The community chart has no operator, so no
  PrometheusRule objects: the chart's rule files are what it reads.
- Alertmanager (its own chart) routes `severity=page` to the pager topic (the one the
  CloudWatch alarms use) and `severity=ticket` to a ticket topic, over SNS with IRSA.
- KEDA ScaledObjects: the API scales on CPU, memory and the P99 latency of accepted orders
  (one ScaledObject replaces the plain HPA: two autoscalers must not share a target); the
  relays scale on the outbox backlog.
CloudWatch keeps what only it sees (Aurora, ElastiCache, SQS, ALB): see alarms.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.config import RegionConfig

RULES_DIR = Path(__file__).resolve().parents[1] / "observability" / "rules"
MONITORING_NAMESPACE = "monitoring"
ALERTMANAGER_RELEASE = ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
ALERTMANAGER_CHART = "1.21.0"  # prometheus-community/alertmanager, Alertmanager v0.28
ALERTMANAGER_ADDRESS = f"{ALERTMANAGER_RELEASE}.{MONITORING_NAMESPACE}.svc.cluster.local:9093"
API, RELAY = "orders-api", "orders-relay"
# The API adds replicas before accepted orders near the 500 ms P99 objective.
API_P99_TARGET_S = 0.3
# Outbox rows per relay before another relay starts.
OUTBOX_ROWS_PER_RELAY = 500
RELAY_MAX_REPLICAS = 6


def rule_groups(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((RULES_DIR / name).read_text())
    return document


def prometheus_server_values() -> dict[str, Any]:
    """Chart values that load the generated rules and point the server at Alertmanager."""
    return {
        "serverFiles": {
            "recording_rules.yml": rule_groups("slos.yml"),
            "alerting_rules.yml": rule_groups("alerts.yml"),
        },
        "alertmanagers": [{"static_configs": [{"targets": [ALERTMANAGER_ADDRESS]}]}],
    }


def with_rules(chart_values: dict[str, Any]) -> dict[str, Any]:
    """The Prometheus chart's values plus the rules and the Alertmanager address."""
    extra = prometheus_server_values()
    return {
        **chart_values,
        "serverFiles": extra["serverFiles"],
        "server": {**chart_values.get("server", {}), "alertmanagers": extra["alertmanagers"]},
    }


def alertmanager_config(region: str, page_topic: str, ticket_topic: str) -> dict[str, Any]:
    def sns(topic: str, kind: str) -> dict[str, Any]:
        return {
            "topic_arn": topic,
            "sigv4": {"region": region},
            "subject": f"[{kind}] {{{{ .CommonLabels.alertname }}}} ({region})",
            "send_resolved": True,
        }

    return {
        "route": {
            "receiver": "ticket",
            "group_by": ["alertname", "severity"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {"matchers": ['severity="page"'], "receiver": "page", "repeat_interval": "1h"},
                {"matchers": ['severity="ticket"'], "receiver": "ticket"},
            ],
        },
        # A paging burn alert makes the ticket window of the same alert redundant.
        "inhibit_rules": [
            {
                "source_matchers": ['severity="page"'],
                "target_matchers": ['severity="ticket"'],
                "equal": ["alertname"],
            }
        ],
        "receivers": [
            {"name": "page", "sns_configs": [sns(page_topic, "PAGE")]},
            {"name": "ticket", "sns_configs": [sns(ticket_topic, "TICKET")]},
        ],
    }


def api_p99_query(namespace: str) -> str:
    selector = (
        f'namespace="{namespace}",app_kubernetes_io_name="{API}",'
        'method="POST",route="/v1/orders",status=~"2.."'
    )
    # NaN (no traffic) and an empty result both read as 0: never a reason to scale out.
    return (
        "(histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{selector}}}[2m]))) > 0) or vector(0)"
    )


def outbox_backlog_query(namespace: str) -> str:
    return f'max(outbox_backlog{{namespace="{namespace}"}}) or vector(0)'


@dataclass(frozen=True)
class MonitoringArgs:
    prefix: str
    region: RegionConfig
    namespace: str
    prometheus_url: str
    page_topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    # Helm releases that must be installed first (the Load Balancer Controller's webhooks).
    after: Sequence[pulumi.Resource] = ()


class Monitoring(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Monitoring", name, None, opts)
        region = args.region
        self.ticket_topic = aws.sns.Topic(
            f"{name}-tickets",
            name=f"{args.prefix}-{region.role}-tickets",
            kms_master_key_id=args.topic_key_arn,
            opts=child(self),
        )
        role = irsa_role(
            f"{name}-alertmanager",
            self,
            args.oidc_provider_arn,
            args.oidc_provider_url,
            MONITORING_NAMESPACE,
            ALERTMANAGER_SERVICE_ACCOUNT,
            pulumi.Output.all(
                args.page_topic_arn, self.ticket_topic.arn, args.topic_key_arn
            ).apply(lambda v: _publish_policy(str(v[0]), str(v[1]), str(v[2]))),
            description=f"{args.prefix}-{region.role} Alertmanager publishes to SNS",
        )
        self.alertmanager = k8s.helm.v3.Release(
            f"{name}-alertmanager",
            name=ALERTMANAGER_RELEASE,
            chart="alertmanager",
            version=ALERTMANAGER_CHART,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(
                repo="https://prometheus-community.github.io/helm-charts"
            ),
            namespace=MONITORING_NAMESPACE,
            create_namespace=True,
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            values={
                "replicaCount": 2,
                "serviceAccount": {
                    "create": True,
                    "name": ALERTMANAGER_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                "config": pulumi.Output.all(args.page_topic_arn, self.ticket_topic.arn).apply(
                    lambda v: alertmanager_config(region.region, str(v[0]), str(v[1]))
                ),
            },
            opts=child(self, depends_on=list(args.after)),
        )
        self._scalers(name, args)
        self.register_outputs({"ticket_topic_arn": self.ticket_topic.arn})

    def _scalers(self, name: str, args: MonitoringArgs) -> None:
        region, namespace = args.region, args.namespace

        def prometheus(query: str, threshold: str, metric_type: str) -> dict[str, Any]:
            return {
                "type": "prometheus",
                "metricType": metric_type,
                "metadata": {
                    "serverAddress": args.prometheus_url,
                    "query": query,
                    "threshold": threshold,
                },
            }

        k8s.apiextensions.CustomResource(
            f"{name}-api-scaler",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": API, "namespace": namespace},
            spec={
                "scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                   "name": API},
                "minReplicaCount": region.api_replicas,
                "maxReplicaCount": region.api_max_replicas,
                "pollingInterval": 15,
                "cooldownPeriod": 300,
                "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 0,
                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}],
                    },
                    "scaleDown": {
                        "stabilizationWindowSeconds": 300,
                        "policies": [{"type": "Percent", "value": 25, "periodSeconds": 60}],
                    },
                }}},
                "triggers": [
                    {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
                    {"type": "memory", "metricType": "Utilization", "metadata": {"value": "80"}},
                    # a latency, not a per-pod quantity: compared as a whole (Value)
                    prometheus(api_p99_query(namespace), f"{API_P99_TARGET_S}", "Value"),
                ],
            },
            opts=child(self),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-relay-scaler",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": RELAY, "namespace": namespace},
            spec={
                "scaleTargetRef": {"name": RELAY},
                "minReplicaCount": region.relay_replicas,
                "maxReplicaCount": max(RELAY_MAX_REPLICAS, region.relay_replicas),
                "pollingInterval": 15,
                "cooldownPeriod": 300,
                "triggers": [
                    # rows shared among the relays (AverageValue divides by replicas)
                    prometheus(
                        outbox_backlog_query(namespace), str(OUTBOX_ROWS_PER_RELAY),
                        "AverageValue",
                    )
                ],
            },
            opts=child(self),
        )


def _publish_policy(page_topic: str, ticket_topic: str, key_arn: str) -> str:
    return policy_document([
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": [page_topic, ticket_topic]},
        # the topics are encrypted with a customer-managed key
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
         "Resource": key_arn},
    ])
