"""aws-rds-restore-verification-scheduled

Every primary Aurora cluster must have a restore verification scheduled at least weekly: a
Kubernetes CronJob that runs the point-in-time restore drill against the cluster. AWS
Backup's own restore tests (aws-backup-restore-testing) prove a recovery point restores;
only a restore that is queried proves the data came back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import containers, pod_spec
from ...checks.resilience import CATEGORY, SOC2_RECOVERY_TEST, _is_global_secondary
from ...framework import HIGH, MANDATORY, Reporter, stack_control
from ...model import Resource, Stack

DRILL_MODULE = "chaos.aws.restore_cli"


def runs_at_least_weekly(schedule: str) -> bool:
    """A five-field cron schedule whose day-of-month and month are `*` fires every week
    (its day-of-week field picks at least one day)."""
    fields = schedule.split()
    return len(fields) == 5 and fields[2] == "*" and fields[3] == "*"


def drilled_cluster(job: Resource) -> Any:
    """The `--cluster-id` a CronJob's container passes to the restore drill, or None."""
    for _, container in containers(pod_spec(job), init=False):
        command = [*P.as_list(P.get(container, "command")), *P.as_list(P.get(container, "args"))]
        if P.is_unknown(command) or any(P.is_unknown(part) for part in command):
            return P.get(container, "command")
        if DRILL_MODULE in command and "--cluster-id" in command[:-1]:
            return command[command.index("--cluster-id") + 1]
    return None


@stack_control(
    name="aws-rds-restore-verification-scheduled",
    description="Every primary Aurora cluster must have a restore verification (a "
    "point-in-time restore that is queried) scheduled at least weekly.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_RECOVERY_TEST,),
    scope=(T.RDS_CLUSTER,),
    remediation=(
        "Add a `kubernetes:batch/v1:CronJob` with a weekly (or more frequent) schedule whose "
        f"container runs `python -m {DRILL_MODULE} --cluster-id <cluster identifier> ...` "
        "(infra/restore_testing.py), with alarms on its failure and on 8 days without success."
    ),
)
def restore_verification_scheduled(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    jobs = stack.of_type(T.K8S_CRONJOB)
    for cluster in stack.of_type(T.RDS_CLUSTER):
        if _is_global_secondary(cluster):
            continue
        with rep.guard(cluster):
            identifier = cluster.get("clusterIdentifier")
            if P.is_unknown(identifier):
                rep.skip(f"the identifier of cluster '{cluster.name}'")
            scheduled, unknown = False, False
            for job in jobs:
                target, schedule = drilled_cluster(job), job.get("spec", "schedule")
                if P.is_unknown(target) or P.is_unknown(schedule):
                    unknown = unknown or target is not None
                elif target == identifier and isinstance(schedule, str):
                    scheduled = scheduled or runs_at_least_weekly(schedule)
            if scheduled:
                continue
            if unknown:
                rep.skip(f"the restore verification CronJobs covering '{cluster.name}'")
            rep.violation(
                f"Aurora cluster '{cluster.name}' has no restore verification scheduled at "
                "least weekly.", cluster)
