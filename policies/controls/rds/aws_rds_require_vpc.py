"""aws-rds-require-vpc

RDS instances and Aurora clusters must be placed in the program's VPC through a DB subnet
group (never the account's default VPC).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_NO_DIRECT_ACCESS
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-rds-require-vpc",
    description="RDS instances and Aurora clusters must name a DB subnet group "
    "(dbSubnetGroupName) of the program's VPC.",
    # Aurora cluster instances are placed by their cluster's subnet group.
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.18", "RDS instances should be deployed in a VPC"),
        PCI_NO_DIRECT_ACCESS,
    ),
    remediation="Set `db_subnet_group_name` to an `aws.rds.SubnetGroup` of the private subnets.",
)
def rds_in_vpc(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    group = r.get("dbSubnetGroupName")
    if P.is_unknown(group):
        rep.skip("dbSubnetGroupName")
    if not isinstance(group, str) or not group.strip() or group == "default":
        rep.violation(
            "The database is not placed in the program's VPC (dbSubnetGroupName is not set or is "
            "the default group)."
        )
