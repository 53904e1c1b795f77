"""kubernetes-workload-recommended-labels

Workloads and Services must carry the Kubernetes recommended labels that identify the
application and the system it belongs to, so inventories, cost reports and incident tooling
can group them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import CATEGORY, SOC2_CHANGE
from ...framework import LOW, MANDATORY, Reporter, Resource, resource_control

# Of the recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/
# common-labels), the two every object of the program can state without churn.
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of")


@resource_control(
    name="kubernetes-workload-recommended-labels",
    description="Workloads and Services must set the recommended labels "
    "app.kubernetes.io/name and app.kubernetes.io/part-of.",
    resource_types=(*T.K8S_POD_WORKLOADS, T.K8S_SERVICE),
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(SOC2_CHANGE,),
    remediation="Add `app.kubernetes.io/name` and `app.kubernetes.io/part-of` to metadata.labels.",
)
def recommended_labels(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    labels = r.get("metadata", "labels")
    if P.is_unknown(labels):
        rep.skip("metadata.labels")
    missing = [key for key in REQUIRED_LABELS if P.get(labels, key) in (None, "")]
    if missing:
        rep.violation(f"Recommended labels are missing: {', '.join(missing)} (metadata.labels).")
