"""Customer-managed KMS keys, one per data concern, created in each region.

Regional keys (not multi-region keys): every region's data is encrypted by a key that
lives and rotates there, and losing one region's keys cannot affect the other region.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, name_tag

KEY_PURPOSES = ("database", "cache", "queue", "eks", "ebs", "backup", "logs")


@dataclass(frozen=True)
class KeysArgs:
    prefix: str
    role: str
    region: str
    deletion_window_days: int = 30


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
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        for purpose in KEY_PURPOSES:
            alias = f"{args.prefix}-{args.role}-{purpose}"
            policy = (
                identity.account_id.apply(_KEY_POLICIES[purpose](args.region))
                if purpose in _KEY_POLICIES
                else None  # the default policy: the account administers the key through IAM
            )
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{alias}: encrypts {purpose} data at rest",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                tags=name_tag(alias),
                opts=child(self, protect=True),
            )
            aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{alias}",
                target_key_id=key.key_id,
                opts=child(self),
            )
            setattr(self, purpose, key)
        self.register_outputs({p: getattr(self, p).arn for p in KEY_PURPOSES})


def _account_statement(account_id: str) -> dict[str, Any]:
    return {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _logs_key_policy(region: str) -> Callable[[str], str]:
    """CloudWatch Logs and CloudWatch alarms (publishing to the encrypted SNS topic) need
    explicit grants in the key policy; IAM policies alone cannot give a service principal
    use of a key."""
    return lambda account_id: _document(
        [
            _account_statement(account_id),
            {
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
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
                            f"arn:aws:logs:{region}:{account_id}:*"
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
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ]
    )


def _ebs_key_policy(region: str) -> Callable[[str], str]:
    """EC2 Auto Scaling launches the EKS nodes, so its service-linked role must be able to
    use the key for their encrypted volumes (and create grants for EC2 to attach them)."""

    def render(account_id: str) -> str:
        autoscaling = (
            f"arn:aws:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling"
        )
        return _document(
            [
                _account_statement(account_id),
                {
                    "Sid": "AutoScalingUsesKeyForNodeVolumes",
                    "Effect": "Allow",
                    "Principal": {"AWS": autoscaling},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
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
        )

    return render


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


_KEY_POLICIES: dict[str, Callable[[str], Callable[[str], str]]] = {
    "logs": _logs_key_policy,
    "ebs": _ebs_key_policy,
}
