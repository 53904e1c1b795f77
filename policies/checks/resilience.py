"""Resilience and data-loss controls: Multi-AZ, failover, backups, deletion protection, DLQs."""

from __future__ import annotations

from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    ConfigOption,
    Reporter,
    Resource,
    pci,
    soc2,
)
from ..model import Stack
from .common import region_of_arn

CATEGORY = "Resilience"

SOC2_RECOVERY = soc2("A1.2", "Environmental protections, data backup and recovery infrastructure")
SOC2_RECOVERY_TEST = soc2("A1.3", "Recovery plan procedures supporting system recovery")
SOC2_RISK = soc2("CC9.1", "Risk mitigation activities for potential business disruptions")
PCI_IR = pci(
    "12.10.1", "Incident response plan includes business recovery and continuity procedures"
)

MIN_RETENTION = ConfigOption(
    "minRetentionDays",
    {"type": "integer", "minimum": 1, "maximum": 35, "default": 14},
    "Minimum backup retention (point-in-time recovery window), in days.",
)
MIN_AZS = ConfigOption(
    "minAvailabilityZones",
    {"type": "integer", "minimum": 2, "maximum": 6, "default": 3},
    "Minimum number of distinct availability zones.",
)


def _check_cross_region(stack: Stack, plan: Resource, rep: Reporter) -> None:
    destinations = []
    for rule in P.as_list(plan.get("rules")):
        for copy in P.as_list(P.get(rule, "copyActions")):
            destinations.append(P.get(copy, "destinationVaultArn"))
    if not destinations:
        rep.violation(
            f"Backup plan '{plan.name}' has no cross-region copy action (rules[].copyActions is "
            f"empty).",
            plan,
        )
        return
    regions: list[str | None] = []
    for arn in destinations:
        vaults = stack.resolve(plan, "rules", arn, T.BACKUP_VAULT)
        region = region_of_arn(arn)
        if region is None and len(vaults) == 1:
            region = vaults[0].region
        regions.append(region)
    if any(region and plan.region and region != plan.region for region in regions):
        return
    if plan.region is None or any(region is None for region in regions):
        rep.skip(f"the destination region of backup plan '{plan.name}'")
    rep.violation(
        f"Backup plan '{plan.name}' copies recovery points only within {plan.region} "
        "(no copy action targets a vault in another region).",
        plan,
    )


_SUBNET_HOLDERS: dict[str, str] = {
    T.RDS_SUBNET_GROUP: "subnetIds",
    T.ELASTICACHE_SUBNET_GROUP: "subnetIds",
    T.EKS_COMPONENT_MANAGED_NODE_GROUP: "subnetIds",
    T.EKS_NODE_GROUP: "subnetIds",
}


def _check_fifo_dlq(stack: Stack, queue: Resource, raw: Any, rep: Reporter) -> None:
    if P.is_unknown(raw):
        rep.skip(f"the redrive policy of queue '{queue.name}'")
    policy = P.as_json(raw)
    arn = P.get(policy, "deadLetterTargetArn")
    if policy is None or arn is None:
        rep.violation(
            f"FIFO queue '{queue.name}' has no dead-letter queue (redrivePolicy is not set).", queue
        )
        return
    found = stack.resolve(queue, "redrivePolicy", arn, T.SQS_QUEUE)
    if P.is_unknown(arn) and not found:
        rep.skip(f"the dead-letter queue of '{queue.name}'")
    if found:
        fifo = all(P.as_bool(target.get("fifoQueue")) for target in found)
    else:
        fifo = str(arn).endswith(".fifo")
    if not fifo:
        rep.violation(
            f"FIFO queue '{queue.name}' redrives to a dead-letter queue that is not FIFO ({arn}).",
            queue,
        )


def _is_global_secondary(cluster: Resource) -> bool:
    """A secondary of a global database replicates its data (and credentials) from the primary."""
    return (
        cluster.get("globalClusterIdentifier") is not None
        and cluster.get("masterUsername") is None
        and cluster.get("snapshotIdentifier") is None
        and not P.as_bool(cluster.get("manageMasterUserPassword"))
    )


def _selected(stack: Stack, selection_type: str, prop: str) -> list[tuple[Resource, list[Any]]]:
    return [(s, P.as_list(s.get(prop))) for s in stack.of_type(selection_type)]


def backup_selection_status(stack: Stack, target: Resource) -> str:
    """Whether an AWS Backup selection lists ``target``: "covered", "unknown" or "missing".

    A selection listing "*" covers everything; a reference unknown during preview that
    resolves to nothing makes the answer unknown rather than missing.
    """
    unknown = False
    for selection, arns in _selected(stack, T.BACKUP_SELECTION, "resources"):
        for arn in arns:
            if P.is_unknown(arn) and not stack.resolve(selection, "resources", arn):
                unknown = True
            elif arn == "*" or target in stack.resolve(selection, "resources", arn, target.type):
                return "covered"
    return "unknown" if unknown else "missing"
