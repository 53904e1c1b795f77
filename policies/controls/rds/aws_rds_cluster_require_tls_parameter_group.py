"""aws-rds-cluster-require-tls-parameter-group

Every Aurora cluster must use a cluster parameter group, created in this stack, that forces
TLS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import PCI_TRANSIT, SOC2_TRANSMISSION, tls_parameter_problem
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-rds-cluster-require-tls-parameter-group",
    description="Every Aurora cluster must use a cluster parameter group, created in this stack, "
    "that forces TLS.",
    category="Encryption in transit",
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_TRANSIT, SOC2_TRANSMISSION),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Create an `aws.rds.ClusterParameterGroup` with `rds.force_ssl=1` in each region and set "
        "`db_cluster_parameter_group_name=<group>.name` on every `aws.rds.Cluster` (primary and "
        "secondary). The default parameter group does not force TLS."
    ),
)
def cluster_tls_parameter_group(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for cluster in stack.of_type(T.RDS_CLUSTER):
        with rep.guard(cluster):
            reference = cluster.get("dbClusterParameterGroupName")
            if reference is None:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' uses the default cluster parameter group, "
                    f"which does "
                    "not force TLS (dbClusterParameterGroupName is not set).",
                    cluster,
                )
                continue
            groups = stack.resolve(
                cluster, "dbClusterParameterGroupName", reference, T.RDS_CLUSTER_PARAMETER_GROUP
            )
            if not groups:
                if P.is_unknown(reference):
                    rep.skip(f"the parameter group of cluster '{cluster.name}'")
                rep.violation(
                    f"Aurora cluster '{cluster.name}' uses parameter group '{reference}', which "
                    f"is not "
                    "managed in this stack, so TLS enforcement cannot be verified.",
                    cluster,
                )
                continue
            for group in groups:
                problem = tls_parameter_problem(group)
                if problem:
                    rep.violation(
                        f"Aurora cluster '{cluster.name}' uses parameter group '{group.name}', "
                        f"which does "
                        f"not force TLS ({problem}).",
                        cluster,
                    )
