"""Processes without an API: relay, worker (KEDA-scaled on queue depth), janitor, integrator."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

import contract
from infra.audit_log import INTEGRATOR_SERVICE_ACCOUNT, IntegratorTarget
from infra.workload.args import (
    DEPLOYMENT_HASH_LABEL,
    INTEGRATOR,
    JANITOR,
    RELAY,
    WORKER,
    manifest,
)
from infra.workload.pods import PodTemplates


def background_processes(pods: PodTemplates, name: str, opts: pulumi.ResourceOptions) -> None:
    """Relay (outbox -> SQS; several may run) and worker (SQS consumer, KEDA-scaled).

    They serve no API: a liveness probe on their health port fails when their loop
    stops turning, and Prometheus scrapes /metrics there."""
    region, s = pods.args.region, pods.args.settings
    for app, command, replicas in (
        (RELAY, ["relay", "--events-per-message", str(s.relay_events_per_message)],
         region.relay_replicas),
        (WORKER, ["worker"], region.worker_min_replicas),
        # Purges expired idempotency keys in batches. Two, so purging survives a node
        # loss; concurrent purges are safe (a row one deletes, the other skips). It
        # retries while the database is read-only or failing over.
        (JANITOR, ["janitor"], 2),
    ):
        selector = {"matchLabels": {contract.APP_LABEL: app}}
        k8s.apps.v1.Deployment(
            f"{name}-{app.removeprefix('orders-')}",
            **manifest(
                metadata={
                    "name": app,
                    "namespace": pods.namespace,
                    "labels": pods.labels(app),
                },
                spec={
                    "replicas": replicas,
                    "selector": selector,
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                    },
                    "template": pods.pod_spec(
                        app, command, serves_http=False, hash_label=DEPLOYMENT_HASH_LABEL
                    ),
                },
            ),
            opts=pulumi.ResourceOptions.merge(
                opts,
                # KEDA owns their replica count (queue depth, outbox backlog)
                pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
                if app in (WORKER, RELAY)
                else None,
            ),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-{app.removeprefix('orders-')}-pdb",
            **manifest(
                metadata={"name": app, "namespace": pods.namespace},
                # Unhealthy pods may always be evicted: a PDB must not pin nodes that host
            # only failing pods (a node-group upgrade or scale-down would stall).
            spec={"maxUnavailable": 1, "selector": selector,
                  "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            ),
            opts=opts,
        )

    keda_auth = k8s.apiextensions.CustomResource(
        f"{name}-keda-auth",
        api_version="keda.sh/v1alpha1",
        kind="TriggerAuthentication",
        metadata={"name": "orders-keda-aws", "namespace": pods.namespace},
        # the KEDA operator's own IRSA role may read the queue's attributes
        spec={"podIdentity": {"provider": "aws"}},
        opts=opts,
    )
    k8s.apiextensions.CustomResource(
        f"{name}-worker-scaler",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata={"name": WORKER, "namespace": pods.namespace},
        spec={
            "scaleTargetRef": {"name": WORKER},
            "minReplicaCount": region.worker_min_replicas,
            "maxReplicaCount": region.worker_max_replicas,
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "aws-sqs-queue",
                    "authenticationRef": {"name": "orders-keda-aws"},
                    "metadata": {
                        "queueURL": pods.args.queue_url,
                        "queueLength": str(s.queue_messages_per_worker),
                        "awsRegion": region.region,
                        "scaleOnInFlight": "true",
                    },
                }
            ],
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[keda_auth])),
    )


def integrator(
    pods: PodTemplates, name: str, audit: IntegratorTarget, opts: pulumi.ResourceOptions
) -> None:
    """Two replicas, one elected (advisory lock); its own service account and role:
    sign with the KMS key, write checkpoints to the Object Lock bucket."""
    k8s.core.v1.ServiceAccount(
        f"{name}-integrator-account",
        **manifest(
            metadata={"name": INTEGRATOR_SERVICE_ACCOUNT, "namespace": pods.namespace,
                      "annotations": {"eks.amazonaws.com/role-arn": audit.role_arn}},
            automount_service_account_token=False,
        ),
        opts=opts,
    )
    template = pods.pod_spec(INTEGRATOR, ["integrator"], serves_http=False,
                              hash_label=DEPLOYMENT_HASH_LABEL)
    template["spec"]["serviceAccountName"] = INTEGRATOR_SERVICE_ACCOUNT
    template["spec"]["containers"][0]["env"] += [
        {"name": "ORDERS_CHECKPOINT_BUCKET", "value": audit.bucket},
        {"name": "ORDERS_AUDIT_KMS_KEY_ID", "value": audit.signing_key_id},
        {"name": "ORDERS_AUDIT_LOG_ORIGIN", "value": audit.origin},
    ]
    selector = {"matchLabels": {"app.kubernetes.io/name": INTEGRATOR}}
    k8s.apps.v1.Deployment(
        f"{name}-integrator",
        **manifest(
            metadata={"name": INTEGRATOR, "namespace": pods.namespace,
                      "labels": pods.labels(INTEGRATOR)},
            spec={"replicas": 2, "selector": selector, "template": template,
                  "strategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}},
        ),
        opts=opts,
    )
    k8s.policy.v1.PodDisruptionBudget(
        f"{name}-integrator-pdb",
        **manifest(metadata={"name": INTEGRATOR, "namespace": pods.namespace},
                   spec={"maxUnavailable": 1, "selector": selector}),
        opts=opts,
    )
