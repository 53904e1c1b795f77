"""aws-kms-data-store-keys-managed-in-stack

Every data store's KMS key must be a customer-managed key created in this stack, in the data
store's region, with rotation on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.cross import KEY_REFERENCES, _key_references
from ...framework import HIGH, MANDATORY, Reporter, pci, soc2, stack_control
from ...model import Resource, Stack


@stack_control(
    name="aws-kms-data-store-keys-managed-in-stack",
    description="Every data store's KMS key must be a customer-managed key created in this stack, "
    "in the data store's region, with rotation on.",
    category="Encryption at rest",
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("3.6.1", "Cryptographic keys used to protect stored data are protected"),
        pci("3.7.4", "Cryptographic key changes at the end of the defined cryptoperiod"),
        soc2("CC6.1", "Logical access security over protected information assets"),
    ),
    scope=tuple(sorted({kind for kind, _, _ in KEY_REFERENCES} | {T.LAUNCH_TEMPLATE})),
    remediation=(
        "Create the key with `aws.kms.Key(enable_key_rotation=True)` (or an `aws.kms.ReplicaKey` "
        "of a multi-region key) in the same region as the data store, in this program, and pass "
        "its `.arn`. Keys managed elsewhere cannot be shown to have rotation and a reviewed key "
        "policy."
    ),
)
def keys_in_stack(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    for resource in stack:
        references = _key_references(resource)
        if not references:
            continue
        with rep.guard(resource):
            for prop, path, value in references:
                if key_reference_problem(value) == "missing":
                    continue
                if key_reference_problem(value) == "aws-managed":
                    continue  # reported by the resource's own CMK control
                keys = stack.resolve(resource, prop, value, T.KMS_KEY, T.KMS_REPLICA_KEY)
                if not keys:
                    if P.is_unknown(value):
                        rep.skip(f"the key behind {path} of {resource.label}")
                    rep.violation(
                        f"{resource.label} uses a KMS key that is not created in this stack "
                        f"({path} = {value}).",
                        resource,
                    )
                    continue
                _check_keys(resource, keys, path, rep)


def _check_keys(resource: Resource, keys: list[Resource], path: str, rep: Reporter) -> None:
    for key in keys:
        if key.region and resource.region and key.region != resource.region:
            rep.violation(
                f"{resource.label} in {resource.region} uses KMS key '{key.name}' from "
                f"{key.region} ({path}).",
                resource,
            )
        if key.type == T.KMS_KEY and P.as_bool(key.get("enableKeyRotation")) is not True:
            rep.violation(
                f"{resource.label} uses KMS key '{key.name}', which has rotation "
                f"disabled ({path}).",
                resource,
            )
