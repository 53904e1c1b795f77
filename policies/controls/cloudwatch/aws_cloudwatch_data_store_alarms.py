"""aws-cloudwatch-data-store-alarms

Every data store (Aurora cluster, ElastiCache replication group, SQS queue, DynamoDB
table, EFS file system) must have a CloudWatch alarm on its metrics that notifies someone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.resilience import CATEGORY
from ...framework import HIGH, MANDATORY, Reporter, Resource, pci, soc2, stack_control
from ...model import Stack

# data store type -> (alarm dimension, how the store is named in it)
DIMENSIONS: dict[str, tuple[str, ...]] = {
    T.RDS_CLUSTER: ("DBClusterIdentifier",),
    T.RDS_INSTANCE: ("DBInstanceIdentifier",),
    T.ELASTICACHE_REPLICATION_GROUP: ("ReplicationGroupId", "CacheClusterId"),
    T.SQS_QUEUE: ("QueueName",),
    T.DYNAMODB_TABLE: ("TableName",),
    T.EFS_FILE_SYSTEM: ("FileSystemId",),
}
IDENTITY = {
    T.RDS_CLUSTER: ("clusterIdentifier", "id"),
    T.RDS_INSTANCE: ("identifier", "id"),
    T.ELASTICACHE_REPLICATION_GROUP: ("replicationGroupId", "id"),
    T.SQS_QUEUE: ("name",),
    T.DYNAMODB_TABLE: ("name",),
    T.EFS_FILE_SYSTEM: ("id",),
}


def _names(store: Resource) -> set[str]:
    found = set()
    for key in IDENTITY[store.type]:
        value = store.out(key)
        if isinstance(value, str) and not P.is_unknown(value):
            found.add(value)
    return found


def _dimension_values(alarm: Resource) -> list[tuple[str, Any]]:
    pairs = list(P.items(alarm.get("dimensions")))
    for query in P.as_list(alarm.get("metricQueries")):
        pairs += list(P.items(P.get(query, "metric", "dimensions")))
    return pairs


def _watches(alarm: Resource, store: Resource, names: set[str]) -> bool:
    wanted = DIMENSIONS[store.type]
    for key, value in _dimension_values(alarm):
        if key not in wanted or not isinstance(value, str):
            continue
        if value in names or (
            key == "CacheClusterId" and any(value.startswith(f"{n}-") for n in names)
        ):
            return True
    return False


@stack_control(
    name="aws-cloudwatch-data-store-alarms",
    description=(
        "Every data store (Aurora, ElastiCache, SQS, DynamoDB, EFS) must have a CloudWatch "
        "alarm on its metrics with an alarm action."
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        soc2("CC7.2", "System components are monitored for anomalies and security events"),
        soc2("A1.1", "Current processing capacity and use are managed to meet objectives"),
        pci("10.7.1", "Failures of critical security control systems are detected and alerted"),
    ),
    remediation="Add an `aws.cloudwatch.MetricAlarm` on the store's metrics with alarm_actions.",
    scope=(*DIMENSIONS, T.METRIC_ALARM),
)
def data_store_alarms(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    alarms = [a for a in stack.of_type(T.METRIC_ALARM) if P.as_list(a.get("alarmActions"))]
    for store in stack.of_type(*DIMENSIONS):
        names = _names(store)
        if not names:
            continue  # named only after creation: the alarm's dimension cannot be matched yet
        regional = [
            a for a in alarms if not a.region or not store.region or a.region == store.region
        ]
        if any(P.is_unknown(a.get("dimensions")) for a in regional):
            with rep.guard(store):
                rep.skip("the dimensions of an alarm")
            continue
        if not any(_watches(alarm, store, names) for alarm in regional):
            rep.violation(f"{store.label} has no CloudWatch alarm with an alarm action.", store)
