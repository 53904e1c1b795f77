"""Aurora in-region faults: writer failover, and failover to another zone."""

from __future__ import annotations

from typing import Any

from chaos.aws.scenarios.base import AwsScenario, first


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
    aws_fault = (
        "rds.failover_db_cluster with TargetDBInstanceIdentifier = a reader in another zone"
    )
    other_zone = True
