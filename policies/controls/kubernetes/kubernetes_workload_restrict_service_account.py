"""kubernetes-workload-restrict-service-account

Workloads must use a dedicated service account and not mount its API token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.pod_security import CATEGORY, spec_of
from ...framework import HIGH, MANDATORY, Reporter, Resource, cis_eks, resource_control, soc2


@resource_control(
    name="kubernetes-workload-restrict-service-account",
    description=(
        "Workloads must run under a dedicated service account (not `default`) and must not "
        "mount its Kubernetes API token (automountServiceAccountToken: false)."
    ),
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        cis_eks("4.1.5", "Ensure that default service accounts are not actively used"),
        cis_eks("4.1.6", "Ensure that Service Account Tokens are only mounted where necessary"),
        cis_eks("5.2.1", "Prefer using dedicated Amazon EKS Service Accounts"),
        soc2("CC6.3", "Access is authorized, modified or removed based on least privilege"),
    ),
    remediation=(
        "Set `serviceAccountName` to the workload's own account (IRSA for AWS access) and "
        "`automountServiceAccountToken: false`."
    ),
)
def service_account(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    account = P.get(spec, "serviceAccountName")
    if not P.is_unknown(account) and account in (None, "", "default"):
        rep.violation("Pods run under the default service account (serviceAccountName).")
    mount = P.get(spec, "automountServiceAccountToken")
    if P.is_unknown(mount):
        rep.skip("automountServiceAccountToken")
    if P.as_bool(mount) is not False:
        rep.violation("The API token is mounted (automountServiceAccountToken is not false).")
