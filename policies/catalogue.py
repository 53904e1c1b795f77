"""The control catalogue as Markdown (the "Controls" section of policies/README.md).

Regenerate the README section with ``python -m policies catalogue``; a test keeps the two
identical.
"""

from __future__ import annotations

import json

from . import all_policies

SHORT = {
    "PCI DSS": "PCI DSS",
    "SOC 2 Trust Services Criteria": "SOC 2",
    "CIS AWS Foundations Benchmark": "CIS AWS",
    "CIS Amazon EKS Benchmark": "CIS EKS",
    "AWS Foundational Security Best Practices": "AWS FSBP",
}


def markdown_catalogue() -> str:
    lines: list[str] = []
    category = None
    policies = all_policies()
    for policy in policies:
        meta = policy.meta
        if meta.category != category:
            category = meta.category
            lines += ["", f"### {category}", ""]
            lines += ["| Control | What it checks | Severity | Enforcement | Requirements |"]
            lines += ["|---|---|---|---|---|"]
        refs = ", ".join(f"{SHORT[r.framework.title]} {r.control_id}" for r in meta.frameworks)
        kind = " (stack)" if meta.kind == "stack" else ""
        lines.append(
            f"| `{policy.name}`{kind} | {policy.description} | {meta.severity.value} | "
            f"{meta.enforcement.value} | {refs} |"
        )
    lines += ["", "### Thresholds (policy config)", ""]
    lines += ["| Control | Setting | Default | Meaning |", "|---|---|---|---|"]
    for policy in policies:
        for option in policy.meta.config:
            lines.append(
                f"| `{policy.name}` | `{option.name}` | `{json.dumps(option.default)}` | "
                f"{option.description} |"
            )
    return "\n".join(lines).strip() + "\n"
