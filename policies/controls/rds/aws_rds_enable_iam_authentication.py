"""aws-rds-enable-iam-authentication

RDS clusters and DB instances must enable IAM database authentication.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import require_true
from ...checks.iam import CATEGORY, SOC2_ACCESS
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-enable-iam-authentication",
    description="RDS clusters and DB instances must enable IAM database authentication.",
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.10", "IAM authentication should be configured for RDS instances"),
        fsbp("RDS.12", "IAM authentication should be configured for RDS clusters"),
        SOC2_ACCESS,
    ),
    remediation="Set `iam_database_authentication_enabled=True`.",
)
def iam_auth(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type == T.RDS_CLUSTER and r.get("replicationSourceIdentifier"):
        return  # a cross-region replica inherits the setting from its source
    require_true(
        r,
        rep,
        "iamDatabaseAuthenticationEnabled",
        "IAM database authentication is off (iamDatabaseAuthenticationEnabled).",
    )
