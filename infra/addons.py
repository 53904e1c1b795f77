"""Cluster add-ons the workload depends on, installed with Helm (pinned chart versions).

- AWS Load Balancer Controller: turns the Ingress into an ALB.
- Argo Rollouts: the Rollout/AnalysisTemplate CRDs and the canary controller.
- KEDA: scales the worker on queue depth.
- Prometheus: the metrics the canary analysis queries.
- Cluster Autoscaler: adds nodes when the HPA/KEDA add pods (and on failover).
Each controller that calls AWS gets its own IRSA role with only what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.common import COMPONENT_PREFIX, child, irsa_role, policy_document
from infra.config import AddonsConfig, RegionConfig
from infra.monitoring import with_rules

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
            "lb-controller",
            LBC_NAMESPACE,
            LBC_SERVICE_ACCOUNT,
            pulumi.Output.all(args.account_id, args.vpc_id).apply(
                lambda v: _load_balancer_controller_policy(region, str(v[0]), str(v[1]))
            ),
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
                opts=child(self),
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
            },
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
            self.argo_rollouts,
            self.keda,
            self.prometheus,
        ]
        self.prometheus_url = (
            f"http://prometheus-server.{MONITORING_NAMESPACE}.svc.cluster.local:80"
        )
        self.register_outputs({})


def _load_balancer_controller_policy(region: str, account_id: str, vpc_id: str) -> str:
    """What the controller needs to run ALBs for this cluster: reads everywhere, writes
    limited to load balancers in this account and region and to this VPC's groups."""
    elb = f"arn:aws:elasticloadbalancing:{region}:{account_id}"
    in_vpc = {"StringEquals": {"ec2:Vpc": f"arn:aws:ec2:{region}:{account_id}:vpc/{vpc_id}"}}
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
                },
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:Describe*",
                    "ec2:GetSecurityGroupsForVpc",
                    "ec2:GetCoipPoolUsage",
                    "elasticloadbalancing:Describe*",
                    "acm:ListCertificates",
                    "acm:DescribeCertificate",
                    "iam:ListServerCertificates",
                    "iam:GetServerCertificate",
                    "cognito-idp:DescribeUserPoolClient",
                    "wafv2:GetWebACL",
                    "wafv2:GetWebACLForResource",
                    "wafv2:AssociateWebACL",
                    "wafv2:DisassociateWebACL",
                    "shield:GetSubscriptionState",
                    "shield:DescribeProtection",
                    "tag:GetResources",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
                "Resource": "*",
                "Condition": in_vpc,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                    "ec2:CreateTags",
                    "ec2:DeleteTags",
                ],
                "Resource": f"arn:aws:ec2:{region}:{account_id}:security-group/*",
                "Condition": in_vpc,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:SetWebAcl",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                ],
                "Resource": f"{elb}:*",
            },
        ]
    )


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
