"""aws-s3-bucket-disallow-public-acl

S3 buckets must not grant public or authenticated-users access through a canned ACL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import types as T
from ...checks.s3 import CATEGORY, FSBP_PUBLIC_READ, FSBP_PUBLIC_WRITE, SOC2_BOUNDARY
from ...framework import CRITICAL, MANDATORY, Reporter, Resource, resource_control

PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")


@resource_control(
    name="aws-s3-bucket-disallow-public-acl",
    description=(
        "S3 buckets must not use a public-read, public-read-write or authenticated-read ACL."
    ),
    resource_types=(T.S3_BUCKET,),
    category=CATEGORY,
    severity=CRITICAL,
    enforcement=MANDATORY,
    frameworks=(FSBP_PUBLIC_READ, FSBP_PUBLIC_WRITE, SOC2_BOUNDARY),
    remediation="Remove the `acl`; grant access through IAM and the bucket policy instead.",
)
def public_acl(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    acl = r.get("acl")
    if acl in PUBLIC_ACLS:
        rep.violation(f"Bucket ACL is {acl}.")
