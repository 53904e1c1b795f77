"""Who administers the keys, account-wide IAM prerequisites, and the secret settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import contract
from infra.config.reader import ROLE_ARN_RE, Section

SECRET_SETTINGS = ("jwtSecret",)  # read by the program as Pulumi secrets, never here
MIN_JWT_SECRET_BYTES = contract.JWT_SECRET_MIN_BYTES


@dataclass(frozen=True)
class KeysConfig:
    # Roles that administer (but do not use) the CMKs, besides the deployer's own role.
    admin_role_arns: tuple[str, ...]
    deletion_window_days: int


@dataclass(frozen=True)
class IamConfig:
    # AWSServiceRoleForAutoScaling: the EBS key policy names it, and KMS rejects a policy
    # naming a role that does not exist yet. False when the account already has it.
    create_autoscaling_service_linked_role: bool


def secret_problems(
    get: Callable[[str], str | None], project: str, is_secret: Callable[[str], bool]
) -> list[str]:
    problems: list[str] = []
    for key in SECRET_SETTINGS:
        full_key = f"{project}:{key}"
        value = get(full_key)
        if value is None:
            continue
        if not is_secret(full_key):
            problems.append(f"{full_key} must be set with `pulumi config set --secret`")
        if len(value.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"{full_key} must be at least {MIN_JWT_SECRET_BYTES} bytes long")
    return problems


def read_keys(s: Section) -> KeysConfig:
    config = KeysConfig(
        admin_role_arns=s.texts("adminRoleArns", []),
        deletion_window_days=s.integer("deletionWindowDays", 30, lo=7, hi=30),
    )
    s.reject_unknown()
    for arn in config.admin_role_arns:
        if not ROLE_ARN_RE.match(arn):
            s.problems.append(f"{s.path}.adminRoleArns: {arn!r} is not an IAM role ARN")
    return config


def read_iam(s: Section) -> IamConfig:
    config = IamConfig(
        create_autoscaling_service_linked_role=s.flag("createAutoScalingServiceLinkedRole", True)
    )
    s.reject_unknown()
    return config
