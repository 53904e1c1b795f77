"""aws-ec2-ebs-disallow-unencrypted-volumes

EBS volumes, launch template block devices and node group disks must be encrypted with a
customer-managed KMS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem, require_true
from ...checks.encryption import (
    CATEGORY,
    PCI_STORED_DATA,
    SOC2_LOGICAL,
    require_customer_managed_key,
)
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-ec2-ebs-disallow-unencrypted-volumes",
    description="EBS volumes, launch template block devices and node group disks must be "
    "encrypted with a customer-managed KMS key.",
    resource_types=(
        T.LAUNCH_TEMPLATE,
        T.EBS_VOLUME,
        T.EKS_COMPONENT_MANAGED_NODE_GROUP,
        T.EKS_NODE_GROUP,
    ),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp(
            "AutoScaling.9", "Amazon EC2 Auto Scaling groups should use Amazon EC2 launch templates"
        ),
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.2.1", "Ensure EBS volume encryption is enabled in all regions"),
        fsbp("EC2.7", "EBS default encryption should be enabled"),
    ),
    remediation=(
        "Give every launch template a `block_device_mappings` entry for the root device with "
        "`ebs={encrypted: 'true', kms_key_id: <CMK ARN>}`, and make EKS managed node groups use "
        "such a launch template (`launch_template={id, version}`) instead of `disk_size`."
    ),
)
def ebs_encrypted(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    if r.type in (T.EKS_COMPONENT_MANAGED_NODE_GROUP, T.EKS_NODE_GROUP):
        template = r.get("launchTemplate")
        if template is None:
            rep.violation(
                "Node group does not use a launch template, so its node volumes are not encrypted "
                "with a customer-managed KMS key (launchTemplate is not set)."
            )
        return
    if r.type == T.EBS_VOLUME:
        require_true(r, rep, "encrypted", "EBS volume is not encrypted (encrypted is not true).")
        if rep.count == 0:
            require_customer_managed_key(r, rep, "kmsKeyId", "EBS volume", "ebs")
        return
    mappings = r.get("blockDeviceMappings")
    if P.is_unknown(mappings):
        rep.skip("blockDeviceMappings")
    ebs_mappings = [m for m in P.as_list(mappings) if P.get(m, "ebs") is not None]
    if not ebs_mappings:
        rep.violation(
            "Launch template defines no EBS block device mapping, so volumes are not encrypted "
            "with a customer-managed KMS key (blockDeviceMappings[].ebs is not set)."
        )
        return
    for mapping in ebs_mappings:
        _check_mapping(mapping, rep)


def _check_mapping(mapping: Any, rep: Reporter) -> None:
    device = P.get(mapping, "deviceName") or "?"
    encrypted = P.get(mapping, "ebs", "encrypted")
    if P.is_unknown(encrypted):
        rep.skip(f"blockDeviceMappings[{device}].ebs.encrypted")
    if not P.as_bool(encrypted):
        rep.violation(
            f"Launch template volume {device} is not encrypted (ebs.encrypted is not true)."
        )
    elif key_reference_problem(P.get(mapping, "ebs", "kmsKeyId")):
        rep.violation(
            f"Launch template volume {device} is not encrypted with a customer-managed KMS key "
            "(ebs.kmsKeyId is not set)."
        )
