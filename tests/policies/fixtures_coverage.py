"""Compliant companions of the baseline plan for the controls that close the anchors' gaps:
bucket logging, lifecycle, replication and event notifications, a token Secret, the ECR lifecycle policy, the EC2 VPC endpoint,
and the bastion's Systems Manager instance profile.
"""

from __future__ import annotations

import json
from typing import Any

from .fixtures import ACCOUNT, PRIMARY, STANDBY, _e
from .fixtures_extra import BUCKET

LOG_BUCKET = "orders-access-logs"
BASTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/orders-bastion"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _enabled_rule(**rule: Any) -> dict[str, Any]:
    return {"id": "rule", "status": "Enabled", **rule}


def s3_companions() -> list[dict[str, Any]]:
    return [
        _e(
            "aws:s3/bucketLogging:BucketLogging",
            "checkpoints-logging",
            {"bucket": BUCKET, "targetBucket": LOG_BUCKET, "targetPrefix": "checkpoints/"},
        ),
        _e(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "checkpoints-lifecycle",
            {
                "bucket": BUCKET,
                "rules": [_enabled_rule(abortIncompleteMultipartUpload={"daysAfterInitiation": 7})],
            },
        ),
        _e(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "checkpoints-replication",
            {
                "bucket": BUCKET,
                "role": f"arn:aws:iam::{ACCOUNT}:role/orders-replication",
                "rules": [
                    _enabled_rule(
                        destination={"bucket": f"arn:aws:s3:::{BUCKET}-{STANDBY}"},
                        deleteMarkerReplication={"status": "Disabled"},
                        filter={},
                    )
                ],
            },
        ),
    ]


def notifications_and_secrets() -> list[dict[str, Any]]:
    return [
        _e(
            "aws:s3/bucketNotification:BucketNotification",
            "checkpoints-events",
            {"bucket": BUCKET, "eventbridge": True},
        ),
        # A service-account token Secret: Kubernetes fills it in, the program holds no value.
        _e(
            "kubernetes:core/v1:Secret",
            "metrics-reader-token",
            {
                "metadata": {
                    "name": "metrics-reader-token",
                    "namespace": "orders",
                    "annotations": {"kubernetes.io/service-account.name": "metrics-reader"},
                },
                "type": "kubernetes.io/service-account-token",
            },
        ),
    ]


def other_companions() -> list[dict[str, Any]]:
    expire_untagged = {
        "rulePriority": 1,
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 14,
        },
        "action": {"type": "expire"},
    }
    return [
        _e(
            "aws:ecr/lifecyclePolicy:LifecyclePolicy",
            "orders-repo-lifecycle",
            {"repository": "orders-service", "policy": json.dumps({"rules": [expire_untagged]})},
        ),
        _e(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "ec2-endpoint",
            {
                "vpcId": "vpc-1",
                "serviceName": f"com.amazonaws.{PRIMARY}.ec2",
                "vpcEndpointType": "Interface",
                "privateDnsEnabled": True,
            },
        ),
        _e(
            "aws:iam/role:Role",
            "bastion-role",
            {"name": "orders-bastion", "assumeRolePolicy": _ec2_trust()},
            arn=BASTION_ROLE_ARN,
        ),
        _e(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "bastion-ssm",
            {"role": "orders-bastion", "policyArn": SSM_CORE},
        ),
        _e(
            "aws:iam/instanceProfile:InstanceProfile",
            "bastion-profile",
            {"name": "orders-bastion", "role": "orders-bastion"},
        ),
    ]


def _ec2_trust() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def coverage_resources() -> list[dict[str, Any]]:
    return [*s3_companions(), *notifications_and_secrets(), *other_companions()]
