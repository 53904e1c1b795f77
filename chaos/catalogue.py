"""The scenario catalogue: every drill scenario, declared once.

Each entry names the scenario, its steady-state hypothesis (the SLO unless it states its
own thresholds), its method and rollback in words, its runbook, its local implementation
(a `LocalMethod` over the drill `Target`), its AWS implementation (an `AwsScenario` class)
or the reason it has none, whether it belongs to the standard and CI sets, and the alerts
it is expected to fire. Both CLIs (`python -m chaos drill`, `--target aws`), the runbook
timings tool and the README tables (`python -m chaos.tables`) are derived from it.

Adding a scenario: an entry here, a runbook in `runbooks/`, and a fault primitive in
`chaos/drill/methods.py` (or an AWS class in `chaos/aws/scenarios/`) if none fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaos.aws import scenarios as aws
from chaos.drill import methods as local

if TYPE_CHECKING:
    from chaos.aws.scenarios import AwsContext, AwsScenario

# The alert names the drill may expect (the SLO rules declare them; fixed by agreement).
ALERT_NAMES: frozenset[str] = frozenset({
    "OrdersAvailabilityBudgetBurn", "OrdersLatencyBudgetBurn", "OrdersErrorBudgetBurn",
    "DatabasePrimaryUnavailable", "DatabaseReplicationLagHigh", "RedisDegraded",
    "OutboxBacklogHigh", "OrdersPendingAgeHigh", "QueueMessageAgeHigh",
    "DeadLetterQueueNotEmpty", "AuditIntegratorLagHigh", "AuditCheckpointStale",
    "OrdersFailedRateHigh", "DuplicateOrderAttemptsSpike", "OrderVolumeAnomalous",
    "ScrapeTargetDown",
})


@dataclass(frozen=True)
class Hypothesis:
    """The steady-state hypothesis: `expectation` in words, probed against the SLO
    (availability >= minimum, P99 < bound) unless the scenario sets its own thresholds."""

    expectation: str
    availability_min: float | None = None  # None: the run's SLO (--slo-availability)
    p99_ms_max: float | None = None  # None: the run's SLO (--slo-p99-ms)


@dataclass(frozen=True)
class ExpectedAlerts:
    names: tuple[str, ...]
    why: str  # one line: why these (or none) should fire during the drill


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    hypothesis: Hypothesis
    method: str  # the fault, in one sentence (local stack)
    rollback: str  # what the rollback undoes, in one sentence
    runbook: str  # runbooks/<runbook>.md
    local: local.LocalMethod | None
    aws: type[AwsScenario] | None
    expected_alerts: ExpectedAlerts
    no_local: str = ""  # why there is no local implementation (when `local` is None)
    no_aws: str = ""  # why there is no AWS implementation (when `aws` is None)
    standard: bool = False  # in `make drill` (on AWS: when it has an AWS implementation)
    ci: bool = False  # run end to end in CI
    also_in_runbooks: tuple[str, ...] = ()  # other runbooks quoting its drill figures

    @property
    def description(self) -> str:
        return f"{self.title}. Method: {self.method} Expected: {self.hypothesis.expectation}"

    def aws_scenario(self, ctx: AwsContext) -> AwsScenario:
        """The AWS implementation bound to `ctx` (an `Unsupported` one saying why not)."""
        if self.aws is None:
            return aws.Unsupported(ctx, self.name, self.title, self.hypothesis.expectation,
                                   self.no_aws)
        return self.aws(ctx, self.name, self.title, self.hypothesis.expectation)


_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "db-primary-kill", "PostgreSQL primary crash",
        Hypothesis(
            "The database fails over to the synchronous standby within seconds (Patroni "
            "locally, Aurora on AWS in ~35 s); the API answers 503 + Retry-After meanwhile; "
            "in-doubt commits resolve through same-key retries; no acknowledged order is lost "
            "or duplicated."
        ),
        "SIGKILL the leader's postmaster (Patroni keeps running).",
        "Patroni rejoins the node by itself; wait until steady.",
        "db-primary-kill",
        local.LocalMethod(local.kill_db_primary, rollback=local.rollback_all),
        aws.DbFailover,
        ExpectedAlerts(("DatabasePrimaryUnavailable",),
                       "no primary for the seconds until Patroni promotes the standby "
                       "(`for: 1s`); the fast burn needs > 0.72 % 503s over a minute, which a "
                       "2 s failover with backing-off clients does not reach (8 in 1,314)"),
        standard=True, ci=True, also_in_runbooks=("database-failover",),
    ),
    Scenario(
        "db-leader-node-loss", "PostgreSQL leader node loss",
        Hypothesis(
            "The leader key expires (ttl 10 s) and a replica in another zone is promoted; "
            "nothing acknowledged is lost (synchronous replication); the node rejoins as a "
            "replica on restart."
        ),
        "SIGKILL the leader's Patroni and its postmaster together.",
        "Start the node's Patroni (it rejoins as a replica).",
        "db-leader-node-loss",
        local.LocalMethod(local.kill_db_leader_node, rollback=local.rollback_all),
        aws.DbLeaderNodeLoss,
        ExpectedAlerts(("DatabasePrimaryUnavailable", "OrdersAvailabilityBudgetBurn",
                        "ScrapeTargetDown"),
                       "about 10 s without a primary: writes fail for the whole window (every "
                       "replica goes unready, so the 503s are the edge's own: the "
                       "availability SLI counts them); the node's Patroni target is down "
                       "until the rollback (`for: 2s`)"),
        standard=True, also_in_runbooks=("database-failover",),
    ),
    Scenario(
        "redis-primary-kill", "Redis primary crash",
        Hypothesis(
            "A replica is promoted (Sentinel locally in ~2-3 s, ElastiCache Multi-AZ on AWS); "
            "orders keep being accepted through the database path meanwhile (Redis is never "
            "the source of truth; rate limiting fails open)."
        ),
        "SIGKILL the Redis primary; it is restarted only in the rollback.",
        "Start it (as a replica of the promoted one).",
        "redis-primary-kill",
        local.LocalMethod(local.kill_redis_primary, rollback=local.rollback_all),
        aws.RedisPrimaryKill,
        ExpectedAlerts((), "Sentinel fails over in 2-3 s; Redis is not scraped and orders "
                           "keep flowing, so no rule is sure to fire (nothing may page before "
                           "the fault either)"),
        standard=True, ci=True, also_in_runbooks=("redis-failover",),
    ),
    Scenario(
        "redis-down", "All Redis gone",
        Hypothesis(
            "Orders are still accepted and correct (rate limiting fails open); the service "
            "uses Redis again once it is back."
        ),
        "SIGKILL every Redis data node (primary and replica) for 30 s, then start them.",
        "Started after the hold (Sentinels stay).",
        "redis-down",
        local.LocalMethod(local.kill_all_redis, hold_s=30.0, restore=local.restart_killed,
                          rollback=local.rollback_all),
        None,
        ExpectedAlerts(("RedisDegraded",),
                       "redis_degraded is 1 on every API replica for the 30 s hold, far "
                       "longer than the drill `for: 2s`"),
        no_aws=(
            "ElastiCache has no API to stop a replication group for a while (only delete it), "
            "and blocking it by security group would also cut the standby's replication. "
            "Not injected on AWS; drill it locally (make drill SCENARIO=redis-down). "
            "redis-primary-kill exercises the AWS-side Redis failover."
        ),
        standard=True, also_in_runbooks=("redis-failover",),
    ),
    Scenario(
        "api-replica-kill", "API replica crash",
        Hypothesis(
            "The load balancer drops the replica (HAProxy's health check within ~1 s); "
            "in-flight requests fail and are retried with the same key on the other replicas."
        ),
        "SIGKILL one of the three API replicas (on AWS: every API pod of one zone).",
        "Start it.",
        "api-replica-kill",
        local.LocalMethod(local.kill_one("api"), rollback=local.rollback_all),
        aws.ApiReplicaKill,
        ExpectedAlerts(("ScrapeTargetDown",),
                       "the killed replica's orders-api target is down until the rollback, "
                       "35 s later (`for: 2s`); the few failed in-flight requests do not "
                       "reliably burn the budget"),
        standard=True,
    ),
    Scenario(
        "queue-outage", "SQS endpoint outage",
        Hypothesis("Orders are still accepted (the outbox holds them); the backlog drains "
                   "after the queue returns."),
        "Freeze the SQS endpoint (SIGSTOP) for 30 s, then thaw it (SIGCONT): it is "
        "unreachable but keeps its messages, as SQS would (killing the local endpoint would "
        "wipe its in-memory queues, which is no SQS failure mode).",
        "SIGCONT after the hold.",
        "queue-outage",
        local.LocalMethod(local.freeze_queue, hold_s=30.0, restore=local.thaw_frozen,
                          rollback=local.rollback_all),
        None,
        ExpectedAlerts(("OutboxBacklogHigh",),
                       "nothing is published for the 30 s hold: the oldest outbox row ages "
                       "past the drill's 5 s (`for: 5s`) about 10 s in; no 5xx, no burn"),
        no_aws=(
            "SQS offers no safe fault to inject: AWS FIS has no SQS action, and denying the "
            "queue by policy or VPC-endpoint policy is a production change, not a fault. "
            "Not injected on AWS; drill it locally (make drill SCENARIO=queue-outage) and "
            "watch outbox_backlog / ApproximateAgeOfOldestMessage in production "
            "(runbooks/queue-backlog.md)."
        ),
        standard=True, also_in_runbooks=("queue-backlog",),
    ),
    Scenario(
        "relay-kill", "Outbox relay crash",
        Hypothesis(
            "Another relay takes over; rows the dead relay claimed are published after their "
            "lease expires; nothing is published twice to the worker's effect."
        ),
        "SIGKILL one of the two relays, possibly mid-batch (on AWS: every relay pod).",
        "Start it.",
        "relay-kill",
        local.LocalMethod(local.kill_one("relay"), rollback=local.rollback_all),
        aws.RelayKill,
        ExpectedAlerts(("ScrapeTargetDown",),
                       "the killed relay's orders-relay target is down until the rollback, "
                       "35 s later (`for: 2s`); the other relay keeps the backlog short"),
        standard=True, also_in_runbooks=("queue-backlog",),
    ),
    Scenario(
        "zone-loss", "Zone loss",
        Hypothesis(
            "The other two zones carry on: PostgreSQL and Redis fail over, the load balancer "
            "routes to the surviving API replicas; the backlog drains after."
        ),
        "SIGKILL every component labelled with the PostgreSQL leader's zone (or --zone) "
        "together (its Patroni node, Redis/Sentinel, API replica, relay or worker there); "
        "on AWS the FIS AZ power interruption.",
        "Start them all.",
        "zone-loss",
        local.LocalMethod(local.kill_zone, rollback=local.rollback_all),
        aws.ZoneLoss,
        ExpectedAlerts(
            ("DatabasePrimaryUnavailable", "ScrapeTargetDown", "OrdersAvailabilityBudgetBurn"),
            "the leader's zone dies: ~10 s without a primary, its targets down until rollback",
        ),
        standard=True,
    ),
    Scenario(
        "api-db-partition", "API replicas of one zone cut off from the database",
        Hypothesis(
            "Those replicas go unready (their database path fails) and the load balancer "
            "stops routing to them; the other replicas serve every order; nothing is lost."
        ),
        "Partition the API replicas of one zone (--zone, else one outside the PostgreSQL "
        "leader's zone) from their database path (HAProxy) for 30 s while every process "
        "keeps running.",
        "Heal the partition.",
        "api-db-partition",
        local.LocalMethod(local.partition_api_from_db, hold_s=30.0,
                          restore=local.heal_partitions, rollback=local.rollback_all),
        None,
        ExpectedAlerts((), "one replica unready, the others serve: no SLO burn, no target "
                           "down (the process still answers its scrape)"),
        standard=True,
        no_aws=(
            "not implemented on AWS yet: it needs a network ACL or security-group change "
            "scoped to one zone's API pods, which is a production change rather than a fault."
        ),
    ),
    Scenario(
        "zone-partition", "Zone partition",
        Hypothesis(
            "The cut-off zone's processes keep running but no split brain follows: at most "
            "one PostgreSQL primary and one Redis primary accept writes; nothing "
            "acknowledged is lost or duplicated; the zone rejoins after the heal."
        ),
        "Partition the PostgreSQL leader's zone (or --zone) from every other zone and from "
        "the shared components (etcd, HAProxy, the queue) for 30 s while its processes keep "
        "running.",
        "Heal the partitions.",
        "zone-partition",
        local.LocalMethod(local.partition_zone, hold_s=30.0, restore=local.heal_partitions,
                          rollback=local.rollback_all),
        None,
        ExpectedAlerts(("DatabasePrimaryUnavailable",),
                       "the leader is cut off from the quorum and a replica is promoted"),
        standard=True,
        no_aws=(
            "not implemented on AWS yet: FIS aws:network:disrupt-connectivity on one zone's "
            "subnets is the candidate primitive (it cuts the subnets off; whether it can "
            "spare the zone's own traffic is to be checked)."
        ),
    ),
    Scenario(
        "region-switchover", "Planned region switch of the Aurora Global Database",
        Hypothesis(
            "A planned switchover moves the writer to the standby region without data loss; "
            "the standby region serves writes after the switch."
        ),
        "rds.switchover_global_cluster to the standby cluster.",
        "With --switch-back, switch the global writer back; else runbooks/regional-failover.md.",
        "regional-failover",
        None,
        aws.RegionSwitchover,
        ExpectedAlerts((), "AWS only: the drill reads alerts from the local Prometheus"),
        no_local="the local stack has one region",
    ),
    Scenario(
        "region-failover",
        "Unplanned region failover of the Aurora Global Database (data loss allowed)",
        Hypothesis(
            "Promoting the standby cluster restores writes in the standby region; writes not "
            "yet replicated when the primary region 'failed' may be lost (RPO = replication "
            "lag)."
        ),
        "rds.failover_global_cluster with AllowDataLoss (refused without --allow-data-loss).",
        "With --switch-back, wait for the former primary to rejoin, then switch back.",
        "regional-failover",
        None,
        aws.RegionFailover,
        ExpectedAlerts((), "AWS only: the drill reads alerts from the local Prometheus"),
        no_local="the local stack has one region",
    ),
    Scenario(
        "dns-failover", "Route 53 failover to the standby region (health-check inversion)",
        Hypothesis(
            "When the primary's health check fails, Route 53 answers with the standby region's "
            "endpoint and the public endpoint keeps answering."
        ),
        "Invert the primary's Route 53 health check.",
        "Un-invert it and wait until Route 53 reports it healthy.",
        "regional-failover",
        None,
        aws.DnsFailover,
        ExpectedAlerts((), "AWS only: the drill reads alerts from the local Prometheus"),
        no_local="the local stack has no DNS failover",
    ),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _SCENARIOS}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


def standard(target: str) -> tuple[str, ...]:
    """The standard set on `target` ("local" or "aws"): standard and implemented there."""
    return tuple(s.name for s in _SCENARIOS if s.standard and implemented(s, target))


def ci_set() -> tuple[str, ...]:
    return tuple(s.name for s in _SCENARIOS if s.ci)


def implemented(scenario: Scenario, target: str) -> bool:
    return (scenario.local if target == "local" else scenario.aws) is not None


def names_for(target: str) -> tuple[str, ...]:
    """Every scenario that `--target` can name (AWS also names its unsupported ones, which
    are then reported as not supported, with the reason)."""
    if target == "aws":
        return tuple(s.name for s in _SCENARIOS if s.aws is not None or s.no_aws)
    return tuple(s.name for s in _SCENARIOS if s.local is not None)


def resolve(values: str | list[str] | None, target: str = "local") -> list[Scenario]:
    """`--scenario` values (repeatable, comma lists; `standard`, `ci`, `all`) -> scenarios.

    `all` means every scenario `target` implements. Unknown names, and names the target
    cannot run, raise ValueError with the reason.
    """
    if not values:
        return [SCENARIOS[n] for n in standard(target)]
    raw = [values] if isinstance(values, str) else list(values)
    groups = {"standard": standard(target), "ci": ci_set(), "all": names_for(target)}
    wanted: list[str] = []
    for name in (p.strip() for item in raw for p in item.split(",")):
        if name in groups:
            wanted.extend(groups[name])
        elif name:
            wanted.append(name)
    chosen = [get(n) for n in dict.fromkeys(wanted)]
    for scenario in chosen:
        if scenario.name not in names_for(target):
            raise ValueError(f"scenario {scenario.name!r} has no {target} implementation: "
                             f"{scenario.no_local or scenario.no_aws}")
    return chosen


def runbook_scenarios() -> dict[str, tuple[str, ...]]:
    """runbook -> the locally drilled scenarios whose figures it quotes, in catalogue order."""
    out: dict[str, list[str]] = {}
    for s in _SCENARIOS:
        if s.local is None:
            continue
        for runbook in (s.runbook, *s.also_in_runbooks):
            out.setdefault(runbook, []).append(s.name)
    return {k: tuple(v) for k, v in out.items()}
