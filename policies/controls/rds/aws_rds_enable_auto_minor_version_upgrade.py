"""aws-rds-enable-auto-minor-version-upgrade

RDS instances and cluster instances must not turn automatic minor version upgrades off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import PCI_HARDENING
from ...checks.resilience import CATEGORY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-rds-enable-auto-minor-version-upgrade",
    description="RDS instances must keep automatic minor version upgrades on (the AWS default).",
    resource_types=(T.RDS_INSTANCE, T.RDS_CLUSTER_INSTANCE),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        cis_aws("2.3.2", "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances"),
        fsbp("RDS.13", "RDS automatic minor version upgrades should be enabled"),
        PCI_HARDENING,
    ),
    remediation="Remove `auto_minor_version_upgrade=False` (security patches arrive as minors).",
)
def auto_minor(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.as_bool(r.get("autoMinorVersionUpgrade")) is False:
        rep.violation("Automatic minor version upgrades are off (autoMinorVersionUpgrade).")
