"""ElastiCache faults: test_failover of the replication group's primary."""

from __future__ import annotations

from typing import Any

from chaos.aws.scenarios.base import AwsScenario, first


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
