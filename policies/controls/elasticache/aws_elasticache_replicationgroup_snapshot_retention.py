"""aws-elasticache-replicationgroup-snapshot-retention

ElastiCache replication groups must keep automatic snapshots for at least the configured
number of days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.common import number
from ...checks.resilience import CATEGORY, SOC2_RECOVERY
from ...framework import MANDATORY, MEDIUM, ConfigOption, Reporter, Resource, fsbp, resource_control


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
