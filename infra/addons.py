"""Cluster add-ons the workload depends on, installed with Helm (pinned chart versions).

- AWS Load Balancer Controller: turns the Ingress into an ALB.
- Argo Rollouts: the Rollout/AnalysisTemplate CRDs and the canary controller.
- KEDA: scales the worker on queue depth.
- Prometheus: the metrics the canary analysis queries.
- Cluster Autoscaler: adds nodes when the HPA/KEDA add pods (and on failover).
- metrics-server: the resource metrics the API's CPU/memory HPA scales on.
Each controller that calls AWS gets its own IRSA role with only what it needs.

The Load Balancer Controller is installed first and every other release waits for it:
its webhooks (failurePolicy Fail) would otherwise reject the other charts' Services and
Pods while its own pods are not yet serving. Its Service mutator webhook is turned off
(no Service of type LoadBalancer is used here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.config import CLUSTER_AUTOSCALER_IMAGES, AddonsConfig, RegionConfig
from infra.monitoring import with_rules

# The upstream policy of the pinned controller version, vendored unmodified (PROVENANCE.json).
LBC_POLICY_FILE = (
    Path(__file__).resolve().parent / "vendor" / "aws-load-balancer-controller" / "iam_policy.json"
)

LBC_NAMESPACE, LBC_SERVICE_ACCOUNT = "kube-system", "aws-load-balancer-controller"
CA_NAMESPACE, CA_SERVICE_ACCOUNT = "kube-system", "cluster-autoscaler"
KEDA_NAMESPACE, KEDA_SERVICE_ACCOUNT = "keda", "keda-operator"
MONITORING_NAMESPACE = "monitoring"
ROLLOUTS_NAMESPACE = "argo-rollouts"


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: str
    region: RegionConfig
    charts: AddonsConfig
    vpc_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    account_id: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    kubernetes_version: str


class ClusterAddons(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:ClusterAddons", name, None, opts)
        region = args.region.region

        def role(suffix: str, namespace: str, account: str, policy: pulumi.Input[str]) -> Any:
            return irsa_role(
                f"{name}-{suffix}",
                self,
                args.oidc_provider_arn,
                args.oidc_provider_url,
                namespace,
                account,
                policy,
                description=f"{args.cluster_name} {namespace}/{account}",
            )

        lbc_role = role(
            "lb-controller", LBC_NAMESPACE, LBC_SERVICE_ACCOUNT, load_balancer_controller_policy()
        )
        autoscaler_role = role(
            "cluster-autoscaler",
            CA_NAMESPACE,
            CA_SERVICE_ACCOUNT,
            _cluster_autoscaler_policy(args.cluster_name),
        )
        keda_role = role(
            "keda",
            KEDA_NAMESPACE,
            KEDA_SERVICE_ACCOUNT,
            pulumi.Output.from_input(args.queue_arn).apply(_queue_metrics_policy),
        )

        after: list[pulumi.Resource] = []

        def release(
            suffix: str, chart: str, repo: str, version: str, namespace: str, values: Any
        ) -> k8s.helm.v3.Release:
            return k8s.helm.v3.Release(
                f"{name}-{suffix}",
                name=suffix,  # fixed release names: other objects address their services
                chart=chart,
                version=version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
                namespace=namespace,
                create_namespace=True,
                atomic=True,
                cleanup_on_fail=True,
                timeout=900,
                values=values,
                opts=child(self, depends_on=list(after)),
            )

        charts = args.charts
        self.load_balancer_controller = release(
            "aws-load-balancer-controller",
            "aws-load-balancer-controller",
            "https://aws.github.io/eks-charts",
            charts.load_balancer_controller_chart,
            LBC_NAMESPACE,
            {
                "clusterName": args.cluster_name,
                "region": region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "serviceAccount": {
                    "create": True,
                    "name": LBC_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": lbc_role.arn},
                },
                "enableServiceMutatorWebhook": False,
            },
        )
        # Everything after this waits until the controller (and its webhooks) is serving.
        after.append(self.load_balancer_controller)
        self.metrics_server = release(
            "metrics-server",
            "metrics-server",
            "https://kubernetes-sigs.github.io/metrics-server/",
            charts.metrics_server_chart,
            "kube-system",
            {"replicas": 2, "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}},
        )
        self.argo_rollouts = release(
            "argo-rollouts",
            "argo-rollouts",
            "https://argoproj.github.io/argo-helm",
            charts.argo_rollouts_chart,
            ROLLOUTS_NAMESPACE,
            {"installCRDs": True, "controller": {"replicas": 2}},
        )
        self.keda = release(
            "keda",
            "keda",
            "https://kedacore.github.io/charts",
            charts.keda_chart,
            KEDA_NAMESPACE,
            {"podIdentity": {"aws": {"irsa": {"enabled": True, "roleArn": keda_role.arn}}}},
        )
        self.prometheus = release(
            "prometheus",
            "prometheus",
            "https://prometheus-community.github.io/helm-charts",
            charts.prometheus_chart,
            MONITORING_NAMESPACE,
            # The generated SLO and alert rules, sent to Alertmanager (infra/monitoring.py).
            with_rules({
                # The canary analysis needs minutes of data, not history: no volume (so no
                # EBS CSI driver), short retention.
                "server": {"persistentVolume": {"enabled": False}, "retention": "3d"},
                "alertmanager": {"enabled": False},
                "prometheus-pushgateway": {"enabled": False},
            }),
        )
        self.cluster_autoscaler = release(
            "cluster-autoscaler",
            "cluster-autoscaler",
            "https://kubernetes.github.io/autoscaler",
            charts.cluster_autoscaler_chart,
            CA_NAMESPACE,
            {
                "autoDiscovery": {"clusterName": args.cluster_name},
                "awsRegion": region,
                # the autoscaler's minor version must match the cluster's
                "image": {"tag": CLUSTER_AUTOSCALER_IMAGES[args.kubernetes_version]},
                "rbac": {
                    "serviceAccount": {
                        "name": CA_SERVICE_ACCOUNT,
                        "annotations": {"eks.amazonaws.com/role-arn": autoscaler_role.arn},
                    }
                },
                "extraArgs": {"balance-similar-node-groups": True},
            },
        )
        # What the workload must wait for: CRDs (Rollout, ScaledObject), the ALB webhook.
        self.ready: list[pulumi.Resource] = [
            self.load_balancer_controller,
            self.metrics_server,
            self.argo_rollouts,
            self.keda,
            self.prometheus,
        ]
        self.prometheus_url = (
            f"http://prometheus-server.{MONITORING_NAMESPACE}.svc.cluster.local:80"
        )
        self.register_outputs({})


def load_balancer_controller_policy() -> str:
    """The controller's IAM policy: the upstream document for the pinned version, as is.

    A hand-written subset broke ALB creation (a condition key CreateSecurityGroup never
    carries, missing actions such as SetRulePriorities); the upstream file is what the
    controller's own end-to-end tests run with."""
    return json.dumps(json.loads(LBC_POLICY_FILE.read_text()))


def _cluster_autoscaler_policy(cluster_name: str) -> str:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                "Resource": "*",
            },
            {
                # Only the node groups of this cluster (EKS tags them so).
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"
                    }
                },
            },
        ]
    )


def _queue_metrics_policy(queue_arn: str) -> str:
    return policy_document(
        [{"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": queue_arn}]
    )
