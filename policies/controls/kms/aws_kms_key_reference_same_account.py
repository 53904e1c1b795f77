"""aws-kms-key-reference-same-account

Every KMS key ARN a resource references must belong to the stack's own account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.encryption import CATEGORY, PCI_KEYS, SOC2_LOGICAL
from ...framework import HIGH, MANDATORY, ConfigOption, Reporter, Resource, stack_control
from ...model import Stack, arn_scope

KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):(key|alias)/")
ACCOUNTS = ConfigOption(
    "accountIds",
    {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"}, "default": []},
    "Accounts whose KMS keys may be referenced; empty means the account of the KMS keys "
    "this stack creates.",
)


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, string) of every string in an already plain value."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _strings(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _strings(v, f"{path}[{i}]")]
    return []


def _own_accounts(stack: Stack) -> set[str]:
    found = set()
    for key in stack.of_type(T.KMS_KEY, T.KMS_REPLICA_KEY):
        arn = key.out("arn")
        scope = arn_scope(arn) if isinstance(arn, str) and not P.is_unknown(arn) else None
        if scope is not None:
            found.add(scope[2])
    return found


def _references(resource: Resource) -> list[tuple[str, str]]:
    if resource.type in (T.KMS_KEY, T.KMS_REPLICA_KEY):
        return []  # a key's own policy names its account's root, not a key reference
    return [(p, v) for p, v in _strings(P.raw(resource.props)) if KMS_ARN.match(v)]


@stack_control(
    name="aws-kms-key-reference-same-account",
    description="Every KMS key ARN a resource references must belong to the stack's account.",
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(PCI_KEYS, SOC2_LOGICAL),
    remediation="Use a key created in this stack (its ARN output), not a pasted ARN.",
    config=(ACCOUNTS,),
)
def same_account(stack: Stack, rep: Reporter, cfg: Mapping[str, Any]) -> None:
    allowed = set(cfg.get("accountIds") or []) or _own_accounts(stack)
    if not allowed:
        return  # no key with a known ARN to compare with (during preview): nothing to say
    for resource in stack:
        for path, arn in _references(resource):
            match = KMS_ARN.match(arn)
            if match and match.group(1) not in allowed:
                rep.violation(
                    f"{resource.label}: {path} refers to a KMS key in account "
                    f"{match.group(1)}, not this stack's ({', '.join(sorted(allowed))}).",
                    resource,
                )
