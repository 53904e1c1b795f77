"""aws-rds-enable-log-exports

RDS and Aurora databases must publish their engine log to CloudWatch Logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import engine_family
from ...checks.resilience import CATEGORY
from ...framework import (
    MANDATORY,
    MEDIUM,
    Reporter,
    Resource,
    fsbp,
    pci,
    resource_control,
    soc2,
)

# The log each engine family must export (the one that records connections and errors).
_REQUIRED_LOG = {"postgres": "postgresql", "mysql": "error", "mariadb": "error"}


@resource_control(
    name="aws-rds-enable-log-exports",
    description="RDS instances and Aurora clusters must export their engine log to "
    "CloudWatch Logs (enabledCloudwatchLogsExports).",
    # Aurora exports logs per cluster (the cluster's instances have no such setting).
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("RDS.9", "RDS DB instances should publish logs to CloudWatch Logs"),
        pci("10.2.1", "Audit logs are enabled and active for all system components"),
        soc2("CC7.2", "System components are monitored for anomalies"),
    ),
    remediation=(
        "Set `enabled_cloudwatch_logs_exports=['postgresql']` (PostgreSQL engines) or "
        "`['error', ...]` (MySQL/MariaDB) on the `aws.rds.Cluster` or `aws.rds.Instance`."
    ),
)
def log_exports(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    exports = r.get("enabledCloudwatchLogsExports")
    engine = r.get("engine")
    if P.is_unknown(exports) or P.is_unknown(engine):
        rep.skip("enabledCloudwatchLogsExports")
    exported = [str(e) for e in P.as_list(exports)]
    required = _REQUIRED_LOG.get(engine_family(engine) or "")
    if not exported:
        rep.violation(
            "No database log is exported to CloudWatch Logs (enabledCloudwatchLogsExports)."
        )
    elif required and required not in exported:
        rep.violation(
            f"The {engine} log '{required}' is not exported to CloudWatch Logs "
            f"(enabledCloudwatchLogsExports is {exported})."
        )
