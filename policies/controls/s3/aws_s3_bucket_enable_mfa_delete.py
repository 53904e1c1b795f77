"""aws-s3-bucket-enable-mfa-delete

Versioned buckets must require MFA to delete object versions or change the versioning state.
MFA delete can only be turned on by the root user with its MFA device, so the program declares
it (``mfaDelete: Enabled``) once it is on; until then a waiver records the exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.s3 import CATEGORY, SOC2_RECOVERY
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, cis_aws, resource_control


@resource_control(
    name="aws-s3-bucket-enable-mfa-delete",
    description="Bucket versioning must have MFA delete enabled "
    "(versioningConfiguration.mfaDelete).",
    resource_types=(T.S3_VERSIONING,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(cis_aws("2.1.2", "Ensure MFA Delete is enabled on S3 buckets"), SOC2_RECOVERY),
    remediation=(
        "As the root user, enable MFA delete (`aws s3api put-bucket-versioning ... --mfa`), then "
        "declare `mfa_delete='Enabled'` and `mfa` on the `aws.s3.BucketVersioning`. Buckets "
        "protected by Object Lock in COMPLIANCE mode may be waived instead."
    ),
)
def mfa_delete(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    value = r.get("versioningConfiguration", "mfaDelete")
    if P.is_unknown(value):
        rep.skip("versioningConfiguration.mfaDelete")
    if value != "Enabled":
        rep.violation("MFA delete is not enabled (versioningConfiguration.mfaDelete).")
