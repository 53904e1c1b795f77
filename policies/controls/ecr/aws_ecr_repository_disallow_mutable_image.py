"""aws-ecr-repository-disallow-mutable-image

ECR repositories must make image tags immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_CHANGE
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control

CATEGORY = "Container images"


@resource_control(
    name="aws-ecr-repository-disallow-mutable-image",
    description="ECR repositories must make image tags immutable.",
    resource_types=(T.ECR_REPOSITORY,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ECR.2", "ECR private repositories should have tag immutability configured"),
        SOC2_CHANGE,
    ),
    remediation="Set `image_tag_mutability='IMMUTABLE'`.",
)
def immutable(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    mutability = r.get("imageTagMutability")
    if P.is_unknown(mutability):
        rep.skip("imageTagMutability")
    if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        rep.violation(f"Image tags are mutable (imageTagMutability is {mutability or 'MUTABLE'}).")
