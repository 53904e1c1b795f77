"""The order service on Kubernetes: one component, its objects built by concern.

`Workload` owns the namespace, the service account, the Secret and the ordering between
them; the objects themselves come from the modules beside it: `pods` (templates),
`api` (canary Rollout, analysis, Service, PDB), `background` (relay, worker, KEDA,
integrator), `jobs` (role bootstrap, migrations), `network_policies`, `ingress`, `iam`.
Every object is a child of the component, so the URNs stay those of the one-module
version.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.common import COMPONENT_PREFIX, child, irsa_role
from infra.workload.api import analysis_template, api
from infra.workload.args import SECRET_NAME, SERVICE_ACCOUNT, WorkloadArgs, manifest
from infra.workload.background import background_processes, integrator
from infra.workload.iam import service_policy
from infra.workload.ingress import ingress, load_balancer_hostname
from infra.workload.jobs import bootstrap_job, migration_job
from infra.workload.network_policies import network_policies
from infra.workload.pods import PodTemplates


class Workload(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Workload", name, None, opts)
        self.args = args
        pods = PodTemplates(args)
        settings, region = args.settings, args.region
        ns_name = settings.namespace

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            **manifest(
                metadata={
                    "name": ns_name,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
            ),
            opts=child(self),
        )
        in_ns = child(self, depends_on=[namespace])
        self.namespace = ns_name

        role = irsa_role(
            f"{name}-service-role",
            self,
            args.oidc_provider_arn,
            args.oidc_provider_url,
            ns_name,
            SERVICE_ACCOUNT,
            pulumi.Output.all(
                args.queue_arn, args.queue_kms_key_arn, args.account_id, args.database_resource_id
            ).apply(lambda v: service_policy(region.region, args.database_user, *map(str, v))),
            description=f"order service pods ({region.role})",
        )
        k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            **manifest(
                metadata={
                    "name": SERVICE_ACCOUNT,
                    "namespace": ns_name,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                # the IRSA webhook projects its own token; the API token is not needed
                automount_service_account_token=False,
            ),
            opts=in_ns,
        )
        k8s.core.v1.Secret(
            f"{name}-secrets",
            **manifest(
                metadata={"name": SECRET_NAME, "namespace": ns_name},
                type="Opaque",
                string_data={
                    "redis-password": pulumi.Output.secret(args.redis_auth_token),
                    "jwt-secret": pulumi.Output.secret(args.jwt_secret),
                },
            ),
            opts=in_ns,
        )

        after_addons = child(self, depends_on=[namespace, *args.addons])
        migrations: list[pulumi.Resource] = []
        if args.run_migrations:
            # The role must exist before the migrations connect as it.
            bootstrap = bootstrap_job(
                pods, self, name, child(self, depends_on=[namespace, *args.database_ready])
            )
            migrations.append(
                migration_job(pods, name, child(self, depends_on=[namespace, bootstrap]))
            )
        after_migrations = child(self, depends_on=[namespace, *args.addons, *migrations])

        analysis_template(pods, name, after_addons)
        api(pods, name, after_migrations)
        background_processes(pods, name, after_migrations)
        if args.audit is not None:
            integrator(pods, name, args.audit, after_migrations)
        network_policies(pods, name, in_ns)

        self.ingress = ingress(
            pods,
            name, child(self, depends_on=[namespace, *args.addons, *args.ingress_after])
        )
        self.load_balancer_hostname: pulumi.Output[str] = self.ingress.status.apply(
            load_balancer_hostname
        )
        self.alb_name = args.alb_name
        self.register_outputs({"loadBalancerHostname": self.load_balancer_hostname})
