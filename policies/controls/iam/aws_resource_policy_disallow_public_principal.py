"""aws-resource-policy-disallow-public-principal

Resource and trust policies must not allow a public principal ("*") without a condition
that pins the caller to an account, organisation, source ARN or VPC endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checks.common import skip_unknown_document
from ...checks.iam import (
    CATEGORY,
    RESOURCE_POLICIES,
    SOC2_ACCESS,
    documents,
    public_principal,
    statements,
)
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, fsbp, pci, resource_control


@resource_control(
    name="aws-resource-policy-disallow-public-principal",
    description=(
        "Resource policies (S3, SQS, SNS, KMS, Secrets Manager, ECR) and role trust policies "
        'must not allow Principal "*" unless a condition pins the caller.'
    ),
    resource_types=tuple(RESOURCE_POLICIES),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("S3.2", "S3 buckets should prohibit public read access"),
        fsbp("S3.3", "S3 buckets should prohibit public write access"),
        fsbp(
            "S3.6",
            "S3 permissions granted to other AWS accounts in bucket policies should be restricted",
        ),
        pci(
            "1.4.4",
            (
                "System components that store account data are not "
                "directly accessible from untrusted networks"
            ),
        ),
        SOC2_ACCESS,
    ),
    remediation=(
        "Name the principals (account, role or service) or add an aws:SourceArn / "
        "aws:SourceAccount / aws:PrincipalOrgID condition."
    ),
)
def public_policy(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for where, document in documents(r, RESOURCE_POLICIES):
        skip_unknown_document(rep, where, document)
        for statement in statements(document):
            if public_principal(statement):
                actions = ", ".join(statement.actions) or "everything"
                rep.violation(f"{where}: {statement.label} allows anyone ({actions}).")
