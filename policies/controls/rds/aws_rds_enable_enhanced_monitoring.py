"""aws-rds-enable-enhanced-monitoring

RDS DB instances (and Aurora instances) must have enhanced monitoring on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY
from ...framework import LOW, MANDATORY, Reporter, Resource, fsbp, resource_control, soc2


@resource_control(
    name="aws-rds-enable-enhanced-monitoring",
    description="RDS and Aurora DB instances must have enhanced monitoring (monitoringInterval).",
    resource_types=(T.RDS_INSTANCE, T.RDS_CLUSTER_INSTANCE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.6", "Enhanced monitoring should be configured for RDS DB instances"),
        soc2("CC7.2", "System components are monitored for anomalies and security events"),
    ),
    remediation="Set `monitoring_interval` (e.g. 60) and `monitoring_role_arn`.",
)
def enhanced_monitoring(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    interval = r.get("monitoringInterval")
    if P.is_unknown(interval):
        rep.skip("monitoringInterval")
    if not P.as_number(interval):
        rep.violation("Enhanced monitoring is off (monitoringInterval is 0 or not set).")
