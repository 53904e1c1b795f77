"""kubernetes-helm-release-pin-chart-version

Helm releases must pin the chart version and pull from an HTTPS (or OCI) repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import SOC2_CHANGE
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control

CATEGORY = "Kubernetes workload"


@resource_control(
    name="kubernetes-helm-release-pin-chart-version",
    description="Helm releases must pin the chart version and use an HTTPS or OCI repository.",
    resource_types=(T.K8S_HELM_RELEASE,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_CHANGE,),
    remediation="Set `version` to an exact chart version and `repository_opts.repo` to https://.",
)
def helm_pinned(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    version = r.get("version")
    if P.is_unknown(version):
        rep.skip("version")
    if not isinstance(version, str) or not version or any(c in version for c in "*^~><x"):
        rep.violation(f"Helm release does not pin an exact chart version (version is {version!r}).")
    repo = r.get("repositoryOpts", "repo")
    chart = r.get("chart")
    source = repo if isinstance(repo, str) and repo else chart
    if (
        isinstance(source, str)
        and "://" in source
        and not source.startswith(("https://", "oci://"))
    ):
        rep.violation(f"Helm chart is fetched over an insecure scheme ({source}).")
