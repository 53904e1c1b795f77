"""aws-rds-instance-disallow-public-access

Database instances and clusters must not be publicly accessible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_NO_DIRECT_ACCESS, SOC2_BOUNDARY
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-rds-instance-disallow-public-access",
    description="Database instances and clusters must not be publicly accessible.",
    resource_types=(T.RDS_CLUSTER_INSTANCE, T.RDS_INSTANCE, T.RDS_CLUSTER),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        PCI_NO_DIRECT_ACCESS,
        SOC2_BOUNDARY,
        cis_aws("2.3.3", "Ensure that public access is not given to RDS Instance"),
        fsbp("RDS.2", "RDS DB Instances should prohibit public access"),
    ),
    remediation="Set `publicly_accessible=False` and place the database in isolated subnets only.",
)
def rds_public(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("publiclyAccessible")
    if P.is_unknown(value):
        rep.skip("publiclyAccessible")
    if P.as_bool(value):
        rep.violation("Database is publicly accessible (publiclyAccessible is true).")
