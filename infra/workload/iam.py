"""The IAM policies of the service's pods and of the role bootstrap Job."""

from __future__ import annotations

from infra.common import policy_document


def service_policy(
    region: str, db_user: str, queue_arn: str, queue_key_arn: str, account: str, db_resource_id: str
) -> str:
    """Least privilege for the service: its queue, the queue's key, IAM auth as one user."""
    return policy_document(
        [
            {
                "Sid": "OrdersQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                "Resource": queue_arn,
            },
            {
                "Sid": "QueueEncryption",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": queue_key_arn,
            },
            {
                "Sid": "DatabaseIamAuth",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{db_resource_id}/{db_user}",
            },
        ]
    )


def bootstrap_policy(region: str, secret_arn: str, key_arn: str) -> str:
    """The role bootstrap reads one secret: its value, decrypted with its key only when
    Secrets Manager asks KMS on the Job's behalf."""
    return policy_document(
        [
            {
                "Sid": "ReadMasterSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            },
            {
                "Sid": "DecryptMasterSecret",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            },
        ]
    )
