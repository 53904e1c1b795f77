"""aws-kms-key-disallow-bypass-policy-lockout-safety-check

KMS keys must not bypass the key policy lockout safety check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


@resource_control(
    name="aws-kms-key-disallow-bypass-policy-lockout-safety-check",
    description="KMS keys must not bypass the key policy lockout safety check.",
    resource_types=(T.KMS_KEY,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL),
    remediation="Remove `bypass_policy_lockout_safety_check=True`.",
)
def lockout(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if P.as_bool(r.get("bypassPolicyLockoutSafetyCheck")):
        rep.violation("Key bypasses the policy lockout safety check.")
