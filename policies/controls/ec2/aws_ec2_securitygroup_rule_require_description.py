"""aws-ec2-securitygroup-rule-require-description

Every security group rule (inline ingress/egress, or a separate rule resource) must say why
it exists, so a reviewer can tell a needed opening from a forgotten one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_INBOUND
from ...framework import LOW, MANDATORY, Reporter, Resource, resource_control

_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def _described(rule: Any) -> bool | None:
    description = P.get(rule, "description")
    if P.is_unknown(description):
        return None
    return isinstance(description, str) and bool(description.strip())


@resource_control(
    name="aws-ec2-securitygroup-rule-require-description",
    description="Every security group ingress and egress rule must have a description.",
    resource_types=(
        T.SECURITY_GROUP,
        T.SECURITY_GROUP_RULE,
        T.SECURITY_GROUP_INGRESS_RULE,
        _EGRESS_RULE,
    ),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(PCI_INBOUND,),
    remediation="Set `description` on every ingress/egress rule: what may connect, and why.",
)
def rule_description(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type != T.SECURITY_GROUP:
        described = _described(r.props)
        if described is None:
            rep.skip("description")
        if not described:
            rep.violation("Security group rule has no description (description).")
        return
    for direction in ("ingress", "egress"):
        rules = r.get(direction)
        if P.is_unknown(rules):
            rep.skip(direction)
        for index, rule in enumerate(P.as_list(rules)):
            described = _described(rule)
            if described is None:
                rep.skip(f"{direction}[{index}].description")
            if not described:
                rep.violation(f"Security group {direction} rule {index} has no description.")
