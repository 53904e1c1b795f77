"""The primary region and the warm standby: what differs between them, and its checks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from infra.config.reader import Section

REQUIRED_AZ_COUNT = 3
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


@dataclass(frozen=True)
class NodeGroupConfig:
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int


@dataclass(frozen=True)
class RegionConfig:
    """What differs between the primary region and the scaled-down warm standby."""

    role: str  # "primary" or "standby"
    region: str
    azs: tuple[str, ...]
    vpc_cidr: str
    node_group: NodeGroupConfig
    db_instance_class: str
    db_instances: int
    cache_node_type: str
    cache_nodes: int
    api_replicas: int
    api_max_replicas: int
    relay_replicas: int
    worker_min_replicas: int
    worker_max_replicas: int

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"


PRIMARY_DEFAULTS: dict[str, Any] = {
    "region": "eu-central-1",
    "vpcCidr": "10.10.0.0/16",
    "nodeGroup": {
        "instanceTypes": ["m6i.xlarge"],
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 9,
        "diskSizeGib": 50,
    },
    "dbInstanceClass": "db.r6g.large",
    "dbInstances": 3,
    "cacheNodeType": "cache.r6g.large",
    "cacheNodes": 3,
    "apiReplicas": 3,
    "apiMaxReplicas": 12,
    "relayReplicas": 2,
    "workerMinReplicas": 2,
    "workerMaxReplicas": 10,
}

STANDBY_DEFAULTS: dict[str, Any] = {
    "region": "eu-west-1",
    "vpcCidr": "10.20.0.0/16",
    "nodeGroup": {
        "instanceTypes": ["m6i.large"],
        "minSize": 2,
        "desiredSize": 2,
        "maxSize": 9,
        "diskSizeGib": 50,
    },
    "dbInstanceClass": "db.r6g.large",
    "dbInstances": 2,
    "cacheNodeType": "cache.r6g.large",
    "cacheNodes": 2,
    "apiReplicas": 1,
    "apiMaxReplicas": 12,
    "relayReplicas": 1,
    "workerMinReplicas": 1,
    "workerMaxReplicas": 10,
}

# Minimums per role: the primary must survive the loss of one AZ at full service; the
# standby only has to be warm (every tier present and able to scale out on failover).
MINIMUMS: dict[str, dict[str, int]] = {
    "primary": {"apiReplicas": 3, "relayReplicas": 2, "workerMinReplicas": 2, "nodeMin": 3},
    "standby": {"apiReplicas": 1, "relayReplicas": 1, "workerMinReplicas": 1, "nodeMin": 1},
}


def read_region(
    raw: dict[str, Any], role: str, defaults: dict[str, Any], path: str, problems: list[str]
) -> RegionConfig:
    s = Section({**defaults, **raw}, path, problems)
    minimums = MINIMUMS[role]
    region = s.text("region", defaults["region"])
    if not REGION_RE.match(region):
        problems.append(f"{path}.region {region!r} is not an AWS region name")
    azs = s.texts("azs", [f"{region}{suffix}" for suffix in "abc"])
    if len(azs) != REQUIRED_AZ_COUNT:
        problems.append(
            f"{path}.azs must list exactly {REQUIRED_AZ_COUNT} availability zones, got "
            f"{len(azs)} ({', '.join(azs) or 'none'})"
        )
    if len(set(azs)) != len(azs):
        problems.append(f"{path}.azs must be distinct, got {', '.join(azs)}")
    for az in azs:
        if not re.fullmatch(re.escape(region) + r"[a-z]", az):
            problems.append(f"{path}.azs: {az!r} is not an availability zone of {region}")

    vpc_cidr = s.text("vpcCidr", defaults["vpcCidr"])
    check_vpc_cidr(vpc_cidr, f"{path}.vpcCidr", problems)

    ng = s.section("nodeGroup", defaults["nodeGroup"])
    node_group = NodeGroupConfig(
        instance_types=ng.texts("instanceTypes", defaults["nodeGroup"]["instanceTypes"]),
        min_size=ng.integer("minSize", defaults["nodeGroup"]["minSize"], lo=minimums["nodeMin"]),
        desired_size=ng.integer("desiredSize", defaults["nodeGroup"]["desiredSize"], lo=1),
        max_size=ng.integer("maxSize", defaults["nodeGroup"]["maxSize"], lo=1, hi=100),
        disk_size_gib=ng.integer("diskSizeGib", defaults["nodeGroup"]["diskSizeGib"], lo=20),
    )
    ng.reject_unknown()
    if not node_group.instance_types:
        problems.append(f"{path}.nodeGroup.instanceTypes must not be empty")
    if not node_group.min_size <= node_group.desired_size <= node_group.max_size:
        problems.append(f"{path}.nodeGroup needs minSize <= desiredSize <= maxSize")

    config = RegionConfig(
        role=role,
        region=region,
        azs=azs,
        vpc_cidr=vpc_cidr,
        node_group=node_group,
        db_instance_class=s.text("dbInstanceClass", defaults["dbInstanceClass"]),
        # >= 2: a writer plus a reader in another AZ (primary); readers in 2 AZs (standby)
        db_instances=s.integer("dbInstances", defaults["dbInstances"], lo=2, hi=REQUIRED_AZ_COUNT),
        cache_node_type=s.text("cacheNodeType", defaults["cacheNodeType"]),
        # >= 2: automatic failover needs a replica in another AZ
        cache_nodes=s.integer("cacheNodes", defaults["cacheNodes"], lo=2, hi=6),
        api_replicas=s.integer("apiReplicas", defaults["apiReplicas"], lo=minimums["apiReplicas"]),
        api_max_replicas=s.integer("apiMaxReplicas", defaults["apiMaxReplicas"], lo=1),
        relay_replicas=s.integer(
            "relayReplicas", defaults["relayReplicas"], lo=minimums["relayReplicas"]
        ),
        worker_min_replicas=s.integer(
            "workerMinReplicas", defaults["workerMinReplicas"], lo=minimums["workerMinReplicas"]
        ),
        worker_max_replicas=s.integer("workerMaxReplicas", defaults["workerMaxReplicas"], lo=1),
    )
    s.reject_unknown()
    if config.api_max_replicas < config.api_replicas:
        problems.append(f"{path}.apiMaxReplicas must be >= apiReplicas")
    if config.worker_max_replicas < config.worker_min_replicas:
        problems.append(f"{path}.workerMaxReplicas must be >= workerMinReplicas")
    return config


def check_vpc_cidr(cidr: str, path: str, problems: list[str]) -> None:
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        problems.append(f"{path} {cidr!r} is not a valid CIDR block ({exc})")
        return
    if network.version != 4 or not network.is_private:
        problems.append(f"{path} {cidr} must be a private IPv4 range (RFC 1918)")
    # /16 is the largest VPC AWS allows; /19 still leaves /24 public and data subnets
    if not 16 <= network.prefixlen <= 19:
        problems.append(f"{path} {cidr} must have a prefix between /16 and /19")


def overlaps(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))
    except ValueError:
        return False  # reported by the CIDR check itself


def region_problems(
    aws_region: str | None, project: str, primary: RegionConfig, standby: RegionConfig,
    standby_enabled: bool,
) -> list[str]:
    problems: list[str] = []
    if aws_region is not None and aws_region != primary.region:
        problems.append(
            f"aws:region ({aws_region}) must equal {project}:primary.region ({primary.region}); "
            "it only steers resources that would miss their explicit provider"
        )
    if standby_enabled:
        if standby.region == primary.region:
            problems.append("the standby region must differ from the primary region")
        if overlaps(primary.vpc_cidr, standby.vpc_cidr):
            problems.append(
                f"primary and standby VPC CIDRs overlap ({primary.vpc_cidr}, {standby.vpc_cidr})"
            )
    return problems
