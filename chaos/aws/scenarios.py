"""AWS drill scenarios: pre-checks, the fault, polling until recovered, rollback.

Each scenario is an `AwsScenario`; the drill runner (or a caller that wraps load around
it) calls `pre_check()`, `inject()`, `wait_recovered()` and `rollback()` in that order.
Every AWS/Kubernetes/HTTP call goes through `ctx.calls` (see calls.py), so a dry run
prints the exact calls and makes none.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx

from chaos.aws.calls import CallLayer
from chaos.aws.kube import KubeApi, pod_ready
from chaos.aws.outputs import StackOutputs

T = TypeVar("T")

ROUTE53_REGION = "us-east-1"  # Route 53 is global; its health-check metrics live here
FIS_TERMINAL_FAILURES = ("stopped", "failed", "cancelled")
AZ_POWER_TAG = "AzImpairmentPower"  # tag key of the FIS scenario library's AZ templates


class PreCheckFailed(Exception):
    """Steady state does not hold before the fault: abort without injecting anything."""


class NotRecovered(Exception):
    """The system did not return to steady state within the timeout."""


@dataclass
class DrillOptions:
    dry_run: bool = False
    allow_data_loss: bool = False
    switch_back: bool = False
    zone: str | None = None
    recovery_timeout_s: float | None = None
    poll_interval_s: float = 5.0
    fis_duration: str = "PT10M"


@dataclass
class AwsContext:
    outputs: StackOutputs
    calls: CallLayer
    options: DrillOptions = field(default_factory=DrillOptions)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5.0))
    session: Any = None
    kube_factory: Callable[[AwsContext], KubeApi] | None = None
    token: Callable[[], str] = field(default_factory=lambda: lambda: str(uuid.uuid4()))
    _kube: KubeApi | None = None

    @property
    def dry_run(self) -> bool:
        return self.calls.dry_run

    def emit(self, line: str) -> None:
        self.calls.emit(line)

    def kube(self) -> KubeApi:
        if self._kube is None:
            if self.kube_factory is not None:
                self._kube = self.kube_factory(self)
            else:
                self._kube = KubeApi.for_eks(
                    self.calls,
                    cluster_name=self.outputs.eks_cluster_name,
                    region=self.outputs.primary_region,
                    session=self.session,
                )
        return self._kube


class AwsScenario:
    """Base: hypothesis / method / rollback of one scenario against the deployed stack."""

    name: ClassVar[str]
    title: ClassVar[str]
    hypothesis: ClassVar[str]
    aws_fault: ClassVar[str]
    supported: ClassVar[bool] = True
    default_timeout_s: ClassVar[float] = 600.0

    def __init__(self, ctx: AwsContext) -> None:
        self.ctx = ctx
        self.out = ctx.outputs
        self.facts: dict[str, Any] = {}
        self.notes: list[str] = []
        self.injected = False
        self._deadline = 0.0

    # -- the four phases -------------------------------------------------------------
    def refusal(self) -> str | None:
        """A reason to refuse the scenario outright (before any call), or None."""
        return None

    def pre_check(self) -> None:
        self.require_endpoint_ready()

    def inject(self) -> None:
        raise NotImplementedError

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        """Undo what the fault left behind; default: nothing to undo."""

    # -- helpers ---------------------------------------------------------------------
    def aws(self, service: str, operation: str, region: str | None = None, **params: Any) -> Any:
        return self.ctx.calls.aws(
            service, operation, region=region or self.out.primary_region, **params
        )

    def require(self, condition: object, message: str) -> None:
        """Pre-check assertion; a dry run cannot know, so it checks nothing."""
        if not self.ctx.dry_run and not condition:
            raise PreCheckFailed(message)

    def known(self, value: T | None, placeholder: str) -> T | str:
        """`value`, or in a dry run the placeholder that stands for it."""
        if value is None or value == "":
            return placeholder
        return value

    def default_timeout(self) -> float:
        return self.default_timeout_s

    def start_deadline(self, timeout_s: float | None) -> None:
        timeout = timeout_s or self.ctx.options.recovery_timeout_s or self.default_timeout()
        self.facts["recovery_timeout_s"] = timeout
        self._deadline = self.ctx.calls.clock.monotonic() + timeout

    def poll(self, what: str, probe: Callable[[], T | None], placeholder: Any = None) -> T:
        """Call `probe` every poll interval until it returns a value other than None/False."""
        clock = self.ctx.calls.clock
        interval = self.ctx.options.poll_interval_s
        if self.ctx.dry_run:
            probe()
            remaining = max(0.0, self._deadline - clock.monotonic())
            self.ctx.emit(
                f"#   ...repeated every {interval:g}s until {what} (timeout {remaining:.0f}s)"
            )
            return placeholder
        while True:
            result = probe()
            if result is not None and result is not False:
                return result
            if clock.monotonic() >= self._deadline:
                raise NotRecovered(f"timed out waiting until {what}")
            clock.sleep(interval)

    def endpoint_ready(self) -> bool:
        url = self.out.api_endpoint.rstrip("/") + "/health/ready"
        try:
            response = self.ctx.calls.http(self.ctx.http, "http", "GET", url)
        except httpx.HTTPError:
            return False
        return response is not None and response.status_code == 200

    def require_endpoint_ready(self) -> None:
        ready = self.endpoint_ready()
        self.require(ready, f"steady state does not hold: {self.out.api_endpoint}/health/ready "
                            "is not 200 before the fault")

    def wait_endpoint_ready(self) -> None:
        self.poll(f"{self.out.api_endpoint}/health/ready answers 200", self.endpoint_ready)

    def plan(self) -> list[str]:
        return [f"hypothesis: {self.hypothesis}", f"fault: {self.aws_fault}"]


# -- Aurora (in-region) --------------------------------------------------------------
def first(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return items[0] if items else {}


class AuroraMixin(AwsScenario):
    def describe_cluster(self, cluster_id: str, region: str | None = None) -> dict[str, Any]:
        r = self.aws("rds", "describe_db_clusters", region, DBClusterIdentifier=cluster_id)
        return first(r.get("DBClusters"))

    @staticmethod
    def writer_of(cluster: dict[str, Any]) -> str | None:
        for m in cluster.get("DBClusterMembers", []):
            if m.get("IsClusterWriter"):
                return str(m["DBInstanceIdentifier"])
        return None

    def describe_instances(self, cluster_id: str) -> dict[str, dict[str, Any]]:
        r = self.aws(
            "rds",
            "describe_db_instances",
            Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}],
        )
        return {i["DBInstanceIdentifier"]: i for i in r.get("DBInstances", [])}

    def check_primary_cluster(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        cid = self.out.primary_cluster_id
        cluster = self.describe_cluster(cid)
        status = cluster.get("Status")
        self.require(
            status == "available",
            f"Aurora cluster {cid} is {status!r}, not 'available': not injecting a fault",
        )
        writer = self.writer_of(cluster)
        self.require(writer, f"Aurora cluster {cid} has no writer instance")
        instances = self.describe_instances(cid)
        busy = sorted(i for i, d in instances.items() if d.get("DBInstanceStatus") != "available")
        self.require(not busy, f"Aurora instances not available: {', '.join(busy)}")
        readers = sorted(i for i in instances if i != writer)
        self.require(readers, f"Aurora cluster {cid} has no reader to fail over to")
        self.facts["writer_before"] = self.known(writer, "<writer>")
        self.facts["writer_zone"] = self.known(
            instances.get(writer or "", {}).get("AvailabilityZone"), "<writer-zone>"
        )
        self.facts["readers"] = readers
        return cluster, instances

    def wait_cluster_available(self, what: str = "") -> None:
        cid = self.out.primary_cluster_id

        def available() -> bool:
            return self.describe_cluster(cid).get("Status") == "available"

        self.poll(what or f"Aurora cluster {cid} is 'available'", available)


class DbFailover(AuroraMixin):
    name = "db-primary-kill"
    title = "Aurora writer failure (failover_db_cluster)"
    hypothesis = (
        "Aurora promotes a reader within ~35 s; the API answers 503 + Retry-After meanwhile "
        "and no acknowledged order is lost or duplicated."
    )
    aws_fault = "rds.failover_db_cluster on the primary cluster (Aurora picks the new writer)"
    default_timeout_s = 300.0
    other_zone = False

    def pre_check(self) -> None:
        super().pre_check()
        _, instances = self.check_primary_cluster()
        if self.other_zone:
            zone = self.facts["writer_zone"]
            others = sorted(
                r for r in self.facts["readers"] if instances[r].get("AvailabilityZone") != zone
            )
            self.require(others, f"no available Aurora reader outside the writer's zone {zone}")
            self.facts["target_instance"] = others[0] if others else "<reader-in-another-zone>"

    def inject(self) -> None:
        params: dict[str, Any] = {"DBClusterIdentifier": self.out.primary_cluster_id}
        if "target_instance" in self.facts:
            params["TargetDBInstanceIdentifier"] = self.facts["target_instance"]
        self.aws("rds", "failover_db_cluster", **params)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        cid, before = self.out.primary_cluster_id, self.facts["writer_before"]

        def new_writer() -> str | None:
            cluster = self.describe_cluster(cid)
            writer = self.writer_of(cluster)
            if cluster.get("Status") == "available" and writer and writer != before:
                return writer
            return None

        self.facts["writer_after"] = self.poll(
            f"cluster {cid} is 'available' with a writer other than {before}",
            new_writer,
            "<new-writer>",
        )
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        self.notes.append(
            "no rollback: the former writer rejoins as a reader; moving the writer back is "
            "optional (runbooks/database-failover.md)"
        )


class DbLeaderNodeLoss(DbFailover):
    name = "db-leader-node-loss"
    title = "Loss of the Aurora writer's node, failing over to another zone"
    hypothesis = (
        "With the writer's node gone, Aurora promotes a reader in another zone; writes resume "
        "through the cluster endpoint, no acknowledged order lost or duplicated."
    )
    aws_fault = (
        "rds.failover_db_cluster with TargetDBInstanceIdentifier = a reader in another zone"
    )
    other_zone = True


# -- ElastiCache -----------------------------------------------------------------------
class RedisMixin(AwsScenario):
    def describe_group(self) -> dict[str, Any]:
        r = self.aws(
            "elasticache",
            "describe_replication_groups",
            ReplicationGroupId=self.out.redis_replication_group_id,
        )
        return first(r.get("ReplicationGroups"))

    @staticmethod
    def primary_of(group: dict[str, Any]) -> tuple[str | None, str | None]:
        """(node group id, primary cache cluster id)."""
        for ng in group.get("NodeGroups", []):
            for member in ng.get("NodeGroupMembers", []):
                if member.get("CurrentRole") == "primary":
                    return ng.get("NodeGroupId"), member.get("CacheClusterId")
        return None, None

    def check_group(self) -> None:
        rg = self.out.redis_replication_group_id
        group = self.describe_group()
        status = group.get("Status")
        self.require(
            status == "available",
            f"replication group {rg} is {status!r}, not 'available': not injecting a fault",
        )
        self.require(
            group.get("AutomaticFailover") == "enabled",
            f"replication group {rg} has automatic failover "
            f"{group.get('AutomaticFailover')!r}: a primary loss would be an outage",
        )
        node_group, primary = self.primary_of(group)
        self.require(primary, f"replication group {rg} reports no primary node")
        members = sum(len(ng.get("NodeGroupMembers", [])) for ng in group.get("NodeGroups", []))
        self.require(members >= 2, f"replication group {rg} has no replica")
        self.facts["node_group"] = self.known(node_group, "<node-group-of-primary>")
        self.facts["primary_before"] = self.known(primary, "<primary-node>")


class RedisPrimaryKill(RedisMixin):
    name = "redis-primary-kill"
    title = "ElastiCache primary failure (test_failover)"
    hypothesis = (
        "ElastiCache promotes the replica (Multi-AZ); the API keeps accepting orders "
        "(redis_degraded may rise briefly, rate limiting fails open)."
    )
    aws_fault = "elasticache.test_failover on the node group holding the primary"
    default_timeout_s = 900.0

    def pre_check(self) -> None:
        super().pre_check()
        self.check_group()

    def inject(self) -> None:
        self.aws(
            "elasticache",
            "test_failover",
            ReplicationGroupId=self.out.redis_replication_group_id,
            NodeGroupId=self.facts["node_group"],
        )

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        before = self.facts["primary_before"]

        def new_primary() -> str | None:
            group = self.describe_group()
            _, primary = self.primary_of(group)
            if group.get("Status") == "available" and primary and primary != before:
                return primary
            return None

        self.facts["primary_after"] = self.poll(
            f"the replication group is 'available' with a primary other than {before}",
            new_primary,
            "<new-primary>",
        )
        self.wait_endpoint_ready()


class Unsupported(AwsScenario):
    supported = False
    reason: ClassVar[str]

    def inject(self) -> None:  # pragma: no cover - never called for unsupported scenarios
        raise NotImplementedError(self.reason)


class RedisDown(Unsupported):
    name = "redis-down"
    title = "All of Redis unavailable for 30 s"
    hypothesis = "Orders are still accepted while Redis is gone (rate limiting fails open)."
    aws_fault = "none"
    reason = (
        "ElastiCache has no API to stop a replication group for a while (only delete it), "
        "and blocking it by security group would also cut the standby's replication. "
        "Not injected on AWS; drill it locally (make drill SCENARIO=redis-down). "
        "redis-primary-kill exercises the AWS-side Redis failover."
    )


class QueueOutage(Unsupported):
    name = "queue-outage"
    title = "SQS unavailable for 30 s"
    hypothesis = "Orders are still accepted; the outbox backlog drains after SQS returns."
    aws_fault = "none"
    reason = (
        "SQS offers no safe fault to inject: AWS FIS has no SQS action, and denying the "
        "queue by policy or VPC-endpoint policy is a production change, not a fault. "
        "Not injected on AWS; drill it locally (make drill SCENARIO=queue-outage) and watch "
        "outbox_backlog / ApproximateAgeOfOldestMessage in production "
        "(runbooks/queue-backlog.md)."
    )


# -- Kubernetes pods ---------------------------------------------------------------------
class PodKill(AwsScenario):
    selector_attr: ClassVar[str]
    whole_zone: ClassVar[bool] = True
    default_timeout_s = 600.0

    @property
    def selector(self) -> str:
        return str(getattr(self.out, self.selector_attr))

    def pre_check(self) -> None:
        super().pre_check()
        kube = self.ctx.kube()
        ns = self.out.service_namespace
        zones = kube.node_zones()
        pods = [p for p in kube.list_pods(ns, self.selector) if pod_ready(p)]
        self.require(pods, f"no ready pods match {self.selector!r} in namespace {ns}")
        pod_zone = {
            p["metadata"]["name"]: zones.get(p["spec"].get("nodeName", ""), "") for p in pods
        }
        self.facts["ready_before"] = self.known(len(pods) or None, "<number ready before>")
        self.facts["pod_zones"] = pod_zone
        if self.whole_zone:
            used = sorted({z for z in pod_zone.values() if z})
            self.require(
                len(used) >= 2,
                f"pods matching {self.selector!r} run in {used or 'no labelled zone'}: losing "
                "one zone would be an outage, not a drill",
            )
            zone = self.ctx.options.zone or (used[0] if used else None)
            victims = sorted(n for n, z in pod_zone.items() if z == zone)
            self.require(victims, f"no ready pods matching {self.selector!r} in zone {zone}")
            self.facts["zone"] = self.known(zone, "<first zone running the pods>")
        else:
            victims = sorted(pod_zone)
        self.facts["victims"] = victims or [f"<each ready pod matching {self.selector}>"]

    def inject(self) -> None:
        kube = self.ctx.kube()
        for name in self.facts["victims"]:
            kube.delete_pod(self.out.service_namespace, name)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        kube, ns = self.ctx.kube(), self.out.service_namespace
        victims, baseline = set(self.facts["victims"]), self.facts["ready_before"]

        def replaced() -> int | None:
            if not isinstance(baseline, int):  # dry run: the count is unknown
                return None
            pods = kube.list_pods(ns, self.selector)
            ready = [p["metadata"]["name"] for p in pods if pod_ready(p)]
            fresh = [n for n in ready if n not in victims]
            return len(fresh) if len(fresh) >= baseline else None

        self.facts["ready_after"] = self.poll(
            f"{baseline} pods matching {self.selector!r} are ready again", replaced, "<n>"
        )
        self.wait_endpoint_ready()


class ApiReplicaKill(PodKill):
    name = "api-replica-kill"
    title = "Loss of the API pods of one zone"
    hypothesis = (
        "The load balancer stops routing to the deleted pods; the other zones' replicas serve "
        "all requests and the Rollout recreates the pods."
    )
    aws_fault = (
        "Kubernetes API: DELETE (grace period 0) of every ready API pod on nodes labelled "
        "topology.kubernetes.io/zone=<zone>"
    )
    selector_attr = "api_pod_selector"


class RelayKill(PodKill):
    name = "relay-kill"
    title = "Loss of every outbox relay pod"
    hypothesis = (
        "Orders are still accepted; outbox_backlog grows, then drains once the Deployment "
        "restarts the relays; nothing is published twice to the worker's effect."
    )
    aws_fault = "Kubernetes API: DELETE (grace period 0) of every ready relay pod"
    selector_attr = "relay_pod_selector"
    whole_zone = False


# -- Zone loss: AWS FIS "AZ Availability: Power Interruption" -------------------------
class ZoneLoss(RedisMixin, AuroraMixin):
    name = "zone-loss"
    title = "AZ Availability: Power Interruption (AWS FIS)"
    hypothesis = (
        "With one zone powered off (nodes stopped, subnets cut, Aurora and ElastiCache "
        "failing over), the service keeps serving from the two other zones."
    )
    aws_fault = (
        "fis.start_experiment of the 'AZ Availability: Power Interruption' template "
        "(created for the zone when the stack outputs have none)"
    )

    def default_timeout(self) -> float:
        return iso_duration_s(self.ctx.options.fis_duration) + 1800.0

    def pre_check(self) -> None:
        AwsScenario.pre_check(self)
        self.check_primary_cluster()
        self.check_group()
        template = self.out.fis_az_power_interruption_template_id
        if template:
            got = self.aws("fis", "get_experiment_template", id=template)
            self.require(got.get("experimentTemplate"), f"FIS template {template} not found")
            self.facts["template"] = template
        self.facts["zone"] = self.ctx.options.zone or self.facts["writer_zone"]

    def template_request(self, zone: str) -> dict[str, Any]:
        """create_experiment_template parameters for the scenario library's AZ template."""
        duration = self.ctx.options.fis_duration
        running_in_zone = [
            {"path": "State.Name", "values": ["running"]},
            {"path": "Placement.AvailabilityZone", "values": [zone]},
        ]
        alarm = self.out.fis_stop_condition_alarm_arn
        return {
            "clientToken": self.ctx.token(),
            "description": f"AZ Availability: Power Interruption of {zone} (chaos drill)",
            "roleArn": self.out.fis_role_arn,
            "stopConditions": (
                [{"source": "aws:cloudwatch:alarm", "value": alarm}]
                if alarm
                else [{"source": "none"}]
            ),
            "targets": {
                "EC2-Instances": {
                    "resourceType": "aws:ec2:instance",
                    "resourceTags": {AZ_POWER_TAG: "StopInstances"},
                    "filters": running_in_zone,
                    "selectionMode": "ALL",
                },
                "ASG": {
                    "resourceType": "aws:ec2:autoscaling-group",
                    "resourceTags": {AZ_POWER_TAG: "IceAsg"},
                    "selectionMode": "ALL",
                },
                "ASG-EC2-Instances": {
                    "resourceType": "aws:ec2:instance",
                    "resourceTags": {AZ_POWER_TAG: "IceAsg"},
                    "filters": running_in_zone,
                    "selectionMode": "ALL",
                },
                "Subnet": {
                    "resourceType": "aws:ec2:subnet",
                    "resourceTags": {AZ_POWER_TAG: "DisruptSubnet"},
                    "filters": [{"path": "AvailabilityZone", "values": [zone]}],
                    "selectionMode": "ALL",
                    "parameters": {},
                },
                "RDS-Cluster": {
                    "resourceType": "aws:rds:cluster",
                    "resourceArns": [self.out.primary_cluster_arn],
                    "selectionMode": "ALL",
                    "parameters": {"writerAvailabilityZoneIdentifiers": zone},
                },
                "ElastiCache-Cluster": {
                    "resourceType": "aws:elasticache:replicationgroup",
                    "resourceTags": {AZ_POWER_TAG: "ElasticacheImpact"},
                    "selectionMode": "ALL",
                    "parameters": {"availabilityZoneIdentifier": zone},
                },
            },
            "actions": {
                "Stop-Instances": {
                    "actionId": "aws:ec2:stop-instances",
                    "parameters": {
                        "startInstancesAfterDuration": duration,
                        "completeIfInstancesTerminated": "true",
                    },
                    "targets": {"Instances": "EC2-Instances"},
                },
                "Stop-ASG-Instances": {
                    "actionId": "aws:ec2:stop-instances",
                    "parameters": {
                        "startInstancesAfterDuration": duration,
                        "completeIfInstancesTerminated": "true",
                    },
                    "targets": {"Instances": "ASG-EC2-Instances"},
                },
                "Pause-ASG-Scaling": {
                    "actionId": "aws:ec2:asg-insufficient-instance-capacity-error",
                    "parameters": {
                        "availabilityZoneIdentifiers": zone,
                        "duration": duration,
                        "percentage": "100",
                    },
                    "targets": {"AutoScalingGroups": "ASG"},
                },
                "Pause-Network-Connectivity": {
                    "actionId": "aws:network:disrupt-connectivity",
                    "parameters": {"duration": "PT2M", "scope": "all"},
                    "targets": {"Subnets": "Subnet"},
                },
                "Failover-RDS": {
                    "actionId": "aws:rds:failover-db-cluster",
                    "parameters": {},
                    "targets": {"Clusters": "RDS-Cluster"},
                },
                "Pause-ElastiCache": {
                    "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                    "parameters": {"duration": duration},
                    "targets": {"ReplicationGroups": "ElastiCache-Cluster"},
                },
            },
            "experimentOptions": {
                "accountTargeting": "single-account",
                "emptyTargetResolutionMode": "skip",
            },
            "tags": {"Name": f"az-power-interruption-{zone}", "chaos-drill": "zone-loss"},
        }

    def inject(self) -> None:
        template = self.facts.get("template")
        if not template:
            created = self.aws(
                "fis", "create_experiment_template", **self.template_request(self.facts["zone"])
            )
            template = self.known(created.get("experimentTemplate", {}).get("id"), "<template-id>")
            self.facts["template"] = template
            self.facts["template_created"] = True
        started = self.aws(
            "fis",
            "start_experiment",
            clientToken=self.ctx.token(),
            experimentTemplateId=template,
            tags={"chaos-drill": "zone-loss", "zone": self.facts["zone"]},
        )
        self.facts["experiment"] = self.known(
            started.get("experiment", {}).get("id"), "<experiment-id>"
        )

    def experiment_status(self) -> str | None:
        got = self.aws("fis", "get_experiment", id=self.facts["experiment"])
        state = got.get("experiment", {}).get("state", {})
        status = state.get("status")
        if status in FIS_TERMINAL_FAILURES:
            self.facts["experiment_status"] = status
            raise NotRecovered(f"FIS experiment ended {status}: {state.get('reason', '')}")
        return status

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)

        def completed() -> bool:
            return self.experiment_status() == "completed"

        self.poll(f"FIS experiment {self.facts['experiment']} is 'completed'", completed)
        self.facts["experiment_status"] = "completed"
        self.wait_cluster_available()
        rg = self.out.redis_replication_group_id
        self.poll(
            f"replication group {rg} is 'available'",
            lambda: self.describe_group().get("Status") == "available",
        )
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        experiment = self.facts.get("experiment")
        if experiment and self.facts.get("experiment_status") not in (
            "completed",
            *FIS_TERMINAL_FAILURES,
        ):
            self.aws("fis", "stop_experiment", id=experiment)
            self.notes.append(f"stopped FIS experiment {experiment} (stopped instances restart)")
        if self.facts.get("template_created"):
            self.aws("fis", "delete_experiment_template", id=self.facts["template"])


