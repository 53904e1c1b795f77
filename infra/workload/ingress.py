"""The ALB Ingress: TLS on the load balancer, WAF, access logs, /metrics never exposed."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.edge import ACCESS_LOG_PREFIX
from infra.workload.args import API, TLS_POLICY, manifest
from infra.workload.pods import PodTemplates


def ingress(
    pods: PodTemplates, name: str, opts: pulumi.ResourceOptions
) -> k8s.networking.v1.Ingress:
    a, s = pods.args, pods.args.settings
    blocked = '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"404"}}'  # noqa: E501
    annotations = {
        "alb.ingress.kubernetes.io/load-balancer-name": a.alb_name,
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
        "alb.ingress.kubernetes.io/certificate-arn": a.certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
        "alb.ingress.kubernetes.io/healthcheck-path": "/health/ready",
        "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
        "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/target-group-attributes": (
            "deregistration_delay.timeout_seconds="
            f"{s.drain_seconds + s.in_flight_timeout_seconds}"
        ),
        "alb.ingress.kubernetes.io/load-balancer-attributes": pulumi.Output.concat(
            "deletion_protection.enabled=true,"
            "routing.http.drop_invalid_header_fields.enabled=true,"
            "access_logs.s3.enabled=true,access_logs.s3.bucket=",
            a.access_log_bucket,
            f",access_logs.s3.prefix={ACCESS_LOG_PREFIX}",
        ),
        "alb.ingress.kubernetes.io/wafv2-acl-arn": a.web_acl_arn,
        # /metrics is for Prometheus inside the cluster, never for the internet
        "alb.ingress.kubernetes.io/actions.metrics-blocked": blocked,
    }
    backend = {"service": {"name": API, "port": {"number": 80}}}
    return k8s.networking.v1.Ingress(
        f"{name}-ingress",
        **manifest(
            metadata={"name": API, "namespace": pods.namespace, "annotations": annotations},
            spec={
                "ingressClassName": "alb",
                # TLS terminates on the ALB with the ACM certificate from the annotation.
                "tls": [{"hosts": [a.api_fqdn]}],
                # No host match: Route 53 health checks reach the ALB by its own DNS name.
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "path": "/metrics",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": "metrics-blocked",
                                            "port": {"name": "use-annotation"},
                                        }
                                    },
                                },
                                {"path": "/", "pathType": "Prefix", "backend": backend},
                            ]
                        }
                    }
                ],
            },
        ),
        opts=opts,
    )


def load_balancer_hostname(status: Any) -> str:
    """The ALB's DNS name, which the controller writes into the Ingress status."""
    try:
        return str(status.load_balancer.ingress[0].hostname)
    except (AttributeError, IndexError, TypeError) as missing:
        raise ValueError("the Ingress reports no load balancer address") from missing
