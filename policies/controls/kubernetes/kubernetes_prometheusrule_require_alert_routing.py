"""kubernetes-prometheusrule-require-alert-routing

Every alerting rule must carry a severity (page or ticket), a summary and a runbook URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...framework import MANDATORY, MEDIUM, Reporter, Resource, resource_control, soc2

CATEGORY = "Kubernetes workload"
SEVERITIES = ("page", "ticket")


@resource_control(
    name="kubernetes-prometheusrule-require-alert-routing",
    description=(
        "Every alerting rule must have a severity label (page or ticket) and summary and "
        "runbook_url annotations, so an alert reaches someone who knows what to do."
    ),
    resource_types=(T.K8S_PROMETHEUS_RULE,),
    category=CATEGORY,
    severity=MEDIUM,
    enforcement=MANDATORY,
    frameworks=(
        soc2("CC7.3", "Security events are evaluated to determine whether they are incidents"),
    ),
    remediation="Add `labels.severity` and `annotations.summary`/`runbook_url` to the rule.",
)
def alert_routing(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    groups = r.get("spec", "groups")
    if P.is_unknown(groups):
        rep.skip("spec.groups")
    for group in P.as_list(groups):
        for rule in P.as_list(P.get(group, "rules")):
            alert = P.get(rule, "alert")
            if not isinstance(alert, str):
                continue  # a recording rule
            if P.is_unknown(P.get(rule, "labels")) or P.is_unknown(P.get(rule, "annotations")):
                rep.skip(f"the labels of alert {alert}")
            if P.get(rule, "labels", "severity") not in SEVERITIES:
                rep.violation(f"Alert {alert} has no severity label of page or ticket.")
            for key in ("summary", "runbook_url"):
                if not P.get(rule, "annotations", key):
                    rep.violation(f"Alert {alert} has no {key} annotation.")
