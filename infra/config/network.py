"""The VPC (subnet layout, endpoints, flow logs) and the public DNS name with its checks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from infra.config.reader import CLOUDWATCH_RETENTION_DAYS, Section

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DEFAULT_INTERFACE_ENDPOINTS = (
    "sqs",
    "sts",
    "kms",
    "logs",
    "monitoring",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "ec2",
    "elasticloadbalancing",
)


@dataclass(frozen=True)
class NetworkConfig:
    interface_endpoints: tuple[str, ...]
    flow_log_retention_days: int


@dataclass(frozen=True)
class DnsConfig:
    zone_name: str
    api_record: str
    health_check_path: str
    health_check_interval_seconds: int
    health_check_failure_threshold: int

    @property
    def api_fqdn(self) -> str:
        return f"{self.api_record}.{self.zone_name}"


def subnet_plan(vpc_cidr: str) -> dict[str, list[str]]:
    """Carve the VPC: three large private subnets (pods get VPC IPs), small public/data ones.

    The first three quarters become the private (node) subnets; the last quarter is cut
    into eighths of which three are public and three isolated (data).
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    small = list(quarters[3].subnets(prefixlen_diff=3))
    return {
        "private": [str(q) for q in quarters[:3]],
        "public": [str(s) for s in small[:3]],
        "isolated": [str(s) for s in small[3:6]],
    }


def read_network(s: Section) -> NetworkConfig:
    config = NetworkConfig(
        interface_endpoints=s.texts("interfaceEndpoints", list(DEFAULT_INTERFACE_ENDPOINTS)),
        flow_log_retention_days=s.integer("flowLogRetentionDays", 365),
    )
    s.reject_unknown()
    if config.flow_log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        s.problems.append(f"{s.path}.flowLogRetentionDays is not a CloudWatch retention value")
    return config


def read_dns(s: Section) -> DnsConfig:
    config = DnsConfig(
        zone_name=s.text("zoneName", "orders.example.com"),
        api_record=s.text("apiRecord", "api"),
        health_check_path=s.text("healthCheckPath", "/health/ready"),
        health_check_interval_seconds=s.integer("healthCheckIntervalSeconds", 10),
        health_check_failure_threshold=s.integer("healthCheckFailureThreshold", 3, lo=1, hi=10),
    )
    s.reject_unknown()
    if not HOSTNAME_RE.match(config.api_fqdn):
        s.problems.append(f"{s.path}: {config.api_fqdn!r} is not a valid host name")
    if config.health_check_interval_seconds not in (10, 30):
        s.problems.append(f"{s.path}.healthCheckIntervalSeconds must be 10 or 30")
    if not config.health_check_path.startswith("/"):
        s.problems.append(f"{s.path}.healthCheckPath must start with /")
    return config
