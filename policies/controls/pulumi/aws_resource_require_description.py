"""aws-resource-require-description

KMS keys, Secrets Manager secrets and security groups must say what they are for: reviewers
and responders decide from the description whether a key may be disabled, a secret rotated
or a group opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_CHANGE
from ...framework import LOW, MANDATORY, Reporter, Resource, resource_control

# The description pulumi-aws gives a security group that does not set one.
_PROVIDER_DEFAULT = "Managed by Pulumi"
_KINDS = {
    T.KMS_KEY: "KMS key",
    T.KMS_REPLICA_KEY: "KMS replica key",
    T.SECRETS_MANAGER_SECRET: "Secrets Manager secret",
    T.SECURITY_GROUP: "Security group",
}


@resource_control(
    name="aws-resource-require-description",
    description="KMS keys, Secrets Manager secrets and security groups must have a "
    "description (not the provider default).",
    resource_types=tuple(_KINDS),
    category="Change control",
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(SOC2_CHANGE,),
    remediation="Set `description` to what the resource protects or allows, and for whom.",
)
def require_description(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    description = r.get("description")
    if P.is_unknown(description):
        rep.skip("description")
    if not isinstance(description, str) or description.strip() in ("", _PROVIDER_DEFAULT):
        rep.violation(f"{_KINDS[r.type]} has no description (description).")
