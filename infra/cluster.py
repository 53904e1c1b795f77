"""EKS (pulumi-eks) with a managed node group over the three private subnets.

Secrets are envelope-encrypted with the region's CMK, access is granted through access
entries (authentication mode API, no aws-auth ConfigMap), pods get IAM roles through the
cluster's OIDC provider, and all control-plane log types go to a CMK-encrypted group.
pulumi-eks is a remote component: it takes its AWS provider from `providers={"aws": ...}`
(inherited from this component), not from a per-resource region argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from infra.common import COMPONENT_PREFIX, child, service_role
from infra.config import ClusterConfig, RegionConfig
from infra.fis import AZ_IMPAIRMENT_TAG

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
]
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    region: RegionConfig
    settings: ClusterConfig
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    secrets_key_arn: pulumi.Input[str]
    volumes_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]


class Cluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Cluster", name, None, opts)
        settings, region = args.settings, args.region
        self.cluster_name = args.cluster_name

        # EKS would create this group itself, unencrypted and kept forever; owning it
        # first sets the CMK and the retention.
        control_plane_logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=settings.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child(self),
        )
        node_role = service_role(
            f"{name}-node-role",
            self,
            "ec2.amazonaws.com",
            NODE_POLICIES,
            description=f"{args.cluster_name} managed nodes",
        )

        access_entries = {
            f"admin-{i}": eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={
                    "cluster-admin": eks.AccessPolicyAssociationArgs(
                        policy_arn=CLUSTER_ADMIN_POLICY,
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    )
                },
            )
            for i, arn in enumerate(settings.admin_role_arns)
        }
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=settings.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=list(args.private_subnet_ids),
            public_subnet_ids=list(args.public_subnet_ids),
            node_associate_public_ip_address=False,
            skip_default_node_group=True,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries or None,
            encryption_config_key_arn=args.secrets_key_arn,
            create_oidc_provider=True,
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            endpoint_private_access=True,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=(
                list(settings.public_access_cidrs) if settings.endpoint_public_access else None
            ),
            deletion_protection=True,
            # NetworkPolicy objects are only enforced when the VPC CNI's agent is on.
            vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            opts=child(self, depends_on=[control_plane_logs]),
        )
        if settings.private_access_cidrs:
            # The deployer's path to the private endpoint (VPN, peering, in-VPC runner).
            for i, cidr in enumerate(settings.private_access_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-api-from-deployer-{i}",
                    security_group_id=self.eks.cluster_security_group_id,
                    cidr_ipv4=cidr,
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    description="Kubernetes API from the deployer's network",
                    opts=child(self),
                )
        ng = region.node_group
        # A launch template instead of `disk_size`: it is the only way to encrypt the
        # node volumes with the CMK and to require IMDSv2.
        node_template = aws.ec2.LaunchTemplate(
            f"{name}-node-template",
            description=f"{args.cluster_name} managed nodes",
            update_default_version=True,
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",  # the root device of the EKS AL2023 AMIs
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=ng.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.volumes_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            # Hop limit 1: pods cannot reach the node's metadata (and its role); they get
            # AWS access only through their own IRSA roles.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="instance",
                    # the zone-loss drill stops the node group's instances in one AZ
                    tags={"Name": f"{args.cluster_name}-node", AZ_IMPAIRMENT_TAG: "IceAsg"},
                ),
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="volume", tags={"Name": f"{args.cluster_name}-node"}
                ),
            ],
            opts=child(self),
        )
        # One node group per AZ: the Cluster Autoscaler scales a group whose nodes all sit
        # in one zone, so a pod pending on a zone spread constraint gets a node in that
        # zone (a group spanning three AZs may add the node elsewhere).
        zones = len(region.azs)
        self.node_groups: list[eks.ManagedNodeGroup] = []
        for az, subnet_id in zip(region.azs, args.private_subnet_ids, strict=True):
            self.node_groups.append(
                eks.ManagedNodeGroup(
                    f"{name}-nodes-{az}",
                    node_group_name=f"{args.cluster_name}-{az}",
                    cluster=self.eks,
                    node_role=node_role,
                    subnet_ids=[subnet_id],
                    instance_types=list(ng.instance_types),
                    capacity_type="ON_DEMAND",
                    ami_type="AL2023_x86_64_STANDARD",
                    launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                        id=node_template.id, version=node_template.latest_version.apply(str)
                    ),
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        min_size=math.ceil(ng.min_size / zones),
                        desired_size=math.ceil(ng.desired_size / zones),
                        max_size=math.ceil(ng.max_size / zones),
                    ),
                    labels={"orders/role": region.role},
                    # the cluster autoscaler owns desiredSize after creation
                    ignore_scaling_changes=True,
                    opts=child(self),
                )
            )
        self._tag_autoscaling_groups(name, args)
        self.kubeconfig_json = self.eks.kubeconfig_json
        self.oidc_provider_arn = self.eks.oidc_provider_arn
        self.oidc_provider_url = self.eks.oidc_provider_url
        self.kubernetes = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.eks.kubeconfig_json,
            enable_server_side_apply=True,
            opts=child(self),
        )
        self.register_outputs(
            {"clusterName": args.cluster_name, "oidcProviderArn": self.oidc_provider_arn}
        )

    def _tag_autoscaling_groups(self, name: str, args: ClusterArgs) -> None:
        """Tag each node group's Auto Scaling group for the FIS zone experiment's
        capacity-error action (it selects ASGs by tag; EKS does not copy node group tags
        to the ASG, and the launch template's tags reach only the instances)."""
        for az, group in zip(args.region.azs, self.node_groups, strict=True):
            found = aws.eks.get_node_group_output(
                cluster_name=args.cluster_name,
                node_group_name=f"{args.cluster_name}-{az}",
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[group]),
            )
            aws.autoscaling.Tag(
                f"{name}-asg-fis-tag-{az}",
                autoscaling_group_name=found.apply(
                    lambda ng: str(ng.resources[0].autoscaling_groups[0].name)
                ),
                tag=aws.autoscaling.TagTagArgs(
                    key=AZ_IMPAIRMENT_TAG, value="IceAsg", propagate_at_launch=False
                ),
                opts=child(self),
            )
