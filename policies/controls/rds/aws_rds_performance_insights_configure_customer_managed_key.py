"""aws-rds-performance-insights-configure-customer-managed-key

Performance Insights data must be encrypted with a customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.encryption import (
    CATEGORY,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-rds-performance-insights-configure-customer-managed-key",
    description="Performance Insights data must be encrypted with a customer-managed KMS key.",
    resource_types=(T.RDS_CLUSTER, T.RDS_CLUSTER_INSTANCE, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_STORED_DATA, SOC2_LOGICAL),
    remediation=(
        "Where `performance_insights_enabled=True`, also set "
        "`performance_insights_kms_key_id` to the database's customer-managed key (on the "
        "cluster and on each cluster instance). Performance Insights samples SQL text, which "
        "can contain order data."
    ),
)
def rds_performance_insights_cmk(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    enabled = r.get("performanceInsightsEnabled")
    if P.is_unknown(enabled):
        rep.skip("performanceInsightsEnabled")
    if not P.as_bool(enabled):
        return
    require_customer_managed_key(
        r,
        rep,
        "performanceInsightsKmsKeyId",
        "Performance Insights",
        "rds",
        missing="Performance Insights is enabled without a customer-managed KMS key "
        "(performanceInsightsKmsKeyId is not set).",
    )
