"""aws-iam-policy-disallow-full-admin

No identity policy may allow every action on every resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import skip_unknown_document
from ...checks.iam import (
    CATEGORY,
    CIS_ADMIN,
    FSBP_ADMIN,
    IDENTITY_POLICIES,
    PCI_LEAST_PRIVILEGE,
    SOC2_ACCESS,
    documents,
    full_admin,
    statements,
)
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-iam-policy-disallow-full-admin",
    description='No IAM policy may allow "*" (or everything but a list) on every resource.',
    resource_types=(*IDENTITY_POLICIES, T.IAM_ROLE),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(CIS_ADMIN, FSBP_ADMIN, PCI_LEAST_PRIVILEGE, SOC2_ACCESS),
    remediation="List the actions and resources the principal needs; never Action '*'.",
)
def full_admin_policy(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for where, document in documents(r, IDENTITY_POLICIES):
        skip_unknown_document(rep, where, document)
        for statement in statements(document):
            if full_admin(statement):
                rep.violation(f"{where}: {statement.label} allows every action on every resource.")
