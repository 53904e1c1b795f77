"""aws-ec2-instance-require-imdsv2

EC2 instances and launch templates must require IMDSv2 (httpTokens: required).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, SOC2_BOUNDARY
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-ec2-instance-require-imdsv2",
    description="EC2 instances and launch templates must require IMDSv2 (httpTokens required).",
    resource_types=(T.EC2_INSTANCE, T.LAUNCH_TEMPLATE),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_aws("5.6", "Ensure that EC2 Metadata Service only allows IMDSv2"),
        fsbp("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)"),
        fsbp("AutoScaling.3", "Auto Scaling group launch configurations should require IMDSv2"),
        SOC2_BOUNDARY,
    ),
    remediation="Set `metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}`.",
)
def imdsv2(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    options = r.get("metadataOptions")
    if P.is_unknown(options):
        rep.skip("metadataOptions")
    if P.get(options, "httpEndpoint") == "disabled":
        return  # no metadata service at all
    tokens = P.get(options, "httpTokens")
    if P.is_unknown(tokens):
        rep.skip("metadataOptions.httpTokens")
    if tokens != "required":
        rep.violation(f"IMDSv1 is allowed (metadataOptions.httpTokens is {tokens or 'not set'}).")
