"""aws-iam-policy-disallow-privilege-escalation

No identity policy may allow privilege-escalation actions, or a whole service, on "*".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import skip_unknown_document
from ...checks.iam import (
    CATEGORY,
    IDENTITY_POLICIES,
    PCI_LEAST_PRIVILEGE,
    SOC2_ACCESS,
    documents,
    escalation_actions,
    service_wildcards,
    statements,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-iam-policy-disallow-privilege-escalation",
    description=(
        "No IAM policy may allow privilege-escalation actions (iam:PassRole, "
        "iam:PutRolePolicy, ...) or a whole service (svc:*) on every resource."
    ),
    resource_types=(*IDENTITY_POLICIES, T.IAM_ROLE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "KMS.1",
            "IAM customer managed policies should not allow decryption actions on all KMS keys",
        ),
        fsbp(
            "KMS.2",
            "IAM principals should not have IAM inline policies that allow decryption actions "
            "on all KMS keys",
        ),
        fsbp(
            "IAM.21", "IAM customer managed policies should not allow wildcard actions for services"
        ),
        PCI_LEAST_PRIVILEGE,
        SOC2_ACCESS,
    ),
    remediation="Scope the statement's Resource to the ARNs needed, or drop the action.",
)
def escalation(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for where, document in documents(r, IDENTITY_POLICIES):
        skip_unknown_document(rep, where, document)
        for statement in statements(document):
            found = escalation_actions(statement)
            if found:
                rep.violation(
                    f"{where}: {statement.label} allows {', '.join(found)} on every resource."
                )
            wildcards = service_wildcards(statement)
            if wildcards:
                rep.violation(
                    f"{where}: {statement.label} allows {', '.join(wildcards)} on every resource."
                )