def iso_duration_s(value: str) -> float:
    """Seconds in an ISO 8601 duration like PT10M, PT1H30M, PT90S."""
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", value)
    if not m or not any(m.groups()):
        raise ValueError(f"not an ISO 8601 duration like PT10M: {value!r}")
    h, mi, s = (int(g or 0) for g in m.groups())
    return float(h * 3600 + mi * 60 + s)


# -- Region-level: Aurora Global Database, Route 53 --------------------------------------
class GlobalDbScenario(AuroraMixin):
    default_timeout_s = 1800.0
    api_region_attr: ClassVar[str] = "primary_region"

    @property
    def api_region(self) -> str:
        return str(getattr(self.out, self.api_region_attr))

    def describe_global(self, region: str | None = None) -> dict[str, Any]:
        r = self.aws(
            "rds",
            "describe_global_clusters",
            region or self.api_region,
            GlobalClusterIdentifier=self.out.global_cluster_id,
        )
        return first(r.get("GlobalClusters"))

    @staticmethod
    def global_writer(g: dict[str, Any]) -> str | None:
        for m in g.get("GlobalClusterMembers", []):
            if m.get("IsWriter"):
                return str(m["DBClusterArn"])
        return None

    def pre_check(self) -> None:
        super().pre_check()
        gid = self.out.global_cluster_id
        g = self.describe_global()
        self.require(
            g.get("Status") == "available",
            f"global cluster {gid} is {g.get('Status')!r}, not 'available'",
        )
        writer = self.global_writer(g)
        self.require(
            writer == self.out.primary_cluster_arn,
            f"the global writer is {writer}, not primaryClusterArn: the database already runs "
            "in another region; fail back first (runbooks/regional-failover.md)",
        )
        members = {m.get("DBClusterArn") for m in g.get("GlobalClusterMembers", [])}
        self.require(
            self.out.standby_cluster_arn in members,
            f"standbyClusterArn is not a member of global cluster {gid}",
        )
        standby = self.describe_cluster(self.out.standby_cluster_id, self.out.standby_region)
        self.require(
            standby.get("Status") == "available",
            f"standby cluster {self.out.standby_cluster_id} is {standby.get('Status')!r}",
        )
        self.facts["global_writer_before"] = self.known(writer, self.out.primary_cluster_arn)

    def wait_writer(self, arn: str, region: str) -> None:
        def moved() -> bool:
            g = self.describe_global(region)
            return g.get("Status") == "available" and self.global_writer(g) == arn

        self.poll(f"the global writer is {arn} and the global cluster 'available'", moved)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        self.wait_writer(self.out.standby_cluster_arn, self.out.standby_region)
        self.facts["global_writer_after"] = self.out.standby_cluster_arn
        self.wait_endpoint_ready()

    def switch_back(self) -> None:
        """Planned switchover back to the primary region, waiting until it completes."""
        self.start_deadline(None)
        self.aws(
            "rds",
            "switchover_global_cluster",
            self.out.standby_region,
            GlobalClusterIdentifier=self.out.global_cluster_id,
            TargetDbClusterIdentifier=self.out.primary_cluster_arn,
        )
        self.wait_writer(self.out.primary_cluster_arn, self.out.standby_region)
        self.notes.append("switched the global writer back to primaryClusterArn")


