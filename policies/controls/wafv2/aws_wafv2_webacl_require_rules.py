"""aws-wafv2-webacl-require-rules

WAF web ACLs must contain at least one rule or rule group, and record metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.exposure import CATEGORY, PCI_INBOUND
from ...framework import HIGH, MANDATORY, Reporter, Resource, fsbp, resource_control


@resource_control(
    name="aws-wafv2-webacl-require-rules",
    description="WAF web ACLs must contain at least one rule and record CloudWatch metrics.",
    resource_types=(T.WAF_WEB_ACL,),
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("WAF.10", "AWS WAF web ACLs should have at least one rule or rule group"),
        PCI_INBOUND,
    ),
    remediation="Add managed rule groups (e.g. AWSManagedRulesCommonRuleSet) to the web ACL.",
)
def webacl_rules(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    rules = r.get("rules")
    if P.is_unknown(rules):
        rep.skip("rules")
    if not P.as_list(rules) and not r.get("ruleJson"):
        rep.violation("Web ACL has no rules: it only applies its default action.")
    if P.as_bool(r.get("visibilityConfig", "cloudwatchMetricsEnabled")) is False:
        rep.violation("Web ACL does not record CloudWatch metrics.")
