"""ElastiCache Redis replication group: a primary and replicas in distinct AZs.

Automatic failover with Multi-AZ, TLS in transit, the CMK at rest and an AUTH token that
pulumi-random generates (it lives in the encrypted state, never in the repository).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.common import COMPONENT_PREFIX, child, client_only_security_group, name_tag
from infra.config import CacheConfig, RegionConfig
from infra.fis import AZ_IMPAIRMENT_TAG

PORT = 6379


@dataclass(frozen=True)
class CacheArgs:
    prefix: str
    region: RegionConfig
    settings: CacheConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_cidrs: Sequence[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class Cache(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Cache", name, None, opts)
        region, settings = args.region, args.settings
        self.replication_group_id = f"{args.prefix}-{region.role}"

        # ElastiCache AUTH tokens: 16-128 printable characters; alphanumerics avoid the
        # characters it forbids and any URL-escaping surprises in clients.
        token = random.RandomPassword(
            f"{name}-auth-token", length=64, special=False, opts=child(self)
        )
        self.auth_token = token.result

        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description=f"{self.replication_group_id}: isolated data subnets",
            opts=child(self),
        )
        security_group = client_only_security_group(
            f"{name}-sg",
            parent=self,
            vpc_id=args.vpc_id,
            port=PORT,
            client_cidrs=args.client_cidrs,
            description="Redis from the private (pod) subnets only",
            tag=f"{self.replication_group_id}-redis",
        )
        slow_log = aws.cloudwatch.LogGroup(
            f"{name}-slow-log",
            name=f"/{args.prefix}/{region.role}/redis/slow-log",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child(self),
        )
        # Spread the nodes over the AZs; the first one is the initial primary.
        azs = [region.azs[i % len(region.azs)] for i in range(region.cache_nodes)]
        self.member_cluster_ids = [
            f"{self.replication_group_id}-{i + 1:03d}" for i in range(region.cache_nodes)
        ]
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=self.replication_group_id,
            description=f"investment orders cache ({region.role})",
            engine="redis",
            engine_version=settings.engine_version,
            node_type=region.cache_node_type,
            port=PORT,
            num_cache_clusters=region.cache_nodes,
            preferred_cache_cluster_azs=azs,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.result,
            auth_token_update_strategy="ROTATE",  # noqa: S106 (a strategy, not a token)
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window=settings.snapshot_window,
            maintenance_window=settings.maintenance_window,
            final_snapshot_identifier=f"{self.replication_group_id}-final",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
            # the zone-loss drill interrupts this group's nodes in the chosen AZ
            tags={**name_tag(self.replication_group_id), AZ_IMPAIRMENT_TAG: "ElasticacheImpact"},
            opts=child(self),
        )
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.register_outputs(
            {"primaryEndpoint": self.primary_endpoint, "groupId": self.replication_group_id}
        )
