"""Investment-orders platform policy pack (Pulumi CrossGuard, Python).

Importing this package is side-effect free apart from registering the controls: it
never constructs the ``PolicyPack`` (that starts a gRPC server and blocks). The pack is
built by ``policies/__main__.py`` (``build_pack`` in ``policies.pack``) when the Pulumi
CLI runs the pack, and ``python -m policies evaluate ...`` evaluates the same controls
offline over a plan file, a stack export or recorded preview events.
"""

from __future__ import annotations

from pathlib import Path

from .framework import REGISTRY, Control

PACK_DIR = Path(__file__).resolve().parent
PACK_NAME = "investment-orders-controls"
CATEGORY_ORDER = (
    "Change control",
    "Encryption at rest",
    "Encryption in transit",
    "S3 storage",
    "Identity and access",
    "Network exposure",
    "Resilience",
    "Kubernetes pod security",
    "Kubernetes workload",
    "Container images",
)


def pack_version() -> str:
    """The version in PulumiPolicy.yaml (the version the Pulumi CLI reports)."""
    for line in (PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "version":
            return value.strip().strip("'\"")
    return "0.0.0"


def all_policies() -> list[Control]:
    """Every control of the pack, in report order."""
    from . import controls  # noqa: F401  (registers on import)

    def order(policy: Control) -> tuple[int, str, bool, str]:
        category = policy.meta.category
        rank = CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)
        return rank, category, policy.meta.kind == "stack", policy.name

    # by category, then resource controls before stack controls, then by name
    return sorted(REGISTRY, key=order)


__all__ = ["PACK_DIR", "PACK_NAME", "all_policies", "pack_version"]
