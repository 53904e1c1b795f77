"""aws-backup-plan-retention

AWS Backup plan rules (and their copies) must retain recovery points for at least the
configured number of days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY, MIN_RETENTION, PCI_IR, SOC2_RECOVERY
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-backup-plan-retention",
    description="AWS Backup plan rules (and their copies) must retain recovery points for at "
    "least the configured number of days.",
    resource_types=(T.BACKUP_PLAN,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, PCI_IR),
    remediation=(
        "Set `lifecycle.delete_after` (rule and each copy action) to at least the configured "
        "minimum, or omit it to keep recovery points until deleted. Continuous-backup rules "
        "are capped at 35 days by AWS."
    ),
    config=(MIN_RETENTION,),
)
def backup_plan_retention(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minRetentionDays"])
    rules = r.get("rules")
    if P.is_unknown(rules):
        rep.skip("rules")
    if not P.as_list(rules):
        rep.violation("Backup plan has no rules.")
    for rule in P.as_list(rules):
        name = P.get(rule, "ruleName") or "?"
        spots = [(f"rule {name}", P.get(rule, "lifecycle", "deleteAfter"))]
        for copy in P.as_list(P.get(rule, "copyActions")):
            spots.append((f"copy action of rule {name}", P.get(copy, "lifecycle", "deleteAfter")))
        for where, value in spots:
            if P.is_unknown(value):
                rep.skip(f"{where} lifecycle.deleteAfter")
            days = P.as_number(value)
            if days is not None and days < minimum:
                rep.violation(
                    f"Backup {where} keeps recovery points {int(days)} days; the minimum is "
                    f"{minimum} days "
                    "(lifecycle.deleteAfter)."
                )
