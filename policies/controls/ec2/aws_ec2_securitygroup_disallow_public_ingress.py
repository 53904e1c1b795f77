"""aws-ec2-securitygroup-disallow-public-ingress

Security groups must not allow ingress from the internet: 0.0.0.0/0, ::/0, a set of
ranges that together cover it, or a public range wider than /8.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.cidr import public_exposure
from ...checks.exposure import (
    CATEGORY,
    PCI_INBOUND,
    PCI_NO_DIRECT_ACCESS,
    SOC2_BOUNDARY,
    _rules,
)
from ...framework import (
    CRITICAL,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    cis_aws,
    fsbp,
    resource_control,
)


def _port_text(rule: Mapping[str, Any]) -> str | None:
    """'port 5432' / 'ports 1-65535', or None for all traffic."""
    protocol = str(rule["protocol"] if rule["protocol"] is not None else "-1").lower()
    low, high = P.as_number(rule["from"]), P.as_number(rule["to"])
    if protocol in {"-1", "all"} or low is None or high is None:
        return None
    return f"port {int(low)}" if low == high else f"port {int(low)}-{int(high)}"


def _ports(rule: Mapping[str, Any]) -> set[int] | None:
    low, high = P.as_number(rule["from"]), P.as_number(rule["to"])
    if _port_text(rule) is None or low is None or high is None or high - low >= 1024:
        return None
    return set(range(int(low), int(high) + 1))


# PostgreSQL, MySQL, Redis, Memcached, MongoDB, OpenSearch, MSSQL, Oracle, NFS, Redshift,
# SSH, RDP: a config that opens them to the internet voids the control, so it is refused.
NEVER_PUBLIC_PORTS = (5432, 3306, 6379, 11211, 27017, 9200, 1433, 1521, 2049, 5439, 22, 3389)


@resource_control(
    name="aws-ec2-securitygroup-disallow-public-ingress",
    description=(
        "Security groups must not allow ingress from the internet: 0.0.0.0/0, ::/0, any set "
        "of ranges that together cover it, or a public range wider than /8 (only ports "
        "explicitly allowed for internet-facing load balancers are exempt)."
    ),
    resource_types=(T.SECURITY_GROUP, T.SECURITY_GROUP_RULE, T.SECURITY_GROUP_INGRESS_RULE),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "EC2.19", "Security groups should not allow unrestricted access to ports with high risk"
        ),
        PCI_INBOUND,
        PCI_NO_DIRECT_ACCESS,
        SOC2_BOUNDARY,
        cis_aws(
            "5.2",
            "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server "
            "administration ports",
        ),
        cis_aws(
            "5.3",
            "Ensure no security groups allow ingress from ::/0 to remote server administration "
            "ports",
        ),
        fsbp(
            "EC2.18",
            "Security groups should only allow unrestricted incoming traffic for authorized ports",
        ),
    ),
    remediation=(
        "Replace the world CIDR with the source security group (e.g. the EKS node security "
        "group for PostgreSQL 5432 and Redis 6379) or the VPC CIDR."
    ),
    config=(
        ConfigOption(
            "allowedPublicPorts",
            {
                "type": "array",
                "items": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 65535,
                    # never data stores or remote administration (CIS AWS 5.2)
                    "not": {"enum": list(NEVER_PUBLIC_PORTS)},
                },
                "maxItems": 4,
                "default": [],
            },
            "Ports that may be open to the internet, e.g. [443] for a load balancer security "
            "group managed in the program (the AWS Load Balancer Controller manages its own).",
        ),
    ),
)
def sg_public_ingress(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    allowed = {int(port) for port in cfg["allowedPublicPorts"]}
    # Rules for the same ports are combined: two halves of the internet are the internet.
    by_ports: dict[tuple[str, Any, Any], list[Any]] = {}
    for rule in _rules(r):
        if any(P.is_unknown(c) for c in rule["cidrs"]):
            rep.skip("ingress CIDR blocks")
        key = (str(rule["protocol"]), rule["from"], rule["to"])
        by_ports.setdefault(key, []).extend(rule["cidrs"])
    for (protocol, low, high), cidrs in by_ports.items():
        rule = {"protocol": protocol, "from": low, "to": high}
        exposure = public_exposure(cidrs)
        if exposure is None:
            continue
        ports = _ports(rule)
        if ports is not None and ports <= allowed:
            continue
        what = _port_text(rule) or "all traffic"
        rep.violation(f"Security group allows {what} from {exposure}.")
