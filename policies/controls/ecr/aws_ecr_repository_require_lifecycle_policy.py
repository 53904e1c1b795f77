"""aws-ecr-repository-require-lifecycle-policy

Every ECR repository must have a lifecycle policy (old and untagged images expire).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...framework import LOW, MANDATORY, Reporter, fsbp, soc2, stack_control
from ...model import Stack
from .aws_ecr_repository_enable_image_scan import CATEGORY


@stack_control(
    name="aws-ecr-repository-require-lifecycle-policy",
    description="Every ECR repository must have a lifecycle policy with at least one rule.",
    category=CATEGORY,
    severity=LOW,
    enforcement=MANDATORY,
    frameworks=(
        fsbp("ECR.3", "ECR repositories should have at least one lifecycle policy configured"),
        soc2("CC8.1", "Changes to infrastructure and software are authorized and managed"),
    ),
    remediation=(
        "Add an `aws.ecr.LifecyclePolicy` for the repository, e.g. expire untagged images after "
        "14 days."
    ),
    scope=(T.ECR_REPOSITORY,),
)
def ecr_lifecycle(stack: Stack, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    policies = stack.of_type(T.ECR_LIFECYCLE_POLICY)
    for repository in stack.of_type(T.ECR_REPOSITORY):
        found = False
        for policy in policies:
            document = P.as_json(policy.get("policy"))
            targets = stack.resolve(
                policy, "repository", policy.get("repository"), T.ECR_REPOSITORY
            )
            has_rules = P.is_unknown(document) or bool(P.as_list(P.get(document, "rules")))
            # Repositories are regional and may share a name across regions.
            same_region = not policy.region or policy.region == repository.region
            if repository in targets and has_rules and same_region:
                found = True
        if not found:
            rep.violation(
                f"ECR repository '{repository.name}' has no lifecycle policy with a rule.",
                repository,
            )
