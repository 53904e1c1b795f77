"""aws-iam-restrict-ecr-to-read-only

Roles of the program (node roles, pod roles, controllers) may only pull images: no ECR
managed policy beyond read-only, and no inline statement that pushes, deletes or
reconfigures repositories. Images are pushed by the CI pipeline, outside this stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import skip_unknown_document
from ...checks.iam import (
    CATEGORY,
    IDENTITY_POLICIES,
    PCI_LEAST_PRIVILEGE,
    documents,
    matches,
    statements,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, resource_control

# AWS managed policies that grant more than pulling images.
WRITE_MANAGED_POLICIES = frozenset(
    {
        "AmazonEC2ContainerRegistryFullAccess",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonElasticContainerRegistryPublicFullAccess",
        "AmazonElasticContainerRegistryPublicPowerUser",
        "EC2InstanceProfileForImageBuilderECRContainerBuilds",
    }
)
# ECR actions that change images, repositories or the registry (everything the read-only
# managed policy, AmazonEC2ContainerRegistryReadOnly, does not grant).
ECR_WRITE_ACTIONS = (
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:BatchDeleteImage",
    "ecr:CreateRepository",
    "ecr:DeleteRepository",
    "ecr:SetRepositoryPolicy",
    "ecr:DeleteRepositoryPolicy",
    "ecr:PutLifecyclePolicy",
    "ecr:DeleteLifecyclePolicy",
    "ecr:PutImageTagMutability",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutRegistryPolicy",
    "ecr:DeleteRegistryPolicy",
    "ecr:PutReplicationConfiguration",
)


def _write_actions(document: Any) -> list[str]:
    found: list[str] = []
    for statement in statements(document):
        if not statement.allows:
            continue
        for action in ECR_WRITE_ACTIONS:
            if any(matches(p, action) for p in statement.actions) and action not in found:
                found.append(action)
    return found


def _managed_problem(arn: Any) -> str | None:
    name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) else ""
    if (
        isinstance(arn, str)
        and arn.startswith("arn:aws:iam::aws:policy/")
        and (name in WRITE_MANAGED_POLICIES)
    ):
        return f"The managed policy {name} grants more than ECR read access."
    return None


@resource_control(
    name="aws-iam-restrict-ecr-to-read-only",
    description="IAM roles and policies of the stack may only read from ECR (no write "
    "actions, no ECR managed policy beyond ReadOnly).",
    resource_types=(*IDENTITY_POLICIES, T.IAM_ROLE, T.IAM_ROLE_POLICY_ATTACHMENT),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("5.1.2", "Minimize user access to Amazon ECR"),
        cis_eks("5.1.3", "Minimize cluster access to read-only for Amazon ECR"),
        PCI_LEAST_PRIVILEGE,
    ),
    remediation=(
        "Attach `AmazonEC2ContainerRegistryReadOnly` (or list only the read actions); push "
        "images from the CI role, which is not part of this stack."
    ),
)
def ecr_read_only(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    managed = [r.get("policyArn")] if r.type == T.IAM_ROLE_POLICY_ATTACHMENT else []
    if r.type == T.IAM_ROLE:
        managed = P.as_list(r.get("managedPolicyArns"))
    for arn in managed:
        if P.is_unknown(arn):
            rep.skip("policyArn")
        problem = _managed_problem(arn)
        if problem:
            rep.violation(problem)
    for where, document in documents(r, IDENTITY_POLICIES):
        skip_unknown_document(rep, where, document)
        actions = _write_actions(document)
        if actions:
            rep.violation(f"{where} allows ECR write actions: {', '.join(actions)}.")
