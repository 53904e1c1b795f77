"""aws-ecr-repository-enable-image-scan

ECR repositories must scan images on push.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_MALWARE
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, fsbp, resource_control

CATEGORY = "Container images"


@resource_control(
    name="aws-ecr-repository-enable-image-scan",
    description="ECR repositories must scan images on push.",
    resource_types=(T.ECR_REPOSITORY,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("5.1.1", "Ensure Image Vulnerability Scanning using Amazon ECR image scanning"),
        fsbp("ECR.1", "ECR private repositories should have image scanning configured"),
        SOC2_MALWARE,
    ),
    remediation="Set `image_scanning_configuration={'scan_on_push': True}`.",
)
def scan(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    flag = r.get("imageScanningConfiguration", "scanOnPush")
    if P.is_unknown(flag):
        rep.skip("imageScanningConfiguration.scanOnPush")
    if P.as_bool(flag) is not True:
        rep.violation("Images are not scanned on push (imageScanningConfiguration.scanOnPush).")
