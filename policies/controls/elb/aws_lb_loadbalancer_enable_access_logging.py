"""aws-lb-loadbalancer-enable-access-logging

Load balancers must write access logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.transit import CATEGORY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, fsbp, pci, resource_control


@resource_control(
    name="aws-lb-loadbalancer-enable-access-logging",
    description="Load balancers must write access logs to S3.",
    resource_types=(T.LB_LOAD_BALANCER, T.ALB_LOAD_BALANCER),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ELB.5", "Application and Classic Load Balancers logging should be enabled"),
        pci("10.2.1", "Audit logs are enabled and active for all system components"),
    ),
    remediation="Set `access_logs={'enabled': True, 'bucket': ...}`.",
)
def access_logs(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    logs = r.get("accessLogs")
    if P.is_unknown(logs):
        rep.skip("accessLogs")
    if P.as_bool(P.get(logs, "enabled")) is not True or not P.get(logs, "bucket"):
        rep.violation("Access logging is off (accessLogs.enabled with a bucket).")
