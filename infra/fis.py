"""The IAM role AWS FIS assumes for the zone-loss drill (`python -m chaos drill --target aws`).

The drill builds an "AZ Availability: Power Interruption" experiment (chaos/aws/README.md)
whose targets are found through the `AzImpairmentPower` tags this program sets on the
subnets and the Redis replication group. The role can only act on what FIS needs for
those actions: AWS's FIS policies for EC2, networking and RDS, plus ElastiCache's AZ
power interruption and the ASG capacity-error injection.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import contract
from infra.common import COMPONENT_PREFIX, child, policy_document

AZ_IMPAIRMENT_TAG = contract.FIS_AZ_POWER_TAG
FIS_MANAGED_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorEC2Access",
    "arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess",
    "arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorRDSAccess",
]


@dataclass(frozen=True)
class FaultInjectionArgs:
    prefix: str
    account_id: pulumi.Input[str]


class FaultInjection(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FaultInjectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:FaultInjection", name, None, opts)
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"{args.prefix}: AWS FIS experiments of the chaos drills",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(_fis_trust),
            opts=child(self),
        )
        for policy_arn in FIS_MANAGED_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy_arn.rsplit('/', 1)[-1]}",
                role=self.role.name,
                policy_arn=policy_arn,
                opts=child(self),
            )
        aws.iam.RolePolicy(
            f"{name}-zone-power",
            role=self.role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "ElastiCacheAzPowerInterruption",
                        "Effect": "Allow",
                        "Action": [
                            "elasticache:DescribeReplicationGroups",
                            "elasticache:InterruptClusterAzPower",
                        ],
                        "Resource": "*",
                        "Condition": {"StringLike": {f"aws:ResourceTag/{AZ_IMPAIRMENT_TAG}": "*"}},
                    },
                    {
                        "Sid": "DiscoverTargets",
                        "Effect": "Allow",
                        "Action": ["tag:GetResources", "autoscaling:DescribeAutoScalingGroups"],
                        "Resource": "*",
                    },
                    {
                        "Sid": "AsgInsufficientCapacity",
                        "Effect": "Allow",
                        "Action": "ec2:InjectApiError",
                        "Resource": "*",
                        "Condition": {
                            "ForAnyValue:StringEquals": {
                                "ec2:FisActionId": [
                                    "aws:ec2:asg-insufficient-instance-capacity-error"
                                ]
                            }
                        },
                    },
                ]
            ),
            opts=child(self),
        )
        self.register_outputs({"roleArn": self.role.arn})


def _fis_trust(account_id: str) -> str:
    # Source conditions stop another account's experiment from borrowing this role.
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "fis.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:fis:*:{account_id}:experiment/*"},
                },
            }
        ]
    )
