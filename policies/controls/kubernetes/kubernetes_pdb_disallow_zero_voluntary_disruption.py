"""kubernetes-pdb-disallow-zero-voluntary-disruption

A PodDisruptionBudget must allow at least one voluntary disruption; one that allows none
blocks node drains and cluster upgrades forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_AVAILABILITY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, resource_control


def _is_zero(value: Any) -> bool:
    return value in (0, "0", "0%")


@resource_control(
    name="kubernetes-pdb-disallow-zero-voluntary-disruption",
    description="PodDisruptionBudgets must allow at least one voluntary disruption "
    "(maxUnavailable above 0, minAvailable below 100%).",
    resource_types=(T.K8S_PDB,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(SOC2_AVAILABILITY,),
    remediation=(
        "Use `maxUnavailable: 1` (or a percentage above 0); never `maxUnavailable: 0` or "
        "`minAvailable: 100%`."
    ),
)
def zero_disruption(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    max_unavailable = r.get("spec", "maxUnavailable")
    min_available = r.get("spec", "minAvailable")
    if P.is_unknown(max_unavailable) or P.is_unknown(min_available):
        rep.skip("spec.maxUnavailable")
    if _is_zero(max_unavailable):
        rep.violation("The PodDisruptionBudget allows no voluntary disruption (maxUnavailable 0).")
    elif min_available == "100%":
        rep.violation("The PodDisruptionBudget allows no voluntary disruption (minAvailable 100%).")
