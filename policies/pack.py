"""Construction of the CrossGuard ``PolicyPack``.

Kept apart from ``__main__`` so tests can build the pack with a stand-in for
``PolicyPack`` (the real constructor starts a gRPC server and blocks forever), and so
nothing that merely imports the policies starts a server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyPack

from . import PACK_NAME, all_policies

DESCRIPTION = (
    "Encryption at rest and in transit, resilience, exposure and Kubernetes workload "
    "controls for the investment-orders platform."
)


def pack_kwargs() -> dict[str, Any]:
    return {
        "name": PACK_NAME,
        "policies": all_policies(),
        "enforcement_level": EnforcementLevel.ADVISORY,  # each control sets its own level
        "description": DESCRIPTION,
        "display_name": "Investment-orders platform controls",
        "provider": "aws",
        "tags": ["pci-dss", "soc2", "cis-aws", "cis-eks", "aws-fsbp", "kubernetes"],
    }


def build_pack(factory: Callable[..., Any] = PolicyPack) -> Any:
    """Construct the pack. With the real ``PolicyPack`` this serves until killed."""
    return factory(**pack_kwargs())
