"""The audit log's anchor outside the database: a KMS Ed25519 signing key and an S3 bucket
of signed checkpoints under Object Lock (COMPLIANCE), plus the integrator's pod role.

Why these: database credentials reach neither. KMS never releases the private key (pure
Ed25519, key spec ECC_NIST_EDWARDS25519, algorithm ED25519_SHA_512 with MessageType RAW,
gives the exact signature a C2SP signed note needs). COMPLIANCE-mode Object Lock means no
principal, the account root included, can delete or overwrite a checkpoint version before
its retention ends; versioning and a customer managed key come with it, public access is
blocked and the bucket policy refuses anything not sent over TLS. The integrator may only
sign with the key and put, read and list checkpoints: it cannot delete one either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, irsa_role, name_tag, policy_document

INTEGRATOR_SERVICE_ACCOUNT = "orders-integrator"
SIGNING_KEY_SPEC = "ECC_NIST_EDWARDS25519"
SIGNING_ALGORITHM = "ED25519_SHA_512"


@dataclass(frozen=True)
class AuditLogArgs:
    prefix: str
    role: str
    region: str
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    namespace: str
    database_user: str
    database_resource_id: pulumi.Input[str]
    origin: str
    retention_years: int = 7  # record-keeping horizon for order audit trails
    deletion_window_days: int = 30


class AuditLog(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AuditLogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:AuditLog", name, None, opts)
        alias = f"{args.prefix}-{args.role}-audit"
        self.origin = args.origin
        self.signing_key = aws.kms.Key(
            f"{name}-signing-key",
            description=f"{alias}-signing: signs audit log checkpoints (C2SP signed notes)",
            customer_master_key_spec=SIGNING_KEY_SPEC,
            key_usage="SIGN_VERIFY",
            # Asymmetric keys cannot rotate automatically: a new key is a new verifier key.
            enable_key_rotation=False,
            deletion_window_in_days=args.deletion_window_days,
            tags=name_tag(f"{alias}-signing"),
            opts=child(self, protect=True),
        )
        aws.kms.Alias(f"{name}-signing-alias", name=f"alias/{alias}-signing",
                      target_key_id=self.signing_key.key_id, opts=child(self))
        self.bucket_key = aws.kms.Key(
            f"{name}-bucket-key",
            description=f"{alias}-checkpoints: encrypts the checkpoint bucket",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            tags=name_tag(f"{alias}-checkpoints"),
            opts=child(self, protect=True),
        )
        self.bucket = aws.s3.Bucket(
            f"{name}-checkpoints",
            bucket_prefix=f"{alias}-checkpoints-",
            object_lock_enabled=True,
            force_destroy=False,
            tags=name_tag(f"{alias}-checkpoints"),
            opts=child(self, protect=True),
        )
        in_bucket = child(self, depends_on=[self.bucket])
        aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"}, opts=in_bucket,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms", "kms_master_key_id": self.bucket_key.arn,
                },
                "bucket_key_enabled": True,
            }],
            opts=in_bucket,
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock", bucket=self.bucket.id, object_lock_enabled="Enabled",
            rule={"default_retention": {"mode": "COMPLIANCE", "years": args.retention_years}},
            opts=in_bucket,
        )
        # Object Lock keeps every checkpoint version; the only thing to clean up is the
        # parts of uploads that never completed.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=[{
                "id": "abort-incomplete-uploads", "status": "Enabled", "filter": {"prefix": ""},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }],
            opts=in_bucket,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=self.bucket.id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=in_bucket,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only", bucket=self.bucket.id,
            policy=self.bucket.arn.apply(_tls_only_policy), opts=in_bucket,
        )
        self.integrator_role = irsa_role(
            f"{name}-integrator-role", self, args.oidc_provider_arn, args.oidc_provider_url,
            args.namespace, INTEGRATOR_SERVICE_ACCOUNT,
            pulumi.Output.all(
                self.signing_key.arn, self.bucket.arn, self.bucket_key.arn, args.account_id,
                args.database_resource_id,
            ).apply(lambda v: _integrator_policy(args.region, args.database_user,
                                                 *map(str, v))),
            description=f"audit log integrator pods ({args.role})",
        )
        self.register_outputs({
            "signingKeyArn": self.signing_key.arn,
            "bucketName": self.bucket.bucket,
            "integratorRoleArn": self.integrator_role.arn,
        })


def _tls_only_policy(bucket_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


def _integrator_policy(
    region: str, db_user: str, signing_key_arn: str, bucket_arn: str, bucket_key_arn: str,
    account: str, db_resource_id: str,
) -> str:
    statements: list[dict[str, Any]] = [
        {"Sid": "SignCheckpoints", "Effect": "Allow",
         "Action": ["kms:Sign", "kms:GetPublicKey"], "Resource": signing_key_arn},
        {"Sid": "PublishCheckpoints", "Effect": "Allow",
         "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"{bucket_arn}/checkpoints/*"},
        {"Sid": "ListCheckpoints", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": bucket_arn, "Condition": {"StringLike": {"s3:prefix": "checkpoints/*"}}},
        {"Sid": "CheckpointEncryption", "Effect": "Allow",
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": bucket_key_arn},
        {"Sid": "DatabaseIamAuth", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{db_resource_id}/{db_user}"},
    ]
    return policy_document(statements)


@dataclass(frozen=True)
class IntegratorTarget:
    """What the integrator Deployment needs from the AuditLog component."""

    role_arn: pulumi.Input[str]
    bucket: pulumi.Input[str]
    signing_key_id: pulumi.Input[str]
    origin: str

    @classmethod
    def of(cls, audit_log: AuditLog) -> IntegratorTarget:
        return cls(audit_log.integrator_role.arn, audit_log.bucket.bucket,
                   audit_log.signing_key.arn, audit_log.origin)
