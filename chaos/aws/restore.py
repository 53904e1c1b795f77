"""Aurora point-in-time restore drill: restore the primary cluster into a temporary one,
verify what came back through a read-only connection, delete everything it created.

Sequence (every call goes through the call layer, so `--dry-run` prints each one):
describe the source cluster, its writer and its subnet group; create an isolated security
group (no egress, PostgreSQL in from the verifier's CIDRs only); restore the cluster to
the target time (or the latest restorable time) with the source's KMS key, subnet group
and cluster parameter group, deletion protection off and temporary tags; add one
instance (not publicly accessible); wait for both; read the master credentials; hand the
endpoint to the verifier; then, in a `finally`, delete the instance, the cluster
(`SkipFinalSnapshot`, automated backups too) and the security group, even on failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from chaos.aws.calls import CallLayer

T = TypeVar("T")

IDENTIFIER_MAX = 63  # RDS cluster and instance identifiers: 1-63 letters, digits, hyphens
INSTANCE_SUFFIX = "-1"
TEMPORARY_TAGS = {"temporary": "true", "purpose": "restore-drill"}
NOT_FOUND = ("DBClusterNotFoundFault", "DBInstanceNotFound", "DBInstanceNotFoundFault",
             "InvalidGroup.NotFound")


class RestoreFailed(Exception):
    """The restore or its verification could not complete."""


@dataclass(frozen=True)
class RestoredEndpoint:
    """Where the verifier connects; the password is never printed or recorded."""

    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)


@dataclass
class Verification:
    first_query_at: datetime
    verified_at: datetime
    anomalies: list[str]
    facts: dict[str, Any] = field(default_factory=dict)


class Verifier(Protocol):
    def __call__(self, endpoint: RestoredEndpoint, target_time: datetime) -> Verification: ...


@dataclass(frozen=True)
class RestoreSource:
    """What the drill restores: from the stack outputs or given on the command line."""

    region: str
    cluster_id: str
    master_secret_arn: str | None


@dataclass
class RestoreOptions:
    target_time: datetime | None = None  # None: the latest restorable time
    instance_class: str | None = None  # None: the source writer's class
    client_cidrs: tuple[str, ...] = ()
    timeout_s: float = 7200.0
    poll_interval_s: float = 30.0


def temporary_identifier(source: str, at: datetime) -> str:
    """`<source>-restore-<UTC minute>`, valid for RDS with room for the instance suffix."""
    stamp = at.strftime("%Y%m%d%H%M")
    tail = f"-restore-{stamp}"
    head = re.sub(r"[^a-z0-9-]", "-", source.lower())
    head = re.sub(r"-{2,}", "-", head).strip("-")[: IDENTIFIER_MAX - len(INSTANCE_SUFFIX)
                                                 - len(tail)].rstrip("-")
    if not head or not head[0].isalpha():
        head = "r" + head
    return head + tail


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class AuroraRestoreDrill:
    """One restore drill; `run()` returns its report (it never leaves resources behind
    unless a delete itself fails, and then the report names what is left)."""

    def __init__(self, calls: CallLayer, source: RestoreSource, options: RestoreOptions,
                 verifier: Verifier) -> None:
        self.calls = calls
        self.source = source
        self.options = options
        self.verifier = verifier
        self.region = source.region
        self.identifier = temporary_identifier(source.cluster_id, calls.clock.now())
        self.instance_identifier = self.identifier + INSTANCE_SUFFIX
        self.group_id: str | None = None
        self.created: list[str] = []  # what cleanup must delete, in creation order
        self.timings: dict[str, str | None] = dict.fromkeys(
            ("restore_requested_at", "cluster_available_at", "instance_available_at",
             "first_query_at", "verified_at"))
        self.facts: dict[str, Any] = {}

    @property
    def dry_run(self) -> bool:
        return self.calls.dry_run

    def aws(self, service: str, operation: str, **params: Any) -> Any:
        return self.calls.aws(service, operation, region=self.region, **params)

    # -- the drill ---------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = self.calls.clock.now()
        anomalies: list[str] = []
        error: str | None = None
        try:
            source = self._describe_source()
            self._create_security_group(source)
            self._restore(source)
            endpoint = self._wait_available(source)
            anomalies = self._verify(endpoint)
        except Exception as exc:  # AWS errors, timeouts, a failed connection alike
            error = f"{type(exc).__name__}: {exc}"
        finally:
            leftovers = self._cleanup()
        return self._report(started, anomalies, error, leftovers)

    def _describe_source(self) -> dict[str, Any]:
        reply = self.aws("rds", "describe_db_clusters",
                         DBClusterIdentifier=self.source.cluster_id)
        cluster = (reply.get("DBClusters") or [{}])[0]
        writer = next((m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])
                       if m.get("IsClusterWriter")), None)
        instance_class = self.options.instance_class
        if instance_class is None and (writer or self.dry_run):
            reply = self.aws("rds", "describe_db_instances",
                             DBInstanceIdentifier=writer or "<writer instance>")
            instance_class = (reply.get("DBInstances") or [{}])[0].get("DBInstanceClass")
        subnet_group = cluster.get("DBSubnetGroup", "<source subnet group>")
        reply = self.aws("rds", "describe_db_subnet_groups", DBSubnetGroupName=subnet_group)
        vpc_id = (reply.get("DBSubnetGroups") or [{}])[0].get("VpcId", "<source VPC>")
        if not self.dry_run and not (cluster.get("KmsKeyId") and instance_class):
            raise RestoreFailed(f"cannot read the KMS key or the writer's instance class of "
                                f"{self.source.cluster_id}")
        source = {
            "kms_key_id": cluster.get("KmsKeyId", "<source KMS key>"),
            "subnet_group": subnet_group,
            "vpc_id": vpc_id,
            "parameter_group": cluster.get("DBClusterParameterGroup", "<source parameter group>"),
            "engine": cluster.get("Engine", "aurora-postgresql"),
            "port": int(cluster.get("Port", 5432)),
            "database": cluster.get("DatabaseName", "orders"),
            "user": cluster.get("MasterUsername", "<master user>"),
            "instance_class": instance_class or "<writer instance class>",
            "latest_restorable_time": cluster.get("LatestRestorableTime"),
        }
        self.facts["source"] = {k: v for k, v in source.items() if k != "user"} | {
            "cluster": self.source.cluster_id}
        return source

    def _tags(self) -> list[dict[str, str]]:
        tags = TEMPORARY_TAGS | {"restore-drill-source": self.source.cluster_id,
                                 "Name": self.identifier}
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def _create_security_group(self, source: dict[str, Any]) -> None:
        self.created.append("security-group")
        reply = self.aws(
            "ec2", "create_security_group",
            GroupName=f"{self.identifier}-sg",
            Description=f"restore drill of {self.source.cluster_id}: verifier only",
            VpcId=source["vpc_id"],
            TagSpecifications=[{"ResourceType": "security-group", "Tags": self._tags()}],
        )
        self.group_id = reply.get("GroupId") or "<restore security group>"
        # a new group allows all egress: the restored database needs none
        self.aws("ec2", "revoke_security_group_egress", GroupId=self.group_id,
                 IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        if self.options.client_cidrs:
            self.aws("ec2", "authorize_security_group_ingress", GroupId=self.group_id,
                     IpPermissions=[{
                         "IpProtocol": "tcp", "FromPort": source["port"],
                         "ToPort": source["port"],
                         "IpRanges": [{"CidrIp": cidr, "Description": "restore verifier"}
                                      for cidr in self.options.client_cidrs],
                     }])

    def _restore(self, source: dict[str, Any]) -> None:
        when: dict[str, Any] = (
            {"RestoreToTime": self.options.target_time} if self.options.target_time
            else {"UseLatestRestorableTime": True})
        self.created.append("cluster")
        self.timings["restore_requested_at"] = self.calls.clock.now().isoformat()
        self.aws(
            "rds", "restore_db_cluster_to_point_in_time",
            DBClusterIdentifier=self.identifier,
            SourceDBClusterIdentifier=self.source.cluster_id,
            RestoreType="full-copy",
            **when,
            KmsKeyId=source["kms_key_id"],
            DBSubnetGroupName=source["subnet_group"],
            VpcSecurityGroupIds=[self.group_id],
            DBClusterParameterGroupName=source["parameter_group"],
            DeletionProtection=False,
            CopyTagsToSnapshot=False,
            Tags=self._tags(),
        )
        self.created.append("instance")
        self.aws(
            "rds", "create_db_instance",
            DBInstanceIdentifier=self.instance_identifier,
            DBClusterIdentifier=self.identifier,
            DBInstanceClass=source["instance_class"],
            Engine=source["engine"],
            PubliclyAccessible=False,
            Tags=self._tags(),
        )

    def _wait_available(self, source: dict[str, Any]) -> RestoredEndpoint:
        nothing: dict[str, Any] = {}  # what a dry run's polls return
        deadline = self.calls.clock.monotonic() + self.options.timeout_s
        cluster = self._poll(f"cluster {self.identifier} is available",
                             lambda: self._cluster_if("available"), deadline, nothing)
        self.timings["cluster_available_at"] = self.calls.clock.now().isoformat()
        instance = self._poll(f"instance {self.instance_identifier} is available",
                              self._instance_if_available, deadline, nothing)
        self.timings["instance_available_at"] = self.calls.clock.now().isoformat()
        restored_to = cluster.get("LatestRestorableTime") or self.options.target_time
        self.facts["restored_cluster"] = {
            "identifier": self.identifier,
            "kms_key_id": cluster.get("KmsKeyId"),
            "storage_encrypted": cluster.get("StorageEncrypted"),
            "publicly_accessible": instance.get("PubliclyAccessible"),
        }
        self._check_isolation(source, cluster, instance)
        secret = self._master_secret()
        self.facts["restored_to"] = restored_to
        return RestoredEndpoint(
            host=(instance.get("Endpoint") or {}).get("Address", "<restored instance endpoint>"),
            port=int((instance.get("Endpoint") or {}).get("Port", source["port"])),
            database=source["database"],
            user=secret.get("username", source["user"]),
            password=secret.get("password", ""),
        )

    def _check_isolation(self, source: dict[str, Any], cluster: dict[str, Any],
                         instance: dict[str, Any]) -> None:
        if self.dry_run:
            return
        if cluster.get("KmsKeyId") != source["kms_key_id"]:
            raise RestoreFailed("the restored cluster is not encrypted with the source's key")
        if instance.get("PubliclyAccessible"):
            raise RestoreFailed("the restored instance is publicly accessible")

    def _master_secret(self) -> dict[str, Any]:
        arn = self.source.master_secret_arn
        if not arn:
            raise RestoreFailed("no master secret ARN (stack output databaseMasterSecretArn)")
        reply = self.aws("secretsmanager", "get_secret_value", SecretId=arn)
        text = reply.get("SecretString")
        return json.loads(text) if text else {}

    def _verify(self, endpoint: RestoredEndpoint) -> list[str]:
        target = self.options.target_time or self.facts.get("restored_to")
        if self.dry_run:
            self.calls.emit(f"#   then verify {endpoint.host}:{endpoint.port}/"
                            f"{endpoint.database} read-only against the target time")
            return []
        if not isinstance(target, datetime):
            raise RestoreFailed("the restored cluster reports no restorable time")
        result = self.verifier(endpoint, target)
        self.timings["first_query_at"] = result.first_query_at.isoformat()
        self.timings["verified_at"] = result.verified_at.isoformat()
        self.facts["verification"] = result.facts
        return result.anomalies

    # -- polling -----------------------------------------------------------------------
    def _poll(self, what: str, probe: Callable[[], T | None], deadline: float, placeholder: T,
              ) -> T:
        clock = self.calls.clock
        if self.dry_run:
            probe()
            self.calls.emit(f"#   ...repeated every {self.options.poll_interval_s:g}s "
                            f"until {what}")
            return placeholder
        while True:
            result = probe()
            if result is not None:
                return result
            if clock.monotonic() >= deadline:
                raise RestoreFailed(f"timed out waiting until {what}")
            clock.sleep(self.options.poll_interval_s)

    def _cluster_if(self, status: str) -> dict[str, Any] | None:
        reply = self.aws("rds", "describe_db_clusters", DBClusterIdentifier=self.identifier)
        cluster = (reply.get("DBClusters") or [{}])[0]
        return cluster if cluster.get("Status") == status else None

    def _instance_if_available(self) -> dict[str, Any] | None:
        reply = self.aws("rds", "describe_db_instances",
                         DBInstanceIdentifier=self.instance_identifier)
        instance = (reply.get("DBInstances") or [{}])[0]
        return instance if instance.get("DBInstanceStatus") == "available" else None

    def _gone(self, operation: str, **params: Any) -> bool | None:
        try:
            self.aws("rds", operation, **params)
        except ClientError as exc:
            if _error_code(exc) in NOT_FOUND:
                return True
            raise
        return None

    # -- cleanup -----------------------------------------------------------------------
    def _cleanup(self) -> list[str]:
        """Delete what was created, newest first; returns what could not be deleted."""
        steps = {"instance": self._delete_instance, "cluster": self._delete_cluster,
                 "security-group": self._delete_security_group}
        leftovers = []
        deadline = self.calls.clock.monotonic() + self.options.timeout_s
        for kind in reversed(self.created):
            try:
                steps[kind](deadline)
            except Exception as exc:
                leftovers.append(f"{kind}: {type(exc).__name__}: {exc}")
        return leftovers

    def _delete_ignoring_absent(self, service: str, operation: str, **params: Any) -> None:
        try:
            self.aws(service, operation, **params)
        except ClientError as exc:
            if _error_code(exc) not in NOT_FOUND:
                raise

    def _delete_instance(self, deadline: float) -> None:
        self._delete_ignoring_absent("rds", "delete_db_instance",
                                     DBInstanceIdentifier=self.instance_identifier,
                                     SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        self._poll(f"instance {self.instance_identifier} is deleted", lambda: self._gone(
            "describe_db_instances", DBInstanceIdentifier=self.instance_identifier),
            deadline, True)

    def _delete_cluster(self, deadline: float) -> None:
        self._delete_ignoring_absent("rds", "delete_db_cluster",
                                     DBClusterIdentifier=self.identifier,
                                     SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        # the security group can go only once the cluster's network interfaces have
        self._poll(f"cluster {self.identifier} is deleted", lambda: self._gone(
            "describe_db_clusters", DBClusterIdentifier=self.identifier), deadline, True)

    def _delete_security_group(self, _deadline: float) -> None:
        if self.group_id is not None:
            self._delete_ignoring_absent("ec2", "delete_security_group", GroupId=self.group_id)

    # -- report ------------------------------------------------------------------------
    def _report(self, started: datetime, anomalies: list[str], error: str | None,
                leftovers: list[str]) -> dict[str, Any]:
        verdict, reason = _verdict(self.dry_run, anomalies, error, leftovers)
        return {
            "drill": "restore",
            "target": "aws",
            "started_at": started.isoformat(),
            "source_cluster": self.source.cluster_id,
            "restored_cluster": self.identifier,
            "target_time": (self.options.target_time.isoformat()
                            if self.options.target_time else "latest-restorable"),
            "restored_to": _iso(self.facts.get("restored_to")),
            "timings": self.timings,
            "rto_s": _rto(self.timings),
            "anomalies": anomalies,
            "verdict": verdict,
            "verdict_reason": reason,
            "leftovers": leftovers,
            "details": {k: v for k, v in self.facts.items() if k != "restored_to"},
            "aws_calls": [json.loads(c.to_json()) | {"at": c.at}
                          for c in self.calls.calls if c.mutating],
        }


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


def _rto(timings: dict[str, str | None]) -> dict[str, float | None]:
    def seconds(end: str) -> float | None:
        start, stop = timings["restore_requested_at"], timings[end]
        if not (start and stop):
            return None
        delta: timedelta = datetime.fromisoformat(stop) - datetime.fromisoformat(start)
        return round(delta.total_seconds(), 1)

    return {"to_first_query": seconds("first_query_at"), "to_verified": seconds("verified_at")}


def _verdict(dry_run: bool, anomalies: list[str], error: str | None,
             leftovers: list[str]) -> tuple[str, str | None]:
    reasons = ([error] if error else []) + [f"anomaly: {a}" for a in anomalies] + [
        f"not deleted, delete by hand: {left}" for left in leftovers]
    if dry_run and not reasons:
        return "dry-run", None
    return ("failed" if reasons else "passed"), "; ".join(reasons) or None
