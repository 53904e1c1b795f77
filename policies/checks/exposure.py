"""Network exposure: public databases, world-open security groups, public EKS endpoints."""

from __future__ import annotations

from typing import Any

from .. import props as P
from .. import types as T
from ..framework import (
    Resource,
    pci,
    soc2,
)

CATEGORY = "Network exposure"

PCI_NO_DIRECT_ACCESS = pci(
    "1.4.4",
    "System components that store account data are not directly accessible from untrusted networks",
)
PCI_INBOUND = pci(
    "1.3.1", "Inbound traffic to the CDE is restricted to only that which is necessary"
)
SOC2_BOUNDARY = soc2(
    "CC6.6", "Logical access security measures against threats from outside system boundaries"
)


def _rules(r: Resource) -> list[dict[str, Any]]:
    """Ingress rules of any of the three shapes, normalised."""
    if r.type == T.SECURITY_GROUP:
        raw = [P.plain(rule) for rule in P.as_list(r.get("ingress"))]
        out = []
        for rule in raw:
            if not isinstance(rule, dict):
                continue
            out.append(
                {
                    "cidrs": [
                        *P.as_list(rule.get("cidrBlocks")),
                        *P.as_list(rule.get("ipv6CidrBlocks")),
                    ],
                    "protocol": rule.get("protocol"),
                    "from": rule.get("fromPort"),
                    "to": rule.get("toPort"),
                }
            )
        return out
    if r.type == T.SECURITY_GROUP_RULE:
        if r.get("type") != "ingress":
            return []
        return [
            {
                "cidrs": [*P.as_list(r.get("cidrBlocks")), *P.as_list(r.get("ipv6CidrBlocks"))],
                "protocol": r.get("protocol"),
                "from": r.get("fromPort"),
                "to": r.get("toPort"),
            }
        ]
    return [
        {
            "cidrs": [c for c in (r.get("cidrIpv4"), r.get("cidrIpv6")) if c is not None],
            "protocol": r.get("ipProtocol"),
            "from": r.get("fromPort"),
            "to": r.get("toPort"),
        }
    ]
