"""aws-rds-enable-performance-insights

RDS instances and Aurora cluster instances must have Performance Insights on (the evidence
an incident review needs about what the database was doing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY
from ...framework import LOW, MANDATORY, Reporter, Resource, resource_control, soc2


@resource_control(
    name="aws-rds-enable-performance-insights",
    description="RDS instances and Aurora cluster instances must enable Performance Insights.",
    resource_types=(T.RDS_INSTANCE, T.RDS_CLUSTER_INSTANCE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(soc2("CC7.2", "System components are monitored for anomalies"),),
    remediation=(
        "Set `performance_insights_enabled=True` with `performance_insights_kms_key_id` of a "
        "customer-managed key."
    ),
)
def performance_insights(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("performanceInsightsEnabled")
    if P.is_unknown(value):
        rep.skip("performanceInsightsEnabled")
    if P.as_bool(value) is not True:
        rep.violation("Performance Insights is off (performanceInsightsEnabled).")
