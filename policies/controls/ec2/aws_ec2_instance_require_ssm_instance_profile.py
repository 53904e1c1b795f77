"""aws-ec2-instance-require-ssm-instance-profile

EC2 instances must run with an IAM instance profile (no long-lived keys on the machine)
whose role lets Systems Manager manage them (patching, inventory, Session Manager instead
of SSH). Managed node groups must name their node role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.iam import CATEGORY, SOC2_ACCESS
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_aws, fsbp, stack_control
from ...model import Stack

INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _role_has_ssm(stack: Stack, profile: Resource) -> bool | None:
    roles = stack.resolve(profile, "role", profile.get("role"), T.IAM_ROLE)
    if not roles:
        return None if P.is_unknown(profile.get("role")) else False
    for role in roles:
        if SSM_CORE in P.as_list(role.get("managedPolicyArns")):
            return True
        for attachment in stack.of_type(T.IAM_ROLE_POLICY_ATTACHMENT):
            attached = stack.resolve(attachment, "role", attachment.get("role"), T.IAM_ROLE)
            if role in attached and attachment.get("policyArn") == SSM_CORE:
                return True
    return False


def _check_instance(stack: Stack, instance: Resource, rep: Reporter) -> None:
    reference = instance.get("iamInstanceProfile")
    if P.is_unknown(reference):
        rep.skip("iamInstanceProfile")
    if not isinstance(reference, str) or not reference.strip():
        rep.violation(f"EC2 instance '{instance.name}' has no IAM instance profile.", instance)
        return
    profiles = stack.resolve(instance, "iamInstanceProfile", reference, INSTANCE_PROFILE)
    if not profiles:
        rep.violation(
            f"EC2 instance '{instance.name}' uses instance profile '{reference}', which is not "
            "declared in the stack (its role cannot be checked).",
            instance,
        )
        return
    if not any(_role_has_ssm(stack, p) is not False for p in profiles):
        rep.violation(
            f"EC2 instance '{instance.name}' cannot be managed by Systems Manager: its role "
            "lacks AmazonSSMManagedInstanceCore.",
            instance,
        )


@stack_control(
    name="aws-ec2-instance-require-ssm-instance-profile",
    description="EC2 instances must use an instance profile of the stack whose role has "
    "AmazonSSMManagedInstanceCore; managed node groups must name a node role.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_aws(
            "1.18", "Ensure IAM instance roles are used for AWS resource access from instances"
        ),
        fsbp("SSM.1", "Amazon EC2 instances should be managed by AWS Systems Manager"),
        SOC2_ACCESS,
    ),
    remediation=(
        "Create an `aws.iam.InstanceProfile` for a role with `AmazonSSMManagedInstanceCore` "
        "attached and pass it as `iam_instance_profile`; give node groups `node_role`."
    ),
    scope=(T.EC2_INSTANCE, T.EKS_COMPONENT_MANAGED_NODE_GROUP),
)
def ssm_profile(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for instance in stack.of_type(T.EC2_INSTANCE):
        with rep.guard(instance):
            _check_instance(stack, instance, rep)
    for group in stack.of_type(T.EKS_COMPONENT_MANAGED_NODE_GROUP):
        role, arn = group.get("nodeRole"), group.get("nodeRoleArn")
        if role is None and arn is None:
            rep.violation(f"Managed node group '{group.name}' names no node role.", group)
