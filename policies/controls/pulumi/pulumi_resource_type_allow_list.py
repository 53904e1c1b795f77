"""pulumi-resource-type-allow-list

Fail closed: every resource must be of a type on the pack's reviewed allow-list, so a new
type cannot reach production without someone deciding which controls apply to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checks.allow_list import reviewed
from ...framework import (
    ANY_TYPE,
    CRITICAL,
    MANDATORY,
    Reporter,
    Resource,
    pci,
    resource_control,
    soc2,
)


@resource_control(
    name="pulumi-resource-type-allow-list",
    description=(
        "Every resource must be of a type on the pack's reviewed allow-list (the pack fails "
        "closed on types no control was reviewed for)."
    ),
    resource_types=(ANY_TYPE,),
    category="Change control",
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(
        soc2(
            "CC8.1", "Changes to infrastructure and software are authorized, tested and implemented"
        ),
        pci("12.5.1", "An inventory of system components in scope for PCI DSS is maintained"),
    ),
    remediation=(
        "Review the new type: add controls for its security settings (or record why none "
        "apply) and add it to policies/checks/allow_list.py in the same change."
    ),
)
def allow_list(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if not reviewed(r.type):
        rep.violation(f"Resource type {r.type} is not on the reviewed allow-list.")
