"""Mutation cases of the gap-closing controls for the platform around the data stores:
load balancers, EKS, registry, network, identity and notifications.
"""

from __future__ import annotations

import json
from typing import Any

from .case_model import ExtraCase
from .fixtures import DELETE, PRIMARY

C = ExtraCase
_DESYNC_MONITOR = "routing.http.desync_mitigation_mode=monitor,deletion_protection.enabled=true"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _add(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "name": name, "region": PRIMARY, "inputs": inputs}


PLATFORM_CASES = [
    C(
        "aws-lb-loadbalancer-desync-mitigation-mode",
        "public-alb",
        ("desyncMitigationMode",),
        "monitor",
        (
            (
                "public-alb",
                "HTTP desync mitigation mode is 'monitor' (desyncMitigationMode); use defensive "
                "or strictest.",
            ),
        ),
    ),
    C(
        "aws-lb-loadbalancer-desync-mitigation-mode",
        "orders-api-ingress",
        ("metadata", "annotations", "alb.ingress.kubernetes.io/load-balancer-attributes"),
        _DESYNC_MONITOR,
        (
            (
                "orders-api-ingress",
                "HTTP desync mitigation mode is 'monitor' (the "
                "alb.ingress.kubernetes.io/load-balancer-attributes annotation); use defensive "
                "or strictest.",
            ),
        ),
    ),
    C(
        "aws-eks-cluster-supported-version",
        "orders-eks",
        ("version",),
        "1.36",
        (
            (
                "orders-eks",
                "Kubernetes 1.36 is not on the reviewed list of supported EKS versions "
                "(reviewed on 2026-12-03).",
            ),
        ),
    ),
    C(
        "aws-eks-cluster-supported-version",
        "orders-eks-cluster",
        ("version",),
        "1.34",
        (("orders-eks-cluster", "EKS standard support for Kubernetes 1.34 ended on 2026-12-02."),),
    ),
    C(
        "aws-eks-cluster-supported-version",
        "orders-eks",
        ("version",),
        DELETE,
        (
            (
                "orders-eks",
                "The Kubernetes version is not declared (version), so it cannot be checked.",
            ),
        ),
    ),
    C(
        "aws-eks-nodegroup-multiple-instance-types",
        "nodes",
        ("instanceTypes",),
        ["m6i.xlarge", "m6i.xlarge"],
        (
            (
                "nodes",
                "The node group allows 1 instance type(s) (instanceTypes); at least 2 are "
                "required.",
            ),
        ),
    ),
    C(
        "aws-ecr-repository-require-lifecycle-policy",
        "orders-repo-lifecycle",
        (),
        DELETE,
        (("orders-repo", "ECR repository 'orders-repo' has no lifecycle policy with a rule."),),
    ),
    C(
        "aws-vpc-require-ec2-endpoint",
        "ec2-endpoint",
        ("serviceName",),
        f"com.amazonaws.{PRIMARY}.ec2messages",
        (("vpc", "VPC 'vpc' has no VPC endpoint for the EC2 service."),),
    ),
    C(
        "aws-ec2-instance-require-ssm-instance-profile",
        "bastion-ssm",
        (),
        DELETE,
        (
            (
                "bastion",
                "EC2 instance 'bastion' cannot be managed by Systems Manager: its role lacks "
                "AmazonSSMManagedInstanceCore.",
            ),
        ),
    ),
    C(
        "aws-ec2-instance-require-ssm-instance-profile",
        "bastion",
        ("iamInstanceProfile",),
        DELETE,
        (("bastion", "EC2 instance 'bastion' has no IAM instance profile."),),
    ),
    C(
        "aws-ec2-securitygroup-rule-require-description",
        "db-sg",
        ("ingress", 0, "description"),
        DELETE,
        (("db-sg", "Security group ingress rule 0 has no description."),),
    ),
    C(
        "aws-resource-require-description",
        "db-sg",
        ("description",),
        "Managed by Pulumi",
        (("db-sg", "Security group has no description (description)."),),
    ),
    C(
        "aws-resource-require-description",
        "db-key",
        ("description",),
        "",
        (("db-key", "KMS key has no description (description)."),),
    ),
    C(
        "aws-iam-restrict-ecr-to-read-only",
        "service-role-policy",
        ("policy",),
        _doc({"Effect": "Allow", "Action": ["ecr:Put*", "ecr:Get*"], "Resource": "*"}),
        (
            (
                "service-role-policy",
                "policy allows ECR write actions: ecr:PutImage, ecr:PutLifecyclePolicy, "
                "ecr:PutImageTagMutability, ecr:PutImageScanningConfiguration, "
                "ecr:PutRegistryPolicy, ecr:PutReplicationConfiguration.",
            ),
        ),
    ),
    C(
        "aws-iam-restrict-ecr-to-read-only",
        "nodes-ecr-power-user",
        (),
        None,
        (
            (
                "nodes-ecr-power-user",
                "The managed policy AmazonEC2ContainerRegistryPowerUser grants more than ECR "
                "read access.",
            ),
        ),
        add=_add(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "nodes-ecr-power-user",
            {
                "role": "orders-nodes",
                "policyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
            },
        ),
    ),
    C(
        "aws-sns-topic-enable-delivery-status-logging",
        "alarms-topic",
        ("sqsFailureFeedbackRoleArn",),
        DELETE,
        (
            (
                "alarms-topic",
                "The topic does not log delivery status (no *FailureFeedbackRoleArn is set).",
            ),
        ),
    ),
]
