"""aws-rds-clusterparametergroup-force-ssl

Aurora cluster parameter groups must force TLS for client connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import CATEGORY, PCI_TRANSIT, SOC2_TRANSMISSION, tls_parameter_problem
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-rds-clusterparametergroup-force-ssl",
    description="Aurora cluster parameter groups must force TLS for client connections.",
    resource_types=(T.RDS_CLUSTER_PARAMETER_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_TRANSIT, SOC2_TRANSMISSION),
    remediation=(
        "Add the parameter `{name: 'rds.force_ssl', value: '1'}` (Aurora PostgreSQL) or "
        "`{name: 'require_secure_transport', value: 'ON'}` (Aurora MySQL) to the "
        "`aws.rds.ClusterParameterGroup`, and attach the group to the cluster with "
        "`db_cluster_parameter_group_name`."
    ),
)
def parameter_group_force_ssl(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.is_unknown(r.get("parameters")):
        rep.skip("parameters")
    problem = tls_parameter_problem(r)
    if problem:
        rep.violation(f"Cluster parameter group does not force TLS ({problem}).")
