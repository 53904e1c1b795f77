"""Route 53 failover between the regions, and the regional ACM certificates for the API.

Each region's ALB is health-checked by Route 53 on the readiness endpoint; the API name is
a failover pair (PRIMARY on the primary ALB, SECONDARY on the standby's). The standby's
readiness only turns green once its database is promoted (it needs a writable database),
so traffic cannot move to a region that could not take writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child
from infra.config import DnsConfig

RECORD_TTL_SECONDS = 30  # short: clients follow a failover quickly


@dataclass(frozen=True)
class CertificateArgs:
    fqdn: str
    zone_id: pulumi.Input[str]
    # The validation record another region's Certificate owns (the standby passes the
    # primary's); None: this certificate creates and owns the record.
    shared_validation_fqdn: pulumi.Input[str] | None = None


class Certificate(pulumi.ComponentResource):
    """An ACM certificate for the API name in one region, validated through DNS."""

    def __init__(
        self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Certificate", name, None, opts)
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.fqdn,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            opts=child(self),
        )
        # ACM asks for the same CNAME for the same name in every region of an account,
        # so exactly one resource owns it: the primary's. Removing the standby then
        # leaves the record (and the primary's renewals) alone.
        if args.shared_validation_fqdn is None:
            option = certificate.domain_validation_options[0]
            record = aws.route53.Record(
                f"{name}-validation",
                zone_id=args.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=300,
                opts=child(self),
            )
            self.validation_fqdn: pulumi.Output[str] = record.fqdn
        else:
            self.validation_fqdn = pulumi.Output.from_input(args.shared_validation_fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-validated",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[self.validation_fqdn],
            opts=child(self),
        )
        self.arn: pulumi.Output[str] = validation.certificate_arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class RegionalEndpoint:
    role: str  # "primary" or "standby"
    hostname: pulumi.Input[str]  # the ALB's DNS name


@dataclass(frozen=True)
class FailoverDnsArgs:
    settings: DnsConfig
    zone_id: pulumi.Input[str]
    primary: RegionalEndpoint
    standby: RegionalEndpoint | None


class FailoverDns(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:FailoverDns", name, None, opts)
        settings = args.settings
        self.health_check_ids: dict[str, pulumi.Output[str]] = {}
        endpoints = [(args.primary, "PRIMARY")]
        if args.standby is not None:
            endpoints.append((args.standby, "SECONDARY"))
        for endpoint, failover_type in endpoints:
            check = aws.route53.HealthCheck(
                f"{name}-{endpoint.role}-health",
                type="HTTPS",
                fqdn=endpoint.hostname,
                port=443,
                resource_path=settings.health_check_path,
                request_interval=settings.health_check_interval_seconds,
                failure_threshold=settings.health_check_failure_threshold,
                measure_latency=True,
                enable_sni=True,
                tags={"Name": f"{settings.api_fqdn} {endpoint.role}"},
                opts=child(self),
            )
            self.health_check_ids[endpoint.role] = check.id
            aws.route53.Record(
                f"{name}-{endpoint.role}-record",
                zone_id=args.zone_id,
                name=settings.api_fqdn,
                type="CNAME",
                ttl=RECORD_TTL_SECONDS,
                records=[endpoint.hostname],
                set_identifier=endpoint.role,
                failover_routing_policies=[
                    aws.route53.RecordFailoverRoutingPolicyArgs(type=failover_type)
                ],
                health_check_id=check.id,
                opts=child(self),
            )
        self.register_outputs({"apiFqdn": settings.api_fqdn})
