"""The reviewed allow-list of resource types: the pack fails closed on anything else.

A type is added here in the same review that adds (or decides it needs no) controls for
it; the list is therefore part of the pack, not configuration. Component resources
(``orders:infra:*``) and providers are allowed because they hold no settings of their own.
"""

from __future__ import annotations

from .. import types as T

# Types of the program today, the ones being added next, and the likely next ones that
# already have controls. Each group says which controls look at it.
REVIEWED_TYPES: frozenset[str] = frozenset(
    {
        # networking: subnets, routes, security groups, flow logs (exposure, flow-log controls)
        T.VPC,
        T.SUBNET,
        T.DEFAULT_SECURITY_GROUP,
        T.SECURITY_GROUP,
        T.SECURITY_GROUP_RULE,
        T.SECURITY_GROUP_INGRESS_RULE,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        T.FLOW_LOG,
        "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        T.VPC_ENDPOINT,
        T.LAUNCH_TEMPLATE,
        T.EC2_INSTANCE,
        T.EBS_VOLUME,
        # data stores
        T.RDS_CLUSTER,
        T.RDS_CLUSTER_INSTANCE,
        T.RDS_INSTANCE,
        T.RDS_GLOBAL_CLUSTER,
        T.RDS_CLUSTER_PARAMETER_GROUP,
        T.RDS_SUBNET_GROUP,
        T.ELASTICACHE_REPLICATION_GROUP,
        T.ELASTICACHE_SUBNET_GROUP,
        T.ELASTICACHE_CLUSTER,
        T.DYNAMODB_TABLE,
        T.EFS_FILE_SYSTEM,
        T.S3_BUCKET,
        T.S3_VERSIONING,
        T.S3_SSE,
        T.S3_PUBLIC_ACCESS_BLOCK,
        T.S3_BUCKET_POLICY,
        T.S3_OBJECT_LOCK,
        T.S3_LIFECYCLE,
        T.S3_OWNERSHIP,
        T.S3_LOGGING,
        T.S3_REPLICATION,
        T.S3_NOTIFICATION,
        # messaging
        T.SQS_QUEUE,
        T.SQS_QUEUE_POLICY,
        T.SQS_REDRIVE_POLICY,
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        T.SNS_TOPIC,
        T.SNS_TOPIC_POLICY,
        "aws:sns/topicSubscription:TopicSubscription",
        # keys, secrets, identity
        T.KMS_KEY,
        T.KMS_REPLICA_KEY,
        "aws:kms/alias:Alias",
        T.SECRETS_MANAGER_SECRET,
        T.SECRETS_MANAGER_POLICY,
        T.SECRETS_MANAGER_ROTATION,
        # the AWS-published rotation function (Serverless Application Repository) that a
        # SecretRotation invokes; reviewed: it deploys AWS's own application only
        "aws:serverlessrepository/cloudFormationStack:CloudFormationStack",
        "aws:secretsmanager/secretVersion:SecretVersion",
        T.IAM_ROLE,
        T.IAM_POLICY,
        T.IAM_ROLE_POLICY,
        T.IAM_ROLE_POLICY_ATTACHMENT,
        "aws:iam/instanceProfile:InstanceProfile",
        T.IAM_SERVICE_LINKED_ROLE,
        "random:index/randomPassword:RandomPassword",
        # compute, registry, edge
        T.EKS_COMPONENT_CLUSTER,
        T.EKS_COMPONENT_MANAGED_NODE_GROUP,
        T.EKS_CLUSTER,
        T.EKS_NODE_GROUP,
        T.ECR_REPOSITORY,
        T.ECR_REPOSITORY_POLICY,
        # cross-region replication of the image registry (no data-path settings)
        "aws:ecr/replicationConfiguration:ReplicationConfiguration",
        T.ECR_LIFECYCLE_POLICY,
        T.LB_LISTENER,
        T.ALB_LISTENER,
        T.LB_LOAD_BALANCER,
        T.ALB_LOAD_BALANCER,
        T.WAF_WEB_ACL,
        T.WAF_WEB_ACL_ASSOCIATION,
        "aws:acm/certificate:Certificate",
        "aws:acm/certificateValidation:CertificateValidation",
        T.ROUTE53_RECORD,
        T.ROUTE53_HEALTH_CHECK,
        # backup, logging, monitoring, fault injection
        T.BACKUP_VAULT,
        T.BACKUP_PLAN,
        T.BACKUP_SELECTION,
        T.BACKUP_VAULT_LOCK,
        "aws:backup/restoreTestingPlan:RestoreTestingPlan",
        T.BACKUP_RESTORE_TESTING_SELECTION,
        T.LOG_GROUP,
        T.METRIC_ALARM,
        "aws:fis/experimentTemplate:ExperimentTemplate",
        # tags on the node groups' Auto Scaling groups (fault-injection targeting)
        "aws:autoscaling/tag:Tag",
        # Kubernetes
        *T.K8S_POD_WORKLOADS,
        T.K8S_NAMESPACE,
        T.K8S_SERVICE,
        "kubernetes:core/v1:ServiceAccount",
        T.K8S_SECRET,
        "kubernetes:core/v1:ConfigMap",
        T.K8S_NETWORK_POLICY,
        T.K8S_INGRESS,
        T.K8S_PDB,
        T.K8S_HPA,
        T.K8S_SCALED_OBJECT,
        "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
        "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
        T.K8S_HELM_RELEASE,
        T.K8S_PROMETHEUS_RULE,
        # engine and program structure (no settings of their own)
        T.AWS_PROVIDER,
        "pulumi:providers:kubernetes",
        "pulumi:providers:eks",
        "pulumi:providers:random",
        "pulumi:pulumi:Stack",
    }
)
# Component resources of the program itself group children and hold no settings.
COMPONENT_PREFIXES = ("orders:infra:",)


def reviewed(resource_type: str) -> bool:
    return resource_type in REVIEWED_TYPES or resource_type.startswith(COMPONENT_PREFIXES)
