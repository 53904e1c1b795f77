"""The service's image repository in each region: tags immutable, images scanned on push.

The primary region's repository replicates every push to the standby region's, so a
regional failover never pulls images across regions. The standby's repository exists
before replication does, so it gets the same settings (replication would otherwise
create it with mutable tags). Pods pull by digest (infra/workload/pods.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child

_ECR_URL = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<name>.+)$"
)


def repository_name(image_repository: str) -> str:
    match = _ECR_URL.match(image_repository)
    if match is None:
        raise ValueError(f"not an ECR repository URL: {image_repository}")
    return match["name"]


def regional_repository(image_repository: str, region: str) -> str:
    """The same repository in `region` (its replica), for that region's pods."""
    match = _ECR_URL.match(image_repository)
    if match is None:
        return image_repository
    return f"{match['account']}.dkr.ecr.{region}.amazonaws.com/{match['name']}"


@dataclass(frozen=True)
class RepositoryArgs:
    name: str
    account_id: pulumi.Input[str]
    replicate_to: str | None = None  # the standby region, set on the primary's repository


class ImageRepository(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: RepositoryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:ImageRepository", name, None, opts)
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            force_delete=False,
            opts=child(self, protect=True),
        )
        if args.replicate_to is not None:
            aws.ecr.ReplicationConfiguration(
                f"{name}-replication",
                replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(
                    rules=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                            destinations=[
                                aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                                    region=args.replicate_to, registry_id=args.account_id
                                )
                            ],
                            repository_filters=[
                                aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                    filter=args.name, filter_type="PREFIX_MATCH"
                                )
                            ],
                        )
                    ]
                ),
                opts=child(self),
            )
        self.register_outputs({"repositoryUrl": self.repository.repository_url})
