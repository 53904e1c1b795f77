"""kubernetes-workload-restrict-volume-types

Pods may mount only the volume types the restricted profile allows (no hostPath).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import CATEGORY, PCI_HARDENING, RESTRICTED_VOLUME_TYPES, spec_of
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="kubernetes-workload-restrict-volume-types",
    description=(
        "Pods may only use configMap, csi, downwardAPI, emptyDir, ephemeral, "
        "persistentVolumeClaim, projected and secret volumes (no hostPath)."
    ),
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_HARDENING,),
    remediation="Replace hostPath and other node-level volumes with emptyDir or a PVC.",
)
def volume_types(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    volumes = P.get(spec, "volumes")
    if P.is_unknown(volumes):
        rep.skip("volumes")
    for index, volume in enumerate(P.as_list(volumes)):
        kinds = [key for key, _ in P.items(volume) if key != "name"]
        name = P.get(volume, "name") or f"volumes[{index}]"
        for kind in kinds:
            if kind not in RESTRICTED_VOLUME_TYPES:
                rep.violation(f"Volume '{name}' is of type {kind}.")
