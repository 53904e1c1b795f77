"""Resilience and data-loss controls: Multi-AZ, failover, backups, deletion protection, DLQs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    ADVISORY,
    HIGH,
    MANDATORY,
    MEDIUM,
    ConfigOption,
    Reporter,
    Resource,
    fsbp,
    pci,
    resource_control,
    soc2,
    stack_control,
)
from ..model import Stack
from .common import number, region_of_arn, require_true

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


@resource_control(
    name="aws-rds-cluster-backup-retention",
    description="Aurora/RDS clusters must keep automated backups (point-in-time recovery) for at "
    "least the configured number of days.",
    resource_types=(T.RDS_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        PCI_IR,
        fsbp("RDS.11", "RDS instances should have automatic backups enabled"),
    ),
    remediation=(
        "Set `backup_retention_period` to at least the configured minimum (default 14 days) on "
        "every cluster, including the standby region's secondary cluster, which keeps its own "
        "setting after a failover."
    ),
    config=(MIN_RETENTION,),
)
def rds_backup_retention(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "backupRetentionPeriod")
    minimum = int(cfg["minRetentionDays"])
    if days is None:
        rep.violation(
            f"Backup retention is not set (AWS default 1 day); the minimum is {minimum} days "
            "(backupRetentionPeriod)."
        )
    elif days < minimum:
        rep.violation(
            f"Backup retention is {int(days)} days; the minimum is {minimum} days "
            f"(backupRetentionPeriod)."
        )


@resource_control(
    name="aws-rds-cluster-deletion-protection",
    description="Aurora/RDS clusters and global clusters must have deletion protection enabled.",
    resource_types=(T.RDS_CLUSTER, T.RDS_GLOBAL_CLUSTER, T.RDS_INSTANCE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("RDS.7", "RDS clusters should have deletion protection enabled"),
    ),
    remediation="Set `deletion_protection=True`; turn it off deliberately (and reviewed) only to "
    "decommission.",
)
def rds_deletion_protection(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "deletionProtection",
        "Deletion protection is not enabled (deletionProtection is not true).",
    )


@resource_control(
    name="aws-elasticache-replicationgroup-multi-az-failover",
    description="ElastiCache replication groups must run replicas in several AZs with Multi-AZ "
    "and automatic failover on.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp(
            "ElastiCache.3", "ElastiCache replication groups should have automatic failover enabled"
        ),
    ),
    remediation=(
        "Set `automatic_failover_enabled=True`, `multi_az_enabled=True` and "
        "`num_cache_clusters>=2` with `preferred_cache_cluster_azs` listing distinct AZs."
    ),
)
def cache_multi_az(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    require_true(
        r,
        rep,
        "automaticFailoverEnabled",
        "Automatic failover is not enabled (automaticFailoverEnabled is not true).",
    )
    require_true(r, rep, "multiAzEnabled", "Multi-AZ is not enabled (multiAzEnabled is not true).")
    nodes = number(r, rep, "numCacheClusters")
    replicas = number(r, rep, "replicasPerNodeGroup")
    total = nodes if nodes is not None else (replicas + 1 if replicas is not None else 1)
    if total < 2:
        rep.violation(
            f"Replication group has {int(total)} node(s); at least 2 are required "
            f"(numCacheClusters)."
        )
    azs = [az for az in P.as_list(r.get("preferredCacheClusterAzs")) if isinstance(az, str)]
    if azs and len(set(azs)) < min(len(azs), 2):
        rep.violation(
            f"Cache nodes are placed in a single AZ ({azs[0]}) (preferredCacheClusterAzs)."
        )


@resource_control(
    name="aws-elasticache-replicationgroup-snapshot-retention",
    description="ElastiCache replication groups must keep automatic snapshots for at least the "
    "configured number of days.",
    resource_types=(T.ELASTICACHE_REPLICATION_GROUP,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp(
            "ElastiCache.1",
            "ElastiCache (Redis OSS) clusters should have automatic backups enabled",
        ),
    ),
    remediation="Set `snapshot_retention_limit` to at least the configured minimum (and a "
    "`snapshot_window`).",
    config=(
        ConfigOption(
            "minSnapshotRetentionDays",
            {"type": "integer", "minimum": 1, "maximum": 35, "default": 1},
            "Minimum automatic snapshot retention for Redis, in days.",
        ),
    ),
)
def cache_snapshots(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "snapshotRetentionLimit")
    minimum = int(cfg["minSnapshotRetentionDays"])
    if days is None or days < minimum:
        shown = 0 if days is None else int(days)
        rep.violation(
            f"Snapshot retention is {shown} days; the minimum is {minimum} days "
            f"(snapshotRetentionLimit)."
        )


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


@resource_control(
    name="aws-backup-plan-enable-continuous-backup",
    description="An AWS Backup plan should take continuous backups for point-in-time restore.",
    resource_types=(T.BACKUP_PLAN,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_RECOVERY,),
    remediation="Add a rule with `enable_continuous_backup=True` (retention up to 35 days).",
)
def backup_plan_continuous(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    flags = [P.get(rule, "enableContinuousBackup") for rule in P.as_list(r.get("rules"))]
    if any(P.is_unknown(flag) for flag in flags):
        rep.skip("rules[].enableContinuousBackup")
    if not any(P.as_bool(flag) for flag in flags):
        rep.violation(
            "No backup rule enables continuous backup (enableContinuousBackup is not true)."
        )


@stack_control(
    name="aws-backup-plan-cross-region-copy",
    description="Every AWS Backup plan must copy recovery points to a vault in another region.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, SOC2_RISK, PCI_IR),
    scope=(T.BACKUP_PLAN,),
    remediation=(
        "Add a `copy_actions` entry to the plan's rule with `destination_vault_arn` set to the "
        "standby region's backup vault (encrypted with that region's CMK) and a lifecycle no "
        "shorter than the configured minimum."
    ),
)
def backup_cross_region(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for plan in stack.of_type(T.BACKUP_PLAN):
        with rep.guard(plan):
            _check_cross_region(stack, plan, rep)


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


@stack_control(
    name="aws-rds-cluster-multi-az-instances",
    description="Every Aurora cluster must have at least the configured number of instances, in "
    "distinct AZs.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        fsbp("RDS.15", "RDS DB clusters should be configured for multiple Availability Zones"),
    ),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Create at least two `aws.rds.ClusterInstance` per cluster (writer and reader) with "
        "`availability_zone` set to different AZs (in the standby region too)."
    ),
    config=(
        ConfigOption(
            "minInstances",
            {"type": "integer", "minimum": 2, "maximum": 15, "default": 2},
            "Minimum number of instances (in as many distinct AZs) per Aurora cluster.",
        ),
    ),
)
def aurora_multi_az(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minInstances"])
    instances = stack.of_type(T.RDS_CLUSTER_INSTANCE)
    for cluster in stack.of_type(T.RDS_CLUSTER):
        with rep.guard(cluster):
            members = [
                instance
                for instance in instances
                if cluster
                in stack.resolve(
                    instance, "clusterIdentifier", instance.get("clusterIdentifier"), T.RDS_CLUSTER
                )
            ]
            if not members and any(P.is_unknown(i.get("clusterIdentifier")) for i in instances):
                rep.skip(f"the instances of cluster '{cluster.name}'")
            zones = [instance.get("availabilityZone") for instance in members]
            if any(P.is_unknown(zone) for zone in zones):
                rep.skip(f"the AZs of cluster '{cluster.name}'")
            distinct = {zone for zone in zones if isinstance(zone, str)}
            if len(members) < minimum:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' has {len(members)} instance(s); "
                    f"at least {minimum} are required.",
                    cluster,
                )
            elif len(distinct) < minimum:
                rep.violation(
                    f"Aurora cluster '{cluster.name}' has instances in {len(distinct)} distinct "
                    f"AZ(s) "
                    f"({', '.join(sorted(distinct)) or 'none set'}); at least {minimum} are "
                    f"required "
                    "(availabilityZone).",
                    cluster,
                )


_SUBNET_HOLDERS: dict[str, str] = {
    T.RDS_SUBNET_GROUP: "subnetIds",
    T.ELASTICACHE_SUBNET_GROUP: "subnetIds",
    T.EKS_COMPONENT_MANAGED_NODE_GROUP: "subnetIds",
    T.EKS_NODE_GROUP: "subnetIds",
}


@stack_control(
    name="aws-multi-az-subnets",
    description="The VPC and every data-store subnet group and node group must span at least the "
    "configured number of AZs.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, SOC2_RISK),
    scope=(T.SUBNET, *_SUBNET_HOLDERS),
    remediation=(
        "Create one private and one isolated subnet per AZ (at least the configured number of "
        "AZs) and pass all of them to the DB/cache subnet groups and the EKS node groups."
    ),
    config=(MIN_AZS,),
)
def multi_az_subnets(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    minimum = int(cfg["minAvailabilityZones"])
    subnets = stack.of_type(T.SUBNET)
    by_region: dict[str | None, set[str]] = {}
    for subnet in subnets:
        zone = subnet.get("availabilityZone")
        if isinstance(zone, str) and not P.is_unknown(zone):
            by_region.setdefault(subnet.region, set()).add(zone)
    for region, zones in sorted(by_region.items(), key=lambda kv: str(kv[0])):
        if len(zones) < minimum:
            rep.violation(
                f"Subnets in {region or 'the default region'} span {len(zones)} AZ(s); at least "
                f"{minimum} are required."
            )
    for holder in stack.of_type(*_SUBNET_HOLDERS):
        prop = _SUBNET_HOLDERS[holder.type]
        ids = holder.get(prop)
        if P.is_unknown(ids):
            continue  # a computed list: resolved when the update runs
        listed = P.as_list(ids)
        zones_seen: set[str] = set()
        resolved_all = True
        for subnet_id in listed:
            found = stack.resolve(holder, prop, subnet_id, T.SUBNET)
            zone = found[0].get("availabilityZone") if found else None
            if isinstance(zone, str) and not P.is_unknown(zone):
                zones_seen.add(zone)
            else:
                resolved_all = False
        count = len(zones_seen) if resolved_all and listed else len({str(s) for s in listed})
        if count < minimum:
            rep.violation(
                f"{holder.label} spans {count} AZ(s)/subnet(s); at least {minimum} are required "
                f"({prop}).",
                holder,
            )


@stack_control(
    name="aws-sqs-fifo-queue-require-fifo-dead-letter-queue",
    description="Every FIFO work queue must redrive failed messages to a FIFO dead-letter queue.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, soc2("PI1.3", "Processing is complete, accurate and timely")),
    scope=(T.SQS_QUEUE,),
    remediation=(
        "Create a second queue with `fifo_queue=True` (name ending in `.fifo`) and set "
        "`redrive_policy=json.dumps({'deadLetterTargetArn': dlq.arn, 'maxReceiveCount': N})` "
        "on the work queue. A queue counts as a dead-letter queue when another queue redrives "
        "to it, when it has a `redrive_allow_policy`, or when its name says so ('dlq', "
        "'dead-letter')."
    ),
)
def fifo_dlq(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    queues = stack.of_type(T.SQS_QUEUE)
    redrives: dict[int, Any] = {}
    for queue in queues:
        redrives[id(queue)] = queue.get("redrivePolicy")
    for extra in stack.of_type(T.SQS_REDRIVE_POLICY):
        for queue in stack.resolve(extra, "queueUrl", extra.get("queueUrl"), T.SQS_QUEUE):
            redrives[id(queue)] = extra.get("redrivePolicy")
    targets: set[int] = set()
    for queue in queues:
        policy = P.as_json(redrives[id(queue)])
        arn = P.get(policy, "deadLetterTargetArn")
        for target in stack.resolve(queue, "redrivePolicy", arn, T.SQS_QUEUE):
            targets.add(id(target))
    for queue in queues:
        if not P.as_bool(queue.get("fifoQueue")) or id(queue) in targets or _named_as_dlq(queue):
            continue  # standard queues and dead-letter queues themselves
        with rep.guard(queue):
            _check_fifo_dlq(stack, queue, redrives[id(queue)], rep)


def _named_as_dlq(queue: Resource) -> bool:
    names = [queue.name, queue.get("name"), queue.get("namePrefix")]
    text = " ".join(n.lower() for n in names if isinstance(n, str) and not P.is_unknown(n))
    return any(marker in text for marker in ("dlq", "dead-letter", "deadletter"))


def _check_fifo_dlq(stack: Stack, queue: Resource, raw: Any, rep: Reporter) -> None:
    if P.is_unknown(raw):
        rep.skip(f"the redrive policy of queue '{queue.name}'")
    policy = P.as_json(raw)
    arn = P.get(policy, "deadLetterTargetArn")
    if policy is None or arn is None:
        if queue.get("redriveAllowPolicy") is not None:
            return  # declared as a dead-letter queue for other queues
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


@stack_control(
    name="aws-backup-selection-covers-aurora",
    description="Every primary Aurora cluster must be selected by an AWS Backup plan.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY, PCI_IR),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Add an `aws.backup.Selection` for the backup plan whose `resources` list the cluster's "
        "ARN. Secondary clusters of a global database are covered through the primary."
    ),
)
def backup_covers_aurora(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    selections = _selected(stack, T.BACKUP_SELECTION, "resources")
    for cluster in stack.of_type(T.RDS_CLUSTER):
        if _is_global_secondary(cluster):
            continue
        with rep.guard(cluster):
            covered, unknown = False, False
            for selection, arns in selections:
                for arn in arns:
                    if P.is_unknown(arn) and not stack.resolve(selection, "resources", arn):
                        unknown = True
                    elif arn == "*" or cluster in stack.resolve(
                        selection, "resources", arn, T.RDS_CLUSTER
                    ):
                        covered = True
            if covered:
                continue
            if unknown:
                rep.skip(f"the resources of the backup selections covering '{cluster.name}'")
            rep.violation(
                f"Aurora cluster '{cluster.name}' is not selected by any AWS Backup plan.", cluster
            )


@stack_control(
    name="aws-backup-vault-lock",
    description=(
        "Every AWS Backup vault must have a vault lock (recovery points cannot be deleted early)."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        SOC2_RECOVERY,
        soc2("CC6.1", "Logical access security over protected information assets"),
    ),
    scope=(T.BACKUP_VAULT,),
    remediation=(
        "Add an `aws.backup.VaultLockConfiguration` for each vault with `min_retention_days` no "
        "shorter than the plan's retention (and `changeable_for_days` to move it to compliance "
        "mode)."
    ),
    config=(MIN_RETENTION,),
)
def backup_vault_lock(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    locks = stack.of_type(T.BACKUP_VAULT_LOCK)
    minimum = int(cfg["minRetentionDays"])
    for vault in stack.of_type(T.BACKUP_VAULT):
        with rep.guard(vault):
            mine = [
                lock
                for lock in locks
                if vault
                in stack.resolve(
                    lock, "backupVaultName", lock.get("backupVaultName"), T.BACKUP_VAULT
                )
            ]
            if not mine:
                if any(P.is_unknown(lock.get("backupVaultName")) for lock in locks):
                    rep.skip(f"the vault of the vault locks (for '{vault.name}')")
                rep.violation(f"Backup vault '{vault.name}' has no vault lock.", vault)
                continue
            for lock in mine:
                days = P.as_number(lock.get("minRetentionDays"))
                if days is not None and days < minimum:
                    rep.violation(
                        f"Vault lock of '{vault.name}' allows deleting recovery points after "
                        f"{int(days)} days; the minimum is {minimum} days (minRetentionDays).",
                        vault,
                    )


@stack_control(
    name="aws-backup-restore-testing",
    description="Backups of every primary Aurora cluster should be restore-tested on a schedule.",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(SOC2_RECOVERY_TEST,),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Add an `aws.backup.RestoreTestingPlan` with an `aws.backup.RestoreTestingSelection` whose "
        "`protected_resource_arns` list the cluster's ARN."
    ),
)
def backup_restore_testing(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    selections = _selected(stack, T.BACKUP_RESTORE_TESTING_SELECTION, "protectedResourceArns")
    for cluster in stack.of_type(T.RDS_CLUSTER):
        if _is_global_secondary(cluster):
            continue
        with rep.guard(cluster):
            arns = [arn for _, listed in selections for arn in listed]
            if any(arn == "*" for arn in arns) or any(
                cluster in stack.resolve(sel, "protectedResourceArns", arn, T.RDS_CLUSTER)
                for sel, listed in selections
                for arn in listed
            ):
                continue
            if any(P.is_unknown(arn) for arn in arns):
                rep.skip(f"the restore-testing selections covering '{cluster.name}'")
            rep.violation(f"Aurora cluster '{cluster.name}' has no restore test.", cluster)


@resource_control(
    name="aws-cloudwatch-loggroup-retention",
    description=(
        "CloudWatch log groups should keep logs for at least the configured number of days "
        "(or archive them elsewhere for that long)."
    ),
    resource_types=(T.LOG_GROUP,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(
        pci(
            "10.5.1",
            "Retain audit log history for at least 12 months, 3 months immediately available",
        ),
        soc2("CC7.2", "System components are monitored for anomalies indicative of malicious acts"),
    ),
    remediation=(
        "Set `retention_in_days` to at least the configured minimum (default 365), or export "
        "the log group (subscription filter or export task to an S3 bucket with Object Lock) "
        "and record that archive as the compensating evidence."
    ),
    config=(
        ConfigOption(
            "minRetentionDays",
            {"type": "integer", "minimum": 1, "maximum": 3653, "default": 365},
            "Minimum log retention, in days (0/unset means never expire).",
        ),
    ),
)
def log_retention(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    days = number(r, rep, "retentionInDays")
    minimum = int(cfg["minRetentionDays"])
    if days is not None and 0 < days < minimum:
        rep.violation(
            f"Log group keeps logs {int(days)} days; the minimum is {minimum} days "
            "(retentionInDays)."
        )
