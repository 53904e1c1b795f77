"""aws-kms-key-enable-rotation

Customer-managed symmetric KMS keys must have automatic rotation enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import require_true
from ...checks.encryption import CATEGORY, SOC2_LOGICAL
from ...framework import (
    HIGH,
    MANDATORY,
    ConfigOption,
    Reporter,
    Resource,
    cis_aws,
    fsbp,
    pci,
    resource_control,
)


@resource_control(
    name="aws-kms-key-enable-rotation",
    description="Customer-managed symmetric KMS keys must have automatic rotation enabled.",
    resource_types=(T.KMS_KEY,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        pci("3.7.4", "Cryptographic key changes at the end of the defined cryptoperiod"),
        SOC2_LOGICAL,
        cis_aws("3.6", "Ensure rotation for customer-created symmetric CMKs is enabled"),
        fsbp("KMS.4", "AWS KMS key rotation should be enabled"),
    ),
    remediation=(
        "Set `enable_key_rotation=True` (optionally `rotation_period_in_days` no longer than the "
        "configured maximum) on the `aws.kms.Key`. Replica keys follow their primary key."
    ),
    config=(
        ConfigOption(
            "maxRotationPeriodDays",
            {"type": "integer", "minimum": 90, "maximum": 2560, "default": 365},
            "Longest allowed key rotation period, in days.",
        ),
    ),
)
def kms_rotation(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    spec = r.get("customerMasterKeySpec")
    usage = r.get("keyUsage")
    if (isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT") or (
        isinstance(usage, str) and usage != "ENCRYPT_DECRYPT"
    ):
        return  # asymmetric and HMAC keys cannot rotate automatically
    require_true(
        r,
        rep,
        "enableKeyRotation",
        "KMS key rotation is not enabled (enableKeyRotation is not true).",
    )
    period = P.as_number(r.get("rotationPeriodInDays"))
    maximum = int(cfg["maxRotationPeriodDays"])
    if rep.count == 0 and period is not None and period > maximum:
        rep.violation(
            f"KMS key rotation period is {int(period)} days; the maximum is {maximum} days."
        )
