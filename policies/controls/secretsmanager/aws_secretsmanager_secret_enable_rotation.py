"""aws-secretsmanager-secret-enable-rotation

Secrets Manager secrets should rotate automatically (a SecretRotation in the stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.encryption import PCI_KEYS
from ...checks.iam import CATEGORY
from ...framework import ADVISORY, MEDIUM, Reporter, fsbp, stack_control
from ...model import Stack


@stack_control(
    name="aws-secretsmanager-secret-enable-rotation",
    description="Secrets Manager secrets should rotate automatically (SecretRotation, <= 90 days).",
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=ADVISORY,
    frameworks=(
        fsbp("SecretsManager.1", "Secrets Manager secrets should have automatic rotation enabled"),
        fsbp(
            "SecretsManager.4",
            "Secrets Manager secrets should be rotated within a specified number of days",
        ),
        PCI_KEYS,
    ),
    remediation="Add an `aws.secretsmanager.SecretRotation` for the secret.",
    scope=(T.SECRETS_MANAGER_SECRET, T.SECRETS_MANAGER_ROTATION),
)
def rotation(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    rotated: set[int] = set()
    for rot in stack.of_type(T.SECRETS_MANAGER_ROTATION):
        days = P.as_number(rot.get("rotationRules", "automaticallyAfterDays"))
        if days is not None and days > 90:
            continue
        targets = stack.resolve(rot, "secretId", rot.get("secretId"), T.SECRETS_MANAGER_SECRET)
        if not targets and P.is_unknown(rot.get("secretId")):
            rep.skip(f"the secret of rotation '{rot.name}'")
        for secret in targets:
            rotated.add(id(secret))
    for secret in stack.of_type(T.SECRETS_MANAGER_SECRET):
        if id(secret) not in rotated:
            rep.violation(
                f"Secret '{secret.name}' has no automatic rotation of 90 days or less.", secret
            )
