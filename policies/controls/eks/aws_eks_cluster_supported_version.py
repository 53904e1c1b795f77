"""aws-eks-cluster-supported-version

EKS clusters must run a Kubernetes version that is in EKS standard support. The versions
and their end-of-standard-support dates are a reviewed list in the control's config; a
version not on the list fails (the pack cannot tell whether it is supported), and so does a
cluster that does not declare its version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ... import waivers as W
from ...checks.kubernetes import PCI_HARDENING
from ...checks.resilience import CATEGORY
from ...framework import HIGH, MANDATORY, ConfigOption, Reporter, Resource, fsbp, resource_control

# End of EKS standard support per minor version (14 months after the EKS release), from the
# Amazon EKS Kubernetes release calendar (docs.aws.amazon.com/eks/latest/userguide/
# kubernetes-versions.html), reviewed on LIST_REVIEWED. Add a version when EKS releases it.
LIST_REVIEWED = "2026-12-03"
_DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
STANDARD_SUPPORT_ENDS = {
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
    "1.35": "2027-03-27",
}


@resource_control(
    name="aws-eks-cluster-supported-version",
    description="EKS clusters must declare a Kubernetes version that is on the reviewed list "
    "and still in EKS standard support.",
    resource_types=(T.EKS_COMPONENT_CLUSTER, T.EKS_CLUSTER),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("EKS.2", "EKS clusters should run on a supported Kubernetes version"),
        PCI_HARDENING,
    ),
    remediation=(
        "Set `version` to a Kubernetes minor version in EKS standard support and upgrade before "
        "its end date; when EKS releases a version, add it with its date to the control's "
        "`standardSupportEnds` list (and update `listReviewedOn`)."
    ),
    config=(
        ConfigOption(
            "standardSupportEnds",
            {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": _DATE},
                "propertyNames": {"pattern": r"^1\.[0-9]+$"},
                "minProperties": 1,
                "default": STANDARD_SUPPORT_ENDS,
            },
            "Kubernetes minor versions EKS supports, each with the last day of its standard "
            "support (YYYY-MM-DD). A version not listed fails.",
        ),
        ConfigOption(
            "listReviewedOn",
            {"type": "string", "pattern": _DATE, "default": LIST_REVIEWED},
            "The day the version list was last checked against the EKS release calendar.",
        ),
    ),
)
def supported_version(r: Resource, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    version = r.get("version")
    if P.is_unknown(version):
        rep.skip("version")
    if not isinstance(version, str) or not version.strip():
        rep.violation("The Kubernetes version is not declared (version), so it cannot be checked.")
        return
    minor = ".".join(version.strip().split(".")[:2])
    ends = dict(cfg["standardSupportEnds"]).get(minor)
    reviewed = cfg["listReviewedOn"]
    if ends is None:
        rep.violation(
            f"Kubernetes {version} is not on the reviewed list of supported EKS versions "
            f"(reviewed on {reviewed})."
        )
    elif W.today() > dt.date.fromisoformat(str(ends)):
        rep.violation(f"EKS standard support for Kubernetes {minor} ended on {ends}.")
