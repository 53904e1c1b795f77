"""Small helpers shared by the components: child options, IAM documents, tags."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

COMPONENT_PREFIX = "orders:infra"


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a resource owned by a component (it inherits the component's providers)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(*services: str) -> str:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str],
    oidc_provider_url: pulumi.Input[str],
    namespace: str,
    service_account: str,
) -> pulumi.Output[str]:
    """Trust policy letting exactly one Kubernetes service account assume the role (IRSA)."""

    def render(args: list[Any]) -> str:
        arn, url = str(args[0]), str(args[1])
        issuer = url.removeprefix("https://")
        return policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ]
        )

    return pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(render)


def irsa_role(
    name: str,
    parent: pulumi.Resource,
    oidc_provider_arn: pulumi.Input[str],
    oidc_provider_url: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    description: str,
) -> aws.iam.Role:
    """An IAM role for one service account, with its (least-privilege) inline policy."""
    role = aws.iam.Role(
        name,
        description=description,
        assume_role_policy=irsa_trust_policy(
            oidc_provider_arn, oidc_provider_url, namespace, service_account
        ),
        opts=child(parent),
    )
    aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=child(parent))
    return role


def service_role(
    name: str,
    parent: pulumi.Resource,
    service: str,
    managed_policy_arns: Sequence[str],
    description: str = "",
) -> aws.iam.Role:
    """A role an AWS service assumes, with AWS-managed policies attached."""
    role = aws.iam.Role(
        name,
        description=description or f"assumed by {service}",
        assume_role_policy=service_trust_policy(service),
        opts=child(parent),
    )
    for policy_arn in managed_policy_arns:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy_arn.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=policy_arn,
            opts=child(parent),
        )
    return role


def name_tag(name: str) -> dict[str, str]:
    return {"Name": name}


def client_only_security_group(
    name: str,
    *,
    parent: pulumi.Resource,
    vpc_id: pulumi.Input[str],
    port: int,
    client_cidrs: Sequence[pulumi.Input[str]],
    description: str,
    tag: str,
) -> aws.ec2.SecurityGroup:
    """A data store's security group: its one port, from the pod subnets only."""
    return aws.ec2.SecurityGroup(
        name,
        vpc_id=vpc_id,
        description=description,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=list(client_cidrs),
                description=f"port {port} from the pod subnets",
            )
        ],
        tags=name_tag(tag),
        opts=child(parent),
    )
