"""The primary's one-off Jobs: the application-role bootstrap, then the migrations."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.common import irsa_role
from infra.workload.args import (
    BOOTSTRAP,
    BOOTSTRAP_SCRIPT,
    BOOTSTRAP_SERVICE_ACCOUNT,
    MIGRATE,
    RDS_CA_BUNDLE,
    manifest,
)
from infra.workload.iam import bootstrap_policy
from infra.workload.pods import PodTemplates


def migration_job(pods: PodTemplates, name: str, opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
    # Job specs are immutable: a new image replaces the Job, which reruns the
    # migrations before the new API pods roll out (they depend on this Job).
    template = pods.pod_spec(MIGRATE, ["migrate"], serves_http=False, hash_label=None)
    template["spec"]["restartPolicy"] = "Never"
    return k8s.batch.v1.Job(
        f"{name}-migrate",
        **manifest(
            metadata={"namespace": pods.namespace, "labels": pods.labels(MIGRATE)},
            spec={"backoffLimit": 2, "activeDeadlineSeconds": 900, "template": template},
        ),
        opts=opts,
    )


def bootstrap_job(
    pods: PodTemplates, parent: pulumi.Resource, name: str, opts: pulumi.ResourceOptions
) -> k8s.batch.v1.Job:
    """Create the application role as the master user (idempotent SQL from
    infra/bootstrap_role.py, mounted from a ConfigMap). The Job reads the master secret's
    current value itself, through its own IRSA role: no password copy in the cluster."""
    a = pods.args
    if a.master_secret_arn is None or a.master_secret_kms_key_arn is None:
        raise ValueError("the primary's master secret is needed to bootstrap the role")
    region = a.region.region
    role = irsa_role(
        f"{name}-bootstrap-role-iam",
        parent,
        a.oidc_provider_arn,
        a.oidc_provider_url,
        pods.namespace,
        BOOTSTRAP_SERVICE_ACCOUNT,
        pulumi.Output.all(a.master_secret_arn, a.master_secret_kms_key_arn).apply(
            lambda v: bootstrap_policy(region, str(v[0]), str(v[1]))
        ),
        description="role bootstrap Job: reads the Aurora master secret",
    )
    account = k8s.core.v1.ServiceAccount(
        f"{name}-bootstrap-account",
        **manifest(
            metadata={
                "name": BOOTSTRAP_SERVICE_ACCOUNT,
                "namespace": pods.namespace,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            automount_service_account_token=False,
        ),
        opts=opts,
    )
    script = k8s.core.v1.ConfigMap(
        f"{name}-bootstrap-script",
        **manifest(
            metadata={"name": BOOTSTRAP, "namespace": pods.namespace},
            data={"bootstrap_role.py": BOOTSTRAP_SCRIPT.read_text()},
        ),
        opts=opts,
    )
    template = pods.pod_spec(BOOTSTRAP, [], serves_http=False, hash_label=None)
    pod = template["spec"]
    pod["restartPolicy"] = "Never"
    pod["serviceAccountName"] = BOOTSTRAP_SERVICE_ACCOUNT
    (container,) = pod["containers"]
    container["command"] = ["python", "/bootstrap/bootstrap_role.py"]
    container["env"] = [
        {"name": "ORDERS_BOOTSTRAP_HOST", "value": a.database_host},
        {"name": "ORDERS_BOOTSTRAP_DATABASE", "value": a.database_name},
        {"name": "ORDERS_BOOTSTRAP_REGION", "value": region},
        {"name": "ORDERS_BOOTSTRAP_MASTER_SECRET_ARN", "value": a.master_secret_arn},
        {"name": "ORDERS_BOOTSTRAP_APP_USER", "value": a.database_user},
        {"name": "ORDERS_BOOTSTRAP_SSL_ROOT_CERT", "value": RDS_CA_BUNDLE},
    ]
    container["volumeMounts"] = [
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 (emptyDir)
        {"name": "script", "mountPath": "/bootstrap", "readOnly": True},
    ]
    pod["volumes"] = [
        {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
        {"name": "script", "configMap": {"name": BOOTSTRAP, "defaultMode": 0o444}},
    ]
    return k8s.batch.v1.Job(
        f"{name}-bootstrap-role",
        **manifest(
            metadata={"namespace": pods.namespace, "labels": pods.labels(BOOTSTRAP)},
            spec={"backoffLimit": 4, "activeDeadlineSeconds": 600, "template": template},
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[account, script])
        ),
    )
