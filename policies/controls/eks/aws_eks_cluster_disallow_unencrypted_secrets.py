"""aws-eks-cluster-disallow-unencrypted-secrets

EKS clusters must envelope-encrypt Kubernetes secrets with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.encryption import CATEGORY, PCI_STORED_DATA, SOC2_LOGICAL
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, cis_eks, fsbp, resource_control


@resource_control(
    name="aws-eks-cluster-disallow-unencrypted-secrets",
    description="EKS clusters must envelope-encrypt Kubernetes secrets with a customer-managed "
    "KMS key.",
    resource_types=(T.EKS_COMPONENT_CLUSTER, T.EKS_CLUSTER),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_eks("5.3.1", "Ensure Kubernetes Secrets are encrypted using CMKs managed in AWS KMS"),
        fsbp("EKS.3", "EKS clusters should use encrypted Kubernetes secrets"),
    ),
    remediation=(
        "Pass `encryption_config_key_arn=<CMK ARN>` to `eks.Cluster` (pulumi-eks), or "
        "`encryption_config={provider: {key_arn}, resources: ['secrets']}` to "
        "`aws.eks.Cluster`. Envelope encryption cannot be removed once enabled."
    ),
)
def eks_secrets(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.EKS_COMPONENT_CLUSTER:
        if key_reference_problem(r.get("encryptionConfigKeyArn")):
            rep.violation(
                "EKS secrets are not envelope-encrypted with a KMS key (encryptionConfigKeyArn is "
                "not set)."
            )
        return
    config = r.get("encryptionConfig")
    if P.is_unknown(config):
        rep.skip("encryptionConfig")
    key = r.get("encryptionConfig", "provider", "keyArn")
    scope = r.get("encryptionConfig", "resources")
    covers_secrets = P.is_unknown(scope) or "secrets" in P.as_list(scope)
    if key_reference_problem(key) or not covers_secrets:
        rep.violation(
            "EKS secrets are not envelope-encrypted with a KMS key "
            "(encryptionConfig with provider.keyArn and resources ['secrets'] is not set)."
        )
