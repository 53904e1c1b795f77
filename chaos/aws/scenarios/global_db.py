"""Region-level faults of the Aurora Global Database: switchover and failover."""

from __future__ import annotations

from typing import Any, ClassVar

from chaos.aws.scenarios.aurora import AuroraMixin
from chaos.aws.scenarios.base import first


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
