"""aws-efs-filesystem-disallow-single-availability-zone

EFS file systems must be regional (not One Zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-efs-filesystem-disallow-single-availability-zone",
    description="EFS file systems must be regional, not One Zone.",
    resource_types=(T.EFS_FILE_SYSTEM,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY,),
    remediation="Remove `availability_zone_name` (a One Zone file system is lost with its AZ).",
)
def efs_regional(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    zone = r.get("availabilityZoneName")
    if isinstance(zone, str) and zone and not P.is_unknown(zone):
        rep.violation(f"EFS file system is One Zone ({zone}).")
