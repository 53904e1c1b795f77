"""aws-ecr-repository-configure-customer-managed-key

ECR repositories must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.encryption import PCI_KEYS, SOC2_LOGICAL
from ...framework import ADVISORY, MEDIUM, Reporter, Resource, resource_control

CATEGORY = "Container images"


@resource_control(
    name="aws-ecr-repository-configure-customer-managed-key",
    description="ECR repositories must be encrypted with a customer-managed KMS key.",
    resource_types=(T.ECR_REPOSITORY,),
    category=CATEGORY,
    severity=MEDIUM,
    # advisory as in pulumi/compliance-policies: images hold no customer data and ECR
    # encrypts them at rest either way (FSBP has no CMK requirement for ECR)
    enforcement=ADVISORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL),
    remediation="Set `encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': key.arn}]`.",
)
def ecr_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    raw = r.get("encryptionConfigurations")
    if P.is_unknown(raw):
        rep.skip("encryptionConfigurations")
    configs = P.as_list(raw)
    kms = [c for c in configs if P.get(c, "encryptionType") == "KMS"]
    if not kms or any(key_reference_problem(P.get(c, "kmsKey")) for c in kms):
        rep.violation("Repository is not encrypted with a customer-managed key.")
