"""VPC over three AZs: public, private (nodes/pods) and isolated (data) subnets per AZ.

Each AZ has its own NAT gateway and private route table, so losing one AZ never cuts the
other AZs' egress. The isolated subnets have no route to the internet at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child, name_tag, policy_document
from infra.config import NetworkConfig, RegionConfig, subnet_plan
from infra.fis import AZ_IMPAIRMENT_TAG


@dataclass(frozen=True)
class NetworkArgs:
    prefix: str
    region: RegionConfig
    settings: NetworkConfig
    cluster_name: str  # subnets carry the tags the AWS Load Balancer Controller discovers
    logs_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]


class Network(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Network", name, None, opts)
        region = args.region
        base = f"{args.prefix}-{region.role}"
        plan = subnet_plan(region.vpc_cidr)
        self.vpc_cidr = region.vpc_cidr
        self.public_cidrs: list[str] = plan["public"]
        self.private_cidrs: list[str] = plan["private"]
        self.isolated_cidrs: list[str] = plan["isolated"]

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=region.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=name_tag(base),
            opts=child(self),
        )
        self.vpc_id = vpc.id
        # The default security group allows all traffic between its members; strip it so
        # nothing can fall back on it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child(self)
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=name_tag(base), opts=child(self)
        )

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        # the zone-loss drill cuts these subnets' connectivity in the chosen AZ
        fis_target = {AZ_IMPAIRMENT_TAG: "DisruptSubnet"}
        public, private, isolated = [], [], []
        for i, az in enumerate(region.azs):
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{az}",
                    vpc_id=vpc.id,
                    cidr_block=plan["public"][i],
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={
                        **name_tag(f"{base}-public-{az}"),
                        **cluster_tag,
                        "kubernetes.io/role/elb": "1",
                    },
                    opts=child(self),
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{az}",
                    vpc_id=vpc.id,
                    cidr_block=plan["private"][i],
                    availability_zone=az,
                    tags={
                        **name_tag(f"{base}-private-{az}"),
                        **cluster_tag,
                        **fis_target,
                        "kubernetes.io/role/internal-elb": "1",
                    },
                    opts=child(self),
                )
            )
            isolated.append(
                aws.ec2.Subnet(
                    f"{name}-isolated-{az}",
                    vpc_id=vpc.id,
                    cidr_block=plan["isolated"][i],
                    availability_zone=az,
                    tags={**name_tag(f"{base}-isolated-{az}"), **fis_target},
                    opts=child(self),
                )
            )
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.isolated_subnet_ids = [s.id for s in isolated]

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=name_tag(f"{base}-public"),
            opts=child(self),
        )
        isolated_rt = aws.ec2.RouteTable(
            f"{name}-isolated-rt",
            vpc_id=vpc.id,
            tags=name_tag(f"{base}-isolated"),
            opts=child(self),
        )
        private_rts = []
        for i, az in enumerate(region.azs):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{az}-rta",
                subnet_id=public[i].id,
                route_table_id=public_rt.id,
                opts=child(self),
            )
            eip = aws.ec2.Eip(
                f"{name}-nat-{az}-eip",
                domain="vpc",
                tags=name_tag(f"{base}-nat-{az}"),
                opts=child(self),
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{az}",
                allocation_id=eip.id,
                subnet_id=public[i].id,
                tags=name_tag(f"{base}-nat-{az}"),
                opts=child(self, depends_on=[igw]),
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{az}-rt",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=name_tag(f"{base}-private-{az}"),
                opts=child(self),
            )
            private_rts.append(rt)
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}-rta",
                subnet_id=private[i].id,
                route_table_id=rt.id,
                opts=child(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{az}-rta",
                subnet_id=isolated[i].id,
                route_table_id=isolated_rt.id,
                opts=child(self),
            )

        self._endpoints(name, args, vpc, private, private_rts)
        self._flow_logs(name, args, vpc)
        self.register_outputs(
            {
                "vpcId": vpc.id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    def _endpoints(
        self,
        name: str,
        args: NetworkArgs,
        vpc: aws.ec2.Vpc,
        private: list[aws.ec2.Subnet],
        private_rts: list[aws.ec2.RouteTable],
    ) -> None:
        """Private endpoints for the AWS APIs the service and the cluster call, so that
        SQS, STS (pod IAM roles), KMS, ECR pulls and logs never depend on the NAT path."""
        region = args.region.region
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags=name_tag(f"{args.prefix}-{args.region.role}-s3"),
            opts=child(self),
        )
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to the interface endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[args.region.vpc_cidr],
                    description="HTTPS to the interface endpoints from the VPC",
                )
            ],
            tags=name_tag(f"{args.prefix}-{args.region.role}-endpoints"),
            opts=child(self),
        )
        for service in args.settings.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private],
                security_group_ids=[endpoint_sg.id],
                tags=name_tag(f"{args.prefix}-{args.region.role}-{service}"),
                opts=child(self),
            )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/{args.prefix}/{args.region.role}/vpc-flow-logs",
            retention_in_days=args.settings.flow_log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child(self),
        )
        region = args.region.region
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            description=f"{args.prefix}-{args.region.role}: VPC flow logs to CloudWatch Logs",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: flow_logs_trust_policy(account, region)
            ),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=log_group.arn.apply(flow_logs_policy),
            opts=child(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=name_tag(f"{args.prefix}-{args.region.role}-flow-log"),
            opts=child(self),
        )


def flow_logs_trust_policy(account_id: str, region: str) -> str:
    """Only this account's flow logs (in this region) may assume the role: the
    confused-deputy guard AWS documents for the vpc-flow-logs principal."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ]
    )


def flow_logs_policy(log_group_arn: str) -> str:
    """Write to this one log group. A LogGroup's ARN output ends in `:*` in some provider
    versions; streams are addressed as `<group arn>:log-stream:<name>`."""
    group = log_group_arn.removesuffix(":*")
    return policy_document(
        [
            {
                "Sid": "WriteFlowLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group, f"{group}:log-stream:*"],
            },
            {
                # DescribeLogGroups supports no resource-level restriction.
                "Sid": "FindTheLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
        ]
    )
