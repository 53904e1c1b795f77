"""kubernetes-workload-approved-registries

Container images must come from an approved registry (the account's ECR by default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_MALWARE
from ...checks.pod_security import CATEGORY, each_container, spec_of
from ...framework import (
    HIGH,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    cis_eks,
    resource_control,
)

REGISTRIES = ConfigOption(
    "approvedRegistries",
    {
        "type": "array",
        "items": {"type": "string", "minLength": 3},
        "minItems": 1,
        "default": [r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/"],
    },
    "Regular expressions an image reference must match (default: a private ECR registry).",
)


@resource_control(
    name="kubernetes-workload-approved-registries",
    description="Container images must come from an approved registry (private ECR by default).",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("5.1.4", "Minimize Container Registries to only those approved"),
        SOC2_MALWARE,
    ),
    remediation="Push the image to the account's ECR (scanned, immutable) and reference it there.",
    config=(REGISTRIES,),
)
def registries(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    patterns = [re.compile(p) for p in cfg["approvedRegistries"]]
    for name, container, _context in each_container(spec, rep):
        image = P.get(container, "image")
        if P.is_unknown(image) or not isinstance(image, str):
            continue
        if not any(p.match(image) for p in patterns):
            rep.violation(f"Container '{name}' image {image} is not from an approved registry.")