class RegionSwitchover(GlobalDbScenario):
    name = "region-switchover"
    title = "Planned region switch of the Aurora Global Database"
    hypothesis = (
        "A planned switchover moves the writer to the standby region without data loss; "
        "the standby region serves writes after the switch."
    )
    aws_fault = "rds.switchover_global_cluster to standbyClusterArn (planned, no data loss)"

    def inject(self) -> None:
        self.aws(
            "rds",
            "switchover_global_cluster",
            GlobalClusterIdentifier=self.out.global_cluster_id,
            TargetDbClusterIdentifier=self.out.standby_cluster_arn,
        )

    def rollback(self) -> None:
        if self.ctx.options.switch_back:
            self.switch_back()
        else:
            self.notes.append(
                "the writer stays in the standby region; rerun with --switch-back or follow "
                "runbooks/regional-failover.md (failback) to return"
            )


class RegionFailover(GlobalDbScenario):
    name = "region-failover"
    title = "Unplanned region failover of the Aurora Global Database (data loss allowed)"
    hypothesis = (
        "Promoting the standby cluster restores writes in the standby region; writes not yet "
        "replicated when the primary region 'failed' may be lost (RPO = replication lag)."
    )
    aws_fault = (
        "rds.failover_global_cluster to standbyClusterArn with AllowDataLoss=true, "
        "called in the standby region"
    )
    api_region_attr = "standby_region"

    def refusal(self) -> str | None:
        if self.ctx.options.allow_data_loss:
            return None
        return (
            "refused: region-failover calls rds.failover_global_cluster with "
            "AllowDataLoss=true, which discards writes not yet replicated to the standby "
            "region. Use --scenario region-switchover for a planned, lossless region switch, "
            "or pass --allow-data-loss to accept the loss."
        )

    def inject(self) -> None:
        self.aws(
            "rds",
            "failover_global_cluster",
            self.out.standby_region,
            GlobalClusterIdentifier=self.out.global_cluster_id,
            TargetDbClusterIdentifier=self.out.standby_cluster_arn,
            AllowDataLoss=True,
        )

    def rollback(self) -> None:
        if not self.ctx.options.switch_back:
            self.notes.append(
                "the writer stays in the standby region; once the former primary cluster has "
                "rejoined as a secondary, fail back with a switchover "
                "(runbooks/regional-failover.md)"
            )
            return
        self.start_deadline(None)
        primary = self.out.primary_cluster_arn

        def rejoined() -> bool:
            g = self.describe_global(self.out.standby_region)
            members = {
                m.get("DBClusterArn"): m.get("IsWriter") for m in g.get("GlobalClusterMembers", [])
            }
            return g.get("Status") == "available" and members.get(primary) is False

        self.poll("the former primary cluster is a secondary member again", rejoined)
        self.switch_back()


