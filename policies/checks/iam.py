"""IAM and resource policy documents: statements, wildcards, principals.

Policy documents reach the pack as JSON strings (inputs) or objects (outputs, or a
program that passed a dict). Every resource type that carries one is listed in
``POLICY_FIELDS`` so the identity-policy and resource-policy controls see all of them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import props as P
from .. import types as T
from ..framework import Resource, cis_aws, fsbp, pci, soc2

CATEGORY = "Identity and access"

SOC2_ACCESS = soc2("CC6.3", "Access is authorized, modified or removed based on least privilege")
PCI_LEAST_PRIVILEGE = pci("7.2.1", "Access is assigned based on job function and least privilege")
CIS_ADMIN = cis_aws(
    "1.16", 'Ensure IAM policies that allow full "*:*" administrative privileges are not attached'
)
FSBP_ADMIN = fsbp("IAM.1", 'IAM policies should not allow full "*" administrative privileges')

# Identity policies: (type, property path to the document); Role inline policies below.
IDENTITY_POLICIES: dict[str, tuple[str, ...]] = {
    T.IAM_POLICY: ("policy",),
    T.IAM_ROLE_POLICY: ("policy",),
    T.IAM_USER_POLICY: ("policy",),
    T.IAM_GROUP_POLICY: ("policy",),
}
# Resource policies (who may use the resource) and role trust policies.
RESOURCE_POLICIES: dict[str, tuple[str, ...]] = {
    T.S3_BUCKET_POLICY: ("policy",),
    T.SQS_QUEUE_POLICY: ("policy",),
    T.SQS_QUEUE: ("policy",),
    T.SNS_TOPIC_POLICY: ("policy",),
    T.SNS_TOPIC: ("policy",),
    T.KMS_KEY: ("policy",),
    T.SECRETS_MANAGER_POLICY: ("policy",),
    T.ECR_REPOSITORY_POLICY: ("policy",),
    T.IAM_ROLE: ("assumeRolePolicy",),
}

# Actions that let a principal grant itself more access (Rhino Security Labs' list of
# IAM privilege-escalation paths, and the IAM Access Analyzer "PassRole" findings).
ESCALATION_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "sts:AssumeRole",
    "lambda:UpdateFunctionCode",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    # decrypting with every key defeats per-store keys (FSBP KMS.1, KMS.2)
    "kms:Decrypt",
    "kms:ReEncryptFrom",
)
# Condition keys that pin an otherwise public principal to known callers.
RESTRICTING_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "kms:CallerAccount",
    )
)


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]
    condition: Any

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else "a statement"


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in P.as_list(P.plain(value)) if v is not None)


def _principals(value: Any) -> tuple[str, ...]:
    value = P.plain(value)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):
        found: list[str] = []
        for entry in value.values():
            found.extend(_strings(entry))
        return tuple(found)
    return ()


def statements(document: Any) -> list[Statement]:
    """The statements of a policy document (string or object); [] if it has none."""
    doc = P.plain(P.as_json(document))
    if not isinstance(doc, dict):
        return []
    found = []
    for raw in P.as_list(doc.get("Statement")):
        if not isinstance(raw, dict):
            continue
        found.append(
            Statement(
                sid=str(raw.get("Sid") or ""),
                effect=str(raw.get("Effect") or ""),
                actions=_strings(raw.get("Action")),
                not_actions=_strings(raw.get("NotAction")),
                resources=_strings(raw.get("Resource")) or (("*",) if "NotResource" in raw else ()),
                principals=_principals(raw.get("Principal"))
                or (("*",) if "NotPrincipal" in raw else ()),
                condition=raw.get("Condition"),
            )
        )
    return found


def documents(r: Resource, fields: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, Any]]:
    """(where, document) pairs of ``r`` for the given field table (Role inline policies too)."""
    path = fields.get(r.type)
    if path is not None:
        yield ".".join(path), r.get(*path)
    if r.type == T.IAM_ROLE and fields is IDENTITY_POLICIES:
        for index, inline in enumerate(P.as_list(r.get("inlinePolicies"))):
            yield f"inlinePolicies[{index}]", P.get(inline, "policy")


def matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def full_admin(statement: Statement) -> bool:
    if not statement.allows or "*" not in statement.resources:
        return False
    if statement.not_actions:
        return True  # Allow everything except a list, on everything
    return any(a in {"*", "*:*"} for a in statement.actions)


def escalation_actions(statement: Statement) -> list[str]:
    """Escalation actions this statement allows on every resource."""
    if not statement.allows or "*" not in statement.resources:
        return []
    return [
        action
        for action in ESCALATION_ACTIONS
        if any(matches(pattern, action) for pattern in statement.actions)
    ]


def service_wildcards(statement: Statement) -> list[str]:
    """Whole-service grants (``svc:*``) on every resource."""
    if not statement.allows or "*" not in statement.resources:
        return []
    return [a for a in statement.actions if a.endswith(":*") and a != "*:*"]


def restricted_by_condition(condition: Any) -> bool:
    for operator_block in (
        P.as_list(P.plain(condition)) if not isinstance(condition, dict) else [P.plain(condition)]
    ):
        if not isinstance(operator_block, dict):
            continue
        for keys in operator_block.values():
            if isinstance(keys, dict) and any(
                str(key).lower() in RESTRICTING_CONDITION_KEYS for key in keys
            ):
                return True
    return False


def public_principal(statement: Statement) -> bool:
    if not statement.allows:
        return False
    if not any(p == "*" for p in statement.principals):
        return False
    return not restricted_by_condition(statement.condition)
