"""aws-route53-failover-record-require-health-check

Every Route 53 failover record must be tied to a health check declared in the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Stack


@stack_control(
    name="aws-route53-failover-record-require-health-check",
    description=(
        "Every Route 53 failover record must reference a health check declared in the stack "
        "(without one, DNS never fails over)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY,),
    remediation="Set `health_check_id` to an `aws.route53.HealthCheck` of the record's endpoint.",
    scope=(T.ROUTE53_RECORD, T.ROUTE53_HEALTH_CHECK),
)
def failover_health(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for record in stack.of_type(T.ROUTE53_RECORD):
        if not P.as_list(record.get("failoverRoutingPolicies")):
            continue
        check = record.get("healthCheckId")
        found = stack.resolve(record, "healthCheckId", check, T.ROUTE53_HEALTH_CHECK)
        if not found and not P.is_unknown(check):
            rep.violation(
                f"Failover record '{record.name}' has no health check declared in the stack.",
                record,
            )
