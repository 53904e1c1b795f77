"""aws-ec2-instance-disallow-unencrypted-block-device

EC2 instance root and EBS block devices must be encrypted with a customer-managed key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.common import key_reference_problem
from ...checks.encryption import CATEGORY, PCI_STORED_DATA, SOC2_LOGICAL
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_aws, fsbp, resource_control


@resource_control(
    name="aws-ec2-instance-disallow-unencrypted-block-device",
    description=(
        "EC2 instance root and EBS block devices must be encrypted with a customer-managed key."
    ),
    resource_types=(T.EC2_INSTANCE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        PCI_STORED_DATA,
        SOC2_LOGICAL,
        cis_aws("2.2.1", "Ensure EBS Volume Encryption is Enabled in all Regions"),
        fsbp("EC2.3", "Attached Amazon EBS volumes should be encrypted at-rest"),
    ),
    remediation="Set `encrypted=True` and `kms_key_id` on the root and every EBS device.",
)
def instance_devices(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    devices = [("rootBlockDevice", r.get("rootBlockDevice") or {})]
    devices += [
        (f"ebsBlockDevices[{i}]", d) for i, d in enumerate(P.as_list(r.get("ebsBlockDevices")))
    ]
    for where, device in devices:
        encrypted = P.get(device, "encrypted")
        if P.is_unknown(encrypted):
            rep.skip(f"{where}.encrypted")
        if P.as_bool(encrypted) is not True:
            rep.violation(f"Block device {where} is not encrypted.")
        elif key_reference_problem(P.get(device, "kmsKeyId")):
            rep.violation(f"Block device {where} is not encrypted with a customer-managed key.")
