"""Customer-managed KMS keys, one per data concern, created in each region.

Regional keys (not multi-region keys): every region's data is encrypted by a key that
lives and rotates there, and losing one region's keys cannot affect the other region.

Every key has an explicit policy that separates its administrators (the deployer's role
and `keys.adminRoleArns`: they manage the key but get no cryptographic use from the key
policy) from its users (principals of this account whose IAM policy grants them use,
plus the AWS services named per key). The account root is never given `kms:*`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, name_tag

KEY_PURPOSES = ("database", "cache", "queue", "eks", "ebs", "backup", "logs")
AUTOSCALING_ROLE_PATH = "role/aws-service-role/autoscaling.amazonaws.com/"
AUTOSCALING_ROLE_NAME = "AWSServiceRoleForAutoScaling"

# Manage, never use: no Encrypt/Decrypt/GenerateDataKey, and no CreateGrant (a grant would
# let an administrator hand themselves use of the key).
ADMIN_ACTIONS = [
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:Get*",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:UpdateKeyDescription",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand",
    "kms:RevokeGrant",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


@dataclass(frozen=True)
class KeysArgs:
    prefix: str
    role: str
    region: str
    admin_role_arns: Sequence[str] = ()
    deletion_window_days: int = 30
    # The Auto Scaling service-linked role, when this stack creates it: the EBS key policy
    # names it, so the key must wait for it.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


@dataclass(frozen=True)
class PolicyContext:
    """What a key policy is rendered from."""

    account_id: str
    region: str
    administrators: tuple[str, ...]


class Keys(pulumi.ComponentResource):
    database: aws.kms.Key
    cache: aws.kms.Key
    queue: aws.kms.Key
    eks: aws.kms.Key
    ebs: aws.kms.Key
    backup: aws.kms.Key
    logs: aws.kms.Key

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Keys", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        # The deployer's role ARN (not its session ARN): it must stay a key administrator,
        # or the next `pulumi up` could no longer manage the keys.
        deployer = aws.iam.get_session_context_output(arn=identity.arn, opts=invoke).issuer_arn
        context = pulumi.Output.all(identity.account_id, deployer).apply(
            lambda v: PolicyContext(
                account_id=str(v[0]),
                region=args.region,
                administrators=tuple(dict.fromkeys([str(v[1]), *args.admin_role_arns])),
            )
        )
        for purpose in KEY_PURPOSES:
            alias = f"{args.prefix}-{args.role}-{purpose}"
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{alias}: encrypts {purpose} data at rest",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=args.deletion_window_days,
                policy=context.apply(_renderer(purpose)),
                tags=name_tag(alias),
                opts=child(self, protect=True, depends_on=list(args.depends_on)),
            )
            aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{alias}",
                target_key_id=key.key_id,
                opts=child(self),
            )
            setattr(self, purpose, key)
        self.register_outputs({p: getattr(self, p).arn for p in KEY_PURPOSES})


def _renderer(purpose: str) -> Callable[[PolicyContext], str]:
    return lambda ctx: key_policy(purpose, ctx)


def key_policy(purpose: str, ctx: PolicyContext) -> str:
    """The key policy of one purpose's key."""
    statements = [*_base_statements(ctx), *_SERVICE_STATEMENTS.get(purpose, _none)(ctx)]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _base_statements(ctx: PolicyContext) -> list[dict[str, Any]]:
    root = f"arn:aws:iam::{ctx.account_id}:root"
    return [
        {
            "Sid": "KeyAdministrators",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ADMIN_ACTIONS,
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": list(ctx.administrators)}},
        },
        {
            # Use only by principals whose IAM policy grants it (pod roles, the services
            # acting for them through kms:ViaService); the key policy alone grants nothing.
            "Sid": "KeyUsersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": USE_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "AwsServicesAttachEncryptedResources",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": GRANT_ACTIONS,
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def _none(_: PolicyContext) -> list[dict[str, Any]]:
    return []


def _logs_statements(ctx: PolicyContext) -> list[dict[str, Any]]:
    """CloudWatch Logs and CloudWatch alarms (publishing to the encrypted SNS topic) need
    explicit grants in the key policy; IAM policies cannot give a service principal use."""
    return [
        {
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:aws:logs:{ctx.region}:{ctx.account_id}:*"
                    )
                }
            },
        },
        {
            "Sid": "CloudWatchAlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
    ]


def autoscaling_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:{AUTOSCALING_ROLE_PATH}{AUTOSCALING_ROLE_NAME}"


def _ebs_statements(ctx: PolicyContext) -> list[dict[str, Any]]:
    """EC2 Auto Scaling launches the EKS nodes, so its service-linked role must be able to
    use the key for their encrypted volumes (and create grants for EC2 to attach them).
    KMS rejects the policy if that role does not exist: the program creates it first
    (`iam.createAutoScalingServiceLinkedRole`) or the preflight finds it."""
    autoscaling = autoscaling_role_arn(ctx.account_id)
    return [
        {
            "Sid": "AutoScalingUsesKeyForNodeVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": autoscaling},
            "Action": USE_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "AutoScalingAttachesEncryptedVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": autoscaling},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


_SERVICE_STATEMENTS = {"logs": _logs_statements, "ebs": _ebs_statements}