class DnsFailover(AwsScenario):
    name = "dns-failover"
    title = "Route 53 failover to the standby region (health-check inversion)"
    hypothesis = (
        "When the primary's health check fails, Route 53 answers with the standby region's "
        "endpoint and the public endpoint keeps answering."
    )
    aws_fault = "route53.update_health_check(Inverted=True) on primaryHealthCheckId, then back"
    default_timeout_s = 600.0

    def checker_status(self, health_check_id: str) -> bool | None:
        """True when most Route 53 checkers report success (only for non-inverted checks)."""
        r = self.aws(
            "route53", "get_health_check_status", ROUTE53_REGION, HealthCheckId=health_check_id
        )
        obs = r.get("HealthCheckObservations", [])
        if not obs:
            return None
        statuses = [o.get("StatusReport", {}).get("Status", "") for o in obs]
        ok = sum(1 for s in statuses if s.startswith("Success"))
        return ok * 2 > len(obs)

    def route53_status(self, health_check_id: str) -> float | None:
        """Latest `AWS/Route53 HealthCheckStatus` minimum (1 healthy, 0 unhealthy)."""
        now = self.ctx.calls.clock.now()
        r = self.aws(
            "cloudwatch",
            "get_metric_statistics",
            ROUTE53_REGION,
            Namespace="AWS/Route53",
            MetricName="HealthCheckStatus",
            Dimensions=[{"Name": "HealthCheckId", "Value": health_check_id}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
            Period=60,
            Statistics=["Minimum"],
        )
        points = r.get("Datapoints", [])
        if not points:
            return None
        latest = max(points, key=lambda p: p.get("Timestamp") or datetime.min)
        value = latest.get("Minimum")
        return float(value) if value is not None else None

    def pre_check(self) -> None:
        super().pre_check()
        primary = self.out.primary_health_check_id
        got = self.aws("route53", "get_health_check", ROUTE53_REGION, HealthCheckId=primary)
        hc = got.get("HealthCheck", {})
        inverted = hc.get("HealthCheckConfig", {}).get("Inverted")
        self.require(
            not inverted,
            f"health check {primary} is already inverted: a previous drill did not roll back",
        )
        self.facts["health_check_version"] = hc.get("HealthCheckVersion")
        for hc_id, label in ((primary, "primary"), (self.out.standby_health_check_id, "standby")):
            healthy = self.checker_status(hc_id)
            self.require(healthy, f"the {label} health check {hc_id} is not healthy")

    def inject(self) -> None:
        params: dict[str, Any] = {"HealthCheckId": self.out.primary_health_check_id}
        if self.facts.get("health_check_version") is not None:
            params["HealthCheckVersion"] = self.facts["health_check_version"]
        params["Inverted"] = True
        self.aws("route53", "update_health_check", ROUTE53_REGION, **params)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        primary = self.out.primary_health_check_id
        self.poll(
            f"Route 53 reports {primary} unhealthy (HealthCheckStatus = 0)",
            lambda: self.route53_status(primary) == 0.0,
        )
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        primary = self.out.primary_health_check_id
        self.aws("route53", "update_health_check", ROUTE53_REGION, HealthCheckId=primary,
                 Inverted=False)
        self.start_deadline(self.default_timeout_s)
        self.poll(
            f"Route 53 reports {primary} healthy again (HealthCheckStatus = 1)",
            lambda: self.route53_status(primary) == 1.0,
        )
        self.notes.append(f"health check {primary} un-inverted and healthy again")


SCENARIOS: dict[str, type[AwsScenario]] = {
    cls.name: cls
    for cls in (
        DbFailover,
        DbLeaderNodeLoss,
        RedisPrimaryKill,
        RedisDown,
        ApiReplicaKill,
        QueueOutage,
        RelayKill,
        ZoneLoss,
        RegionSwitchover,
        RegionFailover,
        DnsFailover,
    )
}

# In-region scenarios that heal on their own; region-level ones run only when named.
STANDARD_SET: tuple[str, ...] = (
    "db-primary-kill",
    "db-leader-node-loss",
    "redis-primary-kill",
    "api-replica-kill",
    "relay-kill",
    "zone-loss",
)


def make_scenario(name: str, ctx: AwsContext) -> AwsScenario:
    try:
        cls = SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown AWS scenario {name!r}; known: {known}") from None
    return cls(ctx)
