"""What sits in front of the public ALB in one region: a WAF web ACL and the access logs.

The ALB itself is created by the Load Balancer Controller from the Ingress, which names
the web ACL (`wafv2-acl-arn`) and this bucket (`access_logs.s3.*`) in its annotations; the
controller associates them. ALB access logs can only be written to a bucket encrypted
with SSE-S3 (Amazon S3-managed keys), not SSE-KMS, so this bucket alone uses AES256.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, name_tag, policy_document

ACCESS_LOG_PREFIX = "alb"
# The Elastic Load Balancing account of each region opened before August 2022; newer
# regions deliver as the log-delivery service principal instead.
ELB_ACCOUNTS = {"eu-central-1": "054676820928", "eu-west-1": "156460612806"}
ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


@dataclass(frozen=True)
class EdgeArgs:
    prefix: str
    role: str
    region: str
    account_id: pulumi.Input[str]
    access_log_retention_days: int


class Edge(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Edge", name, None, opts)
        base = f"{args.prefix}-{args.role}"
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=f"{base}-api",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()
            ),
            rules=[
                aws.wafv2.WebAclRuleArgs(
                    name=group,
                    priority=priority,
                    override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                        none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                    ),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        managed_rule_group_statement=(
                            aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                                vendor_name="AWS", name=group
                            )
                        )
                    ),
                    visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                        cloudwatch_metrics_enabled=True,
                        metric_name=group,
                        sampled_requests_enabled=True,
                    ),
                )
                for priority, group in enumerate(MANAGED_RULE_GROUPS)
            ],
            visibility_config=_visibility(f"{base}-api"),
            tags=name_tag(f"{base}-api"),
            opts=child(self),
        )

        bucket = aws.s3.Bucket(
            f"{name}-access-logs",
            bucket_prefix=f"{base}-alb-logs-",
            force_destroy=False,
            tags=name_tag(f"{base}-alb-access-logs"),
            opts=child(self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-access-logs-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child(self),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketVersioning(
            f"{name}-access-logs-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"  # the only option ALB log delivery supports
                        )
                    )
                )
            ],
            opts=child(self),
        )
        days = args.access_log_retention_days
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                    noncurrent_version_expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=30
                        )
                    ),
                )
            ],
            opts=child(self),
        )
        self.bucket_policy = aws.s3.BucketPolicy(
            f"{name}-access-logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.account_id).apply(
                lambda v: access_log_bucket_policy(str(v[0]), str(v[1]), args.region)
            ),
            opts=child(self),
        )
        self.access_log_bucket: pulumi.Output[str] = bucket.bucket
        self.web_acl_arn: pulumi.Output[str] = self.web_acl.arn
        self.register_outputs({"webAclArn": self.web_acl_arn, "accessLogBucket": bucket.bucket})


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def access_log_bucket_policy(bucket_arn: str, account_id: str, region: str) -> str:
    """ELB may write this account's logs under the prefix; nothing may use plain HTTP."""
    elb_account = ELB_ACCOUNTS.get(region)
    writer = (
        {"AWS": f"arn:aws:iam::{elb_account}:root"}
        if elb_account
        else {"Service": ELB_LOG_DELIVERY}
    )
    return policy_document(
        [
            {
                "Sid": "ElbWritesAccessLogs",
                "Effect": "Allow",
                "Principal": writer,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*",
            },
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )
